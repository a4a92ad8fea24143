"""Link Bank and Accounts (DESIGN 2): the portal's linking flow as a state machine.

A caller (the TUI's Link wizard or ``kosma-tui link``) renders each Step's
form with the shared form model and hands the values back::

    start = resolve_start_date(store, company, text)
    flow = LinkFlow(store, client, company, start)
    step = await flow.start()
    while step.state != FINISHED:
        if step.state == CONSUMER_INPUT_NEEDED:   # step.error set: say it, ask again
            step = await flow.submit(values)
        else:                                     # PROCESSING: a decoupled approval
            step = await flow.poll()
    result = await flow.fetch_result()            # also ends the portal session
    summary = flow.save(result, chosen_ids)

A terminal step (ABORTED / EXCEPTION) or any portal failure ends the portal
session and raises the typed ``PortalError``. A session left ``Running`` by a
run that died is ended by the next ``start`` (a session whose run is still
alive holds a lock file and is left alone).

One idea a module: ``flow`` the state machine, ``sessions`` the recovery of
sessions a dead run left open, ``saving`` Bank/Bank Accounts/Bank Consent from
the result, ``start_date`` the Start Date and transaction-limit rules,
``steps`` what a form step asks for (read once for the TUI and the command),
``failures`` how a flow ends badly. This module only re-exports.
"""

from kosma_tui.core.linking.company import company_or_error
from kosma_tui.core.linking.failures import LinkCancelled, failure
from kosma_tui.core.linking.flow import DEFAULT_POLL_MS, LinkFlow
from kosma_tui.core.linking.saving import (
    LinkSummary,
    account_name,
    bank_record_name,
    save_link,
)
from kosma_tui.core.linking.sessions import CANCEL_TIMEOUT, end_abandoned_sessions
from kosma_tui.core.linking.start_date import (
    LIMIT_WARNING,
    StartDate,
    default_start_text,
    fiscal_year_start,
    oldest_integration_date,
    renewal_note,
    resolve_start_date,
)

__all__ = [
    "CANCEL_TIMEOUT",
    "DEFAULT_POLL_MS",
    "LIMIT_WARNING",
    "LinkCancelled",
    "LinkFlow",
    "LinkSummary",
    "StartDate",
    "account_name",
    "bank_record_name",
    "company_or_error",
    "default_start_text",
    "end_abandoned_sessions",
    "failure",
    "fiscal_year_start",
    "oldest_integration_date",
    "renewal_note",
    "resolve_start_date",
    "save_link",
]

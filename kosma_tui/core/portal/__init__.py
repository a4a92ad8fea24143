"""The banking portal client (PROTOCOL.md), one idea per module.

- ``results``: the typed records the calls return;
- ``parse``: protocol objects read into those records (with ``core.reader``);
- ``address``: the admin URL check and the attended IP address;
- ``trust``: the certificates a portal's TLS must chain to;
- ``transport``: one bounded HTTP exchange (deadline, size cap);
- ``answers``: an answer read into its message or its ``PortalError``;
- ``client``: ``PortalClient``, one async method per protocol call, retrying
  under ``core.retry``'s policy.

Callers import from here; the modules are the package's own layout.
"""

from kosma_tui.core.portal.address import attended_ip, check_admin_url
from kosma_tui.core.portal.client import CALL_BUDGET, MAX_PAGE_SIZE, PortalClient
from kosma_tui.core.portal.parse import parse_account
from kosma_tui.core.portal.results import (
    Amount,
    Balances,
    BankData,
    ClientToken,
    ConsentData,
    LinkResult,
    NextPage,
    PortalAccount,
    Rotated,
    Subscription,
    TransactionPage,
)
from kosma_tui.core.portal.transport import (
    AUTH_HEADER,
    CALL_DEADLINE,
    MAX_ANSWER_BYTES,
    METHOD_PREFIX,
    AnswerTooLarge,
)
from kosma_tui.core.portal.trust import CA_FILE_ENV, trust_context

__all__ = [
    "AUTH_HEADER",
    "CALL_BUDGET",
    "CALL_DEADLINE",
    "CA_FILE_ENV",
    "MAX_ANSWER_BYTES",
    "MAX_PAGE_SIZE",
    "METHOD_PREFIX",
    "Amount",
    "AnswerTooLarge",
    "Balances",
    "BankData",
    "ClientToken",
    "ConsentData",
    "LinkResult",
    "NextPage",
    "PortalAccount",
    "PortalClient",
    "Rotated",
    "Subscription",
    "TransactionPage",
    "attended_ip",
    "check_admin_url",
    "parse_account",
    "trust_context",
]

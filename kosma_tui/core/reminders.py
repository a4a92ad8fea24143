"""Reminders by mail (DESIGN 8): for the admin whose daily job runs from cron and who
never opens the TUI, before a Bank Consent runs out and the daily job fails.

At most one mail per consent and day (local date) while it expires within
``reminder_days`` or has expired, however often the daily job or ``kosma-tui
remind`` runs: the day of the last mail is noted in the store, and the check,
the mail and the note happen under one lock so that two runs at once send one.
A failed mail is not noted, so the next run tries again.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kosma_tui.core import clock, mail
from kosma_tui.core.errors import KosmaError, Problem
from kosma_tui.core.records import BankConsent, BankingSettings
from kosma_tui.core.sync.rules import ConsentState, consent_state, parse_expiry
from kosma_tui.core.text import safe_text

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

log = logging.getLogger("kosma_tui.reminders")

SENT, ALREADY_SENT, FAILED = "sent", "already_sent", "failed"


@dataclass
class Reminder:
    consent: BankConsent
    state: ConsentState
    mail: str  # sent | already_sent | failed
    error: Problem | None = None

    def as_json(self) -> dict[str, Any]:
        c = self.consent
        return {
            "consent": c.name,
            "bank": c.bank,
            "company": c.company,
            "consent_expiry": c.consent_expiry,
            "days_left": self.state.days_left,
            "status": self.state.status,
            "mail": self.mail,
            "error": self.error.as_json() if self.error else None,
        }


def due(store: Store) -> list[tuple[BankConsent, ConsentState]]:
    """Consents that expire within ``reminder_days`` or have expired, soonest first."""
    settings = store.settings()
    now = clock.now()
    states = [(c, consent_state(c, settings.reminder_days, now)) for c in store.consents()]
    return sorted(
        ((c, s) for c, s in states if s.status in ("expiring", "expired")),
        key=lambda item: (item[1].days_left, item[0].name.casefold()),
    )


def _when(consent: BankConsent) -> str:
    expiry = parse_expiry(consent)
    return f"{expiry.astimezone():%Y-%m-%d %H:%M}" if expiry else "an unknown date"


def _days(state: ConsentState) -> str:
    if state.status == "expired":
        return "has expired"
    if state.days_left == 0:
        return "expires today"
    if state.days_left == 1:
        return "expires tomorrow"
    return f"expires in {state.days_left} days"


def message_for(consent: BankConsent, state: ConsentState) -> tuple[str, str]:
    """(subject, body) of one consent's reminder: bank, company, expiry, days left,
    and how to renew."""
    bank, company = safe_text(consent.bank), safe_text(consent.company)  # one line each
    subject = f"Bank consent {bank} for {company} {_days(state)}"
    if state.status == "expired":
        effect = (
            "Its accounts are no longer synced: the daily job refuses them until the "
            "consent is renewed."
        )
    else:
        effect = (
            "When it expires, the daily job can no longer sync its accounts, and "
            "ERPNext's bank reconciliation runs short of transactions."
        )
    body = f"""The Bank Consent of {bank} for the company {company} {_days(state)}.

  Bank:        {bank}
  Company:     {company}
  Expiry:      {_when(consent)}
  Days left:   {max(state.days_left, 0)}

{effect}

To renew it, log in to {socket.gethostname()} and run

  kosma-tui

then choose Renew on the reminder (or on the Consents screen), or run

  kosma-tui link --company "{company}" --bank "{bank}"

and confirm the login at the bank. The Start Date is pre-filled so that no
transactions are missed.

This mail is sent at most once a day while the consent needs renewing,
by the kosma-tui daily job.
"""
    return subject, body


def send_due(store: Store) -> list[Reminder]:
    """Mail every due consent not yet reminded today; nothing when mail is not set up."""
    settings = store.settings()
    if not mail.configured(settings):
        return []
    today = clock.today().isoformat()
    out: list[Reminder] = []
    for consent, state in due(store):
        with store.reminders_lock():
            if store.reminder_sent_on(consent.name) == today:
                out.append(Reminder(consent, state, ALREADY_SENT))
                continue
            subject, body = message_for(consent, state)
            try:
                mail.send(settings, mail.compose(settings, subject, body))
            except KosmaError as exc:
                log.info("reminder for %s not mailed: %s", consent.name, exc.message)
                out.append(Reminder(consent, state, FAILED, Problem.from_error(exc)))
                continue
            store.note_reminder_sent(consent.name, today)
            log.info(
                "reminder for %s mailed to %d recipient(s)", consent.name, len(settings.mail_to)
            )
            out.append(Reminder(consent, state, SENT))
    return out


def send_test(settings: BankingSettings) -> None:
    """A test mail through the settings as they are (saved or not); MailError if not."""
    problem = mail.problems(settings)
    if problem:
        raise mail.MailError(problem, "Complete the mail settings first.")
    body = (
        f"This is a test mail from kosma-tui on {socket.gethostname()}.\n\n"
        "Reminders before a Bank Consent expires will reach you this way.\n"
    )
    mail.send(settings, mail.compose(settings, "kosma-tui test mail", body))

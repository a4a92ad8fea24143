"""How the integration stands: consents with days left, accounts, and one verdict.

The verdict follows the monitoring-plugin convention used by ``kosma-tui
status``: 0 OK, 1 a consent expires within ``reminder_days`` or the last
ERPNext push failed or left something needing attention, 2 a consent
has expired or an account's last sync failed or was refused. Reads no
transaction and needs no secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kosma_tui.core import clock, push_record
from kosma_tui.core.errors import StoreError
from kosma_tui.core.money import format_amount
from kosma_tui.core.records import Balance, BankAccount, BankConsent, LastSync
from kosma_tui.core.sync import balance_check, coverage
from kosma_tui.core.sync.rules import ConsentState, consent_state

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

OK, WARNING, CRITICAL = 0, 1, 2
LEVEL_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}


@dataclass
class Health:
    demo: bool
    consents: list[tuple[BankConsent, ConsentState]]
    accounts: list[BankAccount]
    erpnext_push: dict[str, Any] | None = None  # the last push's record, when there was one
    level: int = OK
    problems: list[str] = field(default_factory=list)  # one sentence each, worst first

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    def as_json(self) -> dict[str, Any]:
        """``status --json`` (DESIGN 4), plus ``demo``; no secret."""
        return {
            "demo": self.demo,
            "consents": [
                {
                    "name": c.name,
                    "bank": c.bank,
                    "company": c.company,
                    "consent_start": c.consent_start,
                    "consent_expiry": c.consent_expiry,
                    "days_left": state.days_left,
                    "status": state.status,
                }
                for c, state in self.consents
            ],
            "accounts": [
                {
                    "name": a.name,
                    "bank": a.bank,
                    "company": a.company,
                    "iban": a.iban,
                    "currency": a.currency,
                    "enabled": a.enabled,
                    "last_integration_date": a.last_integration_date or None,
                    "balance": a.balance.to_dict() if a.balance else None,
                    "last_sync": a.last_sync.to_dict() if a.last_sync else None,
                    "balance_check": balance_check.as_json(a),
                    "coverage": coverage.as_json(a.coverage),
                }
                for a in self.accounts
            ],
            "erpnext_push": None
            if self.erpnext_push is None
            else {
                "when": self.erpnext_push.get("when"),
                "unattended": self.erpnext_push.get("unattended"),
                "error": self.erpnext_push.get("error"),
                "attention": self.erpnext_push.get("attention") or [],
            },
        }


def health(store: Store) -> Health:
    settings = store.settings()
    now = clock.now()
    consents = sorted(store.consents(), key=lambda c: c.name.casefold())
    states = [(c, consent_state(c, settings.reminder_days, now)) for c in consents]
    accounts = sorted(store.accounts(), key=lambda a: (a.bank, a.company, a.name.casefold()))
    report = Health(settings.demo, states, accounts)
    critical: list[str] = []
    warning: list[str] = []
    for consent, state in states:
        if state.status == "expired":
            critical.append(f"The Bank Consent {consent.name} has expired; link the bank again.")
        elif state.status == "expiring":
            days = (
                "today"
                if state.days_left == 0
                else ("tomorrow" if state.days_left == 1 else f"in {state.days_left} days")
            )
            warning.append(f"The Bank Consent {consent.name} expires {days}; renew it.")
    lost = store.lost_sync_runs()
    if lost is not None:
        critical.append(lost.message)
    for account in accounts:
        try:  # store damage, reported for a disabled account too
            folder = store.missing_history(account)
        except StoreError:
            folder = None  # the Sync Runs are unreadable: said above
        if folder is not None:
            critical.append(
                f"The transactions of '{account.name}' are missing: their folder {folder} is gone."
            )
        if not account.enabled:  # kept for its history, switched off: not a problem
            continue
        last = account.last_sync or LastSync()
        outcome = last.outcome
        if outcome in ("failed", "refused"):
            error = last.error or {}
            critical.append(
                f"The last sync of '{account.name}' {outcome}: "
                f"{error.get('message', 'no reason recorded.')}"
            )
        if balance_check.is_mismatch(account):
            warning.append(mismatch_sentence(account))
    # A failed ERPNext push (or a reconciliation that needs a person) warns until a
    # push succeeds.
    report.erpnext_push = push_record.read(store)
    warning.extend(push_record.problems(store))
    report.problems = critical + warning
    report.level = CRITICAL if critical else WARNING if warning else OK
    return report


def mismatch_sentence(account: BankAccount) -> str:
    """What a balance mismatch means, in one sentence with the amounts."""
    check = account.balance_check
    currency = (account.balance or Balance()).currency or account.currency

    def money(amount: int) -> str:
        return f"{format_amount(amount, currency)} {currency}"

    return (
        f"The balance of '{account.name}' does not add up: the bank reports "
        f"{money(check['reported'])} on {check.get('as_of') or 'its last date'}, the stored "
        f"transactions give {money(check['expected'])} (difference "
        f"{format_amount(check['difference'], currency, sign=True)} {currency}); a booking "
        f"is missing or doubled. A late booking clears it at a later sync."
    )

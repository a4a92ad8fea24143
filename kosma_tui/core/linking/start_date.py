"""The Start Date of a link and its rules (DESIGN 2).

Empty means the company's fiscal year start, never in the future; an earlier
date than today counts against the plan's transaction limit (a warning); a
renewal defaults to the oldest Last Integration Date so that no gap opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from kosma_tui.core import clock, validation
from kosma_tui.core.errors import UsageError
from kosma_tui.core.linking.company import company_or_error
from kosma_tui.core.records import BankConsent, Company

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

LIMIT_WARNING = (
    "Transactions from {start} to {end} will be read, and they count against the "
    "transaction limit of the current billing period."
)


@dataclass
class StartDate:
    """The Start Date of a link after its rules (DESIGN 2)."""

    date: date
    warning: str | None = None  # set when before today: older transactions cost plan limit


def fiscal_year_start(company: Company, today: date) -> date:
    """The first day of the company's fiscal year that contains ``today``."""
    month, day = (int(part) for part in company.fiscal_year_start.split("-"))
    start = date(today.year, month, day)
    return start if start <= today else date(today.year - 1, month, day)


def resolve_start_date(store: Store, company: str, text: str | None) -> StartDate:
    """The Start Date typed as ``text``: empty means the company's current fiscal year start.

    A future date, an invalid one or an unknown company is a ``UsageError``.
    """
    record = company_or_error(store, company)
    today = clock.today()
    value = (text or "").strip()
    if not value:
        chosen = fiscal_year_start(record, today)
    elif value.casefold() == "today":
        chosen = today
    else:
        chosen = validation.iso_date(value, "Start Date")
    if chosen > today:
        raise UsageError(
            f"The Start Date {chosen.isoformat()} is in the future.",
            "Choose today or an earlier date.",
        )
    warning = None
    if chosen < today:
        warning = LIMIT_WARNING.format(
            start=chosen.isoformat(), end=(today - timedelta(days=1)).isoformat()
        )
    return StartDate(chosen, warning)


def oldest_integration_date(store: Store, company: str, bank: str) -> date | None:
    """Where the stored history of this bank's accounts of this company ends (no gap).

    The oldest Last Integration Date; when none was synced yet but a consent
    exists, its consent start (sync would have started there).
    """
    dates = [
        a.last_integration_date
        for a in store.accounts(bank=bank, company=company)
        if a.last_integration_date
    ]
    if dates:
        return date.fromisoformat(min(dates))
    consent = store.consent(BankConsent.name_for(bank, company))
    if consent is not None and consent.consent_start:
        return date.fromisoformat(consent.consent_start)
    return None


def default_start_text(store: Store, company: str, bank: str | None = None) -> str:
    """Today, or for a renewal of ``bank`` the oldest Last Integration Date (no gap)."""
    today = clock.today()
    if bank:
        oldest = oldest_integration_date(store, company, bank)
        if oldest is not None:
            return min(oldest, today).isoformat()
    return today.isoformat()


def renewal_note(store: Store, company: str, bank: str, chosen: date) -> str | None:
    """A sentence when ``chosen`` lies after the oldest Last Integration Date (a gap)."""
    oldest = oldest_integration_date(store, company, bank)
    if oldest is None or chosen <= oldest:
        return None
    return (
        f"The accounts of {bank} for {company} are synced up to {oldest.isoformat()}; with "
        f"the Start Date {chosen.isoformat()} the transactions in between can never be "
        f"synced; the gap will be recorded in the accounts' coverage. Choose "
        f"{oldest.isoformat()} to leave no gap."
    )

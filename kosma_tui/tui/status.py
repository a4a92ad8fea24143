"""Read-only views of the store for the screens (no rules here: they come from core.sync)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kosma_tui.core import clock
from kosma_tui.core.records import BankAccount, BankConsent
from kosma_tui.core.sync import consent_state

if TYPE_CHECKING:
    from kosma_tui.core.store import Store


@dataclass(frozen=True)
class ConsentView:
    consent: BankConsent
    days_left: int
    status: str  # active | expiring | expired

    @property
    def expiry_day(self) -> str:
        try:
            moment = datetime.fromisoformat(self.consent.consent_expiry)
        except ValueError:
            return "-"
        return clock.local_date(moment).isoformat()

    @property
    def days_text(self) -> str:
        return "expired" if self.status == "expired" else f"{self.days_left} d"

    @property
    def style(self) -> str:
        """Amber inside reminder_days, red when expired (DESIGN 3)."""
        return {"expired": "bold red", "expiring": "bold #ffaf00"}.get(self.status, "")


def consent_views(store: Store) -> dict[str, ConsentView]:
    days = store.settings().reminder_days
    views = {}
    for consent in store.consents():
        state = consent_state(consent, days)
        views[consent.name] = ConsentView(consent, state.days_left, state.status)
    return views


def consent_for(views: dict[str, ConsentView], account: BankAccount) -> ConsentView | None:
    return views.get(BankConsent.name_for(account.bank, account.company))


def when_text(iso: str) -> str:
    """``today 09:00``, ``yesterday 18:12`` or ``2026-11-20 09:00`` for a stored timestamp."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso[:16]
    local = clock.local_date(moment)
    delta = (clock.today() - local).days
    at = moment.astimezone(clock.now().tzinfo) if moment.tzinfo else moment
    label = {0: "today", 1: "yesterday"}.get(delta, local.isoformat())
    return f"{label} {at:%H:%M}"

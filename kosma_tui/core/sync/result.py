"""What a sync reports: its progress while it runs and its result when it ends.

``SyncProgress`` goes to whoever watches (the Sync screen, ``sync`` on a
terminal); ``SyncResult`` is one item of ``sync --json`` and the Sync Run's
figures. The page helpers turn a page of transactions into how far the sync
has come and up to which day every transaction was read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kosma_tui.core.errors import KosmaError, Problem

# ids a sync keeps for the push after it; past this the push reads the whole history
STORED_IDS_KEPT = 20_000


@dataclass
class SyncProgress:
    account: str
    phase: str  # balances | transactions | saving | done
    page: int = 0
    fetched: int = 0
    new: int = 0
    # how far through the dates from the start date to today the pages have come (0-1,
    # transactions arrive oldest first), 1.0 when done; None before the first page
    fraction: float | None = None


def page_fraction(transactions: list[dict[str, Any]], start: date, today: date) -> float | None:
    """The share of the days from ``start`` to ``today`` read so far: the date of the
    page's last (newest) transaction, clamped to [0, 1]; None for a page without a date."""
    for tx in reversed(transactions):
        day = tx.get("value_date") or tx.get("booking_date") or tx.get("date")
        if isinstance(day, str):
            try:
                when = date.fromisoformat(day[:10])
            except ValueError:
                continue
            span = (today - start).days
            if span <= 0:
                return 1.0
            return min(1.0, max(0.0, (when - start).days / span))
    return None


def read_through(transactions: list[dict[str, Any]]) -> str:
    """The last day whose transactions were all read once this page (not the last) is:
    the day before its newest booking date (that day may go on on the next page)."""
    for tx in reversed(transactions):
        day = tx.get("booking_date") or tx.get("date") or tx.get("value_date")
        if isinstance(day, str):
            try:
                return (date.fromisoformat(day[:10]) - timedelta(days=1)).isoformat()
            except ValueError:
                continue
    return ""


# why a sync stopped early, for "stopped at D: <why>; the next sync continues from there"
STOP_REASONS = {
    "PLAN.LIMIT_EXCEEDED": "transaction limit used up",
    "CANCELLED": "the sync was stopped",
    "UNREACHABLE": "the banking portal could not be reached",
    "RATE_LIMITED": "the banking portal asked to slow down",
}


def stop_note(read_through: str, code: str) -> str:
    reason = next(
        (why for prefix, why in STOP_REASONS.items() if code.startswith(prefix)),
        f"it failed ({code})",
    )
    return f"stopped at {read_through}: {reason}; the next sync continues from there"


@dataclass
class SyncResult:
    name: str
    status: str  # ok | failed | refused
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    matched: int = 0
    error: Problem | None = None
    # detail kept on the Sync Run, not part of ``sync --json``
    skipped_duplicate: int = 0
    skipped_pending: int = 0
    skipped_cancelled: int = 0
    pages: int = 0
    last_integration_date: str = ""
    # how much the written rows and changes moved the account's settled total
    settled_delta: int = 0
    settled_exact: bool = True
    # the days read: from read_from to read_through, both whole (empty: none); coverage
    read_from: str = ""
    read_through: str = ""
    # an early stop that kept its progress: "stopped at D: why; the next sync continues..."
    stopped: str = ""
    # an ERPNext auto-push failure: the sync stays done (status "ok"), but the
    # command exits 1 and names it
    push_error: Problem | None = None
    # the transaction ids this sync added or changed in the store (for the push); None
    # once there are more than STORED_IDS_KEPT: the push then reads the whole history,
    # as it would for an account's first sync, and memory stays flat at a million rows
    stored_ids: list[str] | None = field(default_factory=list)

    def add_stored(self, ids: Iterable[str]) -> None:
        if self.stored_ids is not None:
            self.stored_ids.extend(ids)
            if len(self.stored_ids) > STORED_IDS_KEPT:
                self.stored_ids = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_json(self) -> dict[str, Any]:
        """One item of ``sync --json`` (DESIGN 4)."""
        return {
            "name": self.name,
            "status": self.status,
            "fetched": self.fetched,
            "new": self.new,
            "updated": self.updated,
            "skipped": self.skipped,
            "matched": self.matched,
            "error": self.error.as_json() if self.error else None,
            "last_integration_date": self.last_integration_date or None,
            "read_through": self.read_through or None,
            "stopped": self.stopped or None,
            "push_error": self.push_error.as_json() if self.push_error else None,
        }


class SyncCancelled(KosmaError):
    code = "CANCELLED"

    def __init__(self, account: str) -> None:
        super().__init__(
            f"The sync of '{account}' was cancelled before it finished; what was read is kept.",
            "Sync it again to read the rest.",
        )

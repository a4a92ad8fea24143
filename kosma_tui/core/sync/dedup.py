"""What a sync knows of the stored transactions: only the months its pages reach.

A first sync of a million transactions must not hold a million ids. Pages
arrive oldest first, so the sync keeps the ids of the months around the
page it is reading (the book's ``with_neighbours``), every Pending id (the
only rows whose date may still move, few), and the ids it stored itself,
filed under the month of the page that brought them. A month the pages have
left behind is forgotten; should a later page reach back into it, its ids
are read again from the book, which by then holds everything flushed, and
the ids of rows not yet flushed are kept until they are.
"""

from __future__ import annotations

from typing import Any

from kosma_tui.core.store.book import UNDATED, TransactionBook, month_of, with_neighbours


class KnownIds(dict[str, str]):
    """transaction_id -> stored status, for the months a sync is in. Reads are plain
    dict lookups (the hot path); writes also file the id under its month."""

    def __init__(self, book: TransactionBook, batch: Any) -> None:
        super().__init__(book.pending())
        self._book = book
        self._batch = batch  # its ``fresh`` rows are not flushed yet: never forgotten
        self._months: dict[str, list[str]] = {}  # month -> ids filed under it
        self._filing: list[str] = []  # where ids set by the current page go

    def __setitem__(self, tid: str, status: str) -> None:
        if tid not in self:
            self._filing.append(tid)
        dict.__setitem__(self, tid, status)

    def cover(self, transactions: list[Any]) -> None:
        """Hold the ids of every month this page's transactions may be stored in, and
        forget the months more than one before the page's oldest."""
        months = {month_of(_day(tx)) for tx in transactions}
        if not months:
            return
        wanted = with_neighbours(months)
        missing = wanted - self._months.keys()
        if missing:
            for month, ids in self._book.statuses(missing).items():
                filed = self._months[month] = []
                for tid, status in ids.items():
                    if tid not in self:
                        dict.__setitem__(self, tid, status)
                        filed.append(tid)
        floor = min(wanted - {UNDATED})
        unflushed = self._batch.fresh
        for month in [m for m in self._months if m != UNDATED and m < floor]:
            for tid in self._months.pop(month):
                if tid not in unflushed:
                    self.pop(tid, None)
        self._filing = self._months[max(months)]


def _day(tx: Any) -> Any:
    """The date a row of ``tx`` is stored under (as ``rows.to_row`` takes it)."""
    if type(tx) is not dict:
        return None
    return tx.get("value_date") or tx.get("booking_date") or tx.get("date")

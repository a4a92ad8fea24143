"""What a sync holds of the stored ids: the months its pages reach, not the history."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

from store_support import daily_rows, make_row

from kosma_tui.core.records import BankAccount
from kosma_tui.core.store import Store
from kosma_tui.core.sync.dedup import KnownIds

PER_DAY = 10


def page_of(day: date) -> list[dict]:
    """A protocol page of one day (the dates are what matters here)."""
    return [
        {
            "transaction_id": f"new-{day}-{i}",
            "value_date": day.isoformat(),
            "booking_date": day.isoformat(),
        }
        for i in range(3)
    ]


def test_known_ids_follow_the_pages_and_forget_the_months_left_behind(home: Path) -> None:
    store = Store.open()
    store.save_account(BankAccount("Giro (Max)", "Demo Bank", "Demo Company"))
    book = store.book(store.account("Giro (Max)"))
    stored = daily_rows(0, 7_300, per_day=PER_DAY)  # 2022-01-01 .. 2023-12-31
    pending = make_row(99_000, "2022-02-03", status="Pending")
    book.append([*stored, pending])
    batch = SimpleNamespace(fresh={})
    known = KnownIds(book, batch)
    assert known == {pending["transaction_id"]: "Pending"}  # before any page: Pending only

    biggest = 0
    day = date(2022, 1, 1)
    while day <= date(2023, 12, 31):
        known.cover(page_of(day))
        same_day = stored[(day - date(2022, 1, 1)).days * PER_DAY]
        assert known.get(same_day["transaction_id"]) == "Settled"
        biggest = max(biggest, len(known))
        day += timedelta(days=7)
    assert biggest <= 4 * 31 * PER_DAY + 1  # about three months, never the 7,300
    assert pending["transaction_id"] in known  # whatever month it may come back in

    # an id this sync read but has not flushed is never forgotten
    known.cover(page_of(date(2023, 12, 30)))
    known["new-unflushed"] = "Settled"
    batch.fresh["new-unflushed"] = {"status": "Settled"}
    known.cover(page_of(date(2024, 6, 1)))
    assert known.get("new-unflushed") == "Settled"

    # a page reaching back into a month left behind reads its ids again
    assert known.get(stored[0]["transaction_id"]) is None
    known.cover(page_of(date(2022, 1, 1)))
    assert known.get(stored[0]["transaction_id"]) == "Settled"

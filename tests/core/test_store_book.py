"""Bank Transactions of one account: chunked files, dedup, order, recovery."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from store_support import child, daily_rows, make_row

from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import Paths, resolve_paths
from kosma_tui.core.records import BankAccount
from kosma_tui.core.store import Store, TransactionBook
from kosma_tui.core.store.book import GROW_LIMIT


@pytest.fixture
def paths(home: Path) -> Paths:
    return resolve_paths()


@pytest.fixture
def store(paths: Paths) -> Store:
    return Store.open(paths)


@pytest.fixture
def account(store: Store) -> BankAccount:
    giro = BankAccount("Giro (Max)", "Demo Bank", "Demo Company")
    store.save_account(giro)
    return giro


@pytest.fixture
def book(store: Store, account: BankAccount) -> TransactionBook:
    return store.book(account)


def fresh_book(paths: Paths, name: str = "Giro (Max)") -> TransactionBook:
    """The same book as another process sees it (nothing cached)."""
    other = Store.open(paths)
    return other.book(other.account(name))


def folder(store: Store, account: BankAccount) -> Path:
    return store.paths.store_dir / "transactions" / account.key


def test_append_dedups_and_keeps_rows_without_id(book: TransactionBook) -> None:
    rows = [make_row(1), make_row(2), make_row(2), make_row(3, transaction_id=""),
            make_row(4, transaction_id="")]
    assert book.append(rows) == 4
    assert book.append([make_row(1), make_row(5)]) == 1
    assert book.count() == 5
    assert set(book.ids()) == {make_row(n)["transaction_id"] for n in (1, 2, 5)}
    assert book.append([]) == 0
    assert rows[0]["raw"]["transaction_id"] == rows[0]["transaction_id"]  # caller's rows intact


def test_rows_come_back_whole_newest_first(book: TransactionBook) -> None:
    days = ["2024-05-03", "2024-04-30", "2024-05-03", "2023-12-31", "2024-05-01", ""]
    rows = [make_row(i, day) for i, day in enumerate(days)]
    book.append(rows)
    stored = book.all_rows()
    assert [r["date"] for r in stored] == ["2024-05-03", "2024-05-03", "2024-05-01",
                                           "2024-04-30", "2023-12-31", ""]
    assert [r["transaction_id"] for r in stored[:2]] == [rows[0]["transaction_id"],
                                                         rows[2]["transaction_id"]]  # stable
    assert stored[0] == rows[0]
    assert all("raw" not in r for r in book.all_rows(raw=False))
    assert [r["date"] for r in book.rows(newest_first=False)] == [
        "", "2023-12-31", "2024-04-30", "2024-05-01", "2024-05-03", "2024-05-03"]
    assert list(book.rows()) == stored
    assert (book.oldest_date(), book.newest_date()) == ("2023-12-31", "2024-05-03")
    assert book.get(rows[3]["transaction_id"]) == rows[3]
    assert book.get("unknown") is None


def test_empty_book(book: TransactionBook) -> None:
    assert (book.count(), book.ids(), book.all_rows(), list(book.rows())) == (0, {}, [], [])
    assert (book.oldest_date(), book.newest_date()) == (None, None)
    assert book.rows_page(0, 10) == [] and book.oldest_rows(5) == []
    assert book.update({"x": {"status": "Settled"}}) == 0


def test_pages_and_oldest_rows_match_all_rows(book: TransactionBook) -> None:
    book.append(daily_rows(0, 4_000, per_day=40))
    book.append([make_row(90_000 + i, "") for i in range(3)])
    everything = book.all_rows(raw=False)
    assert len(everything) == 4_003
    for offset, limit in [(0, 10), (5, 1_000), (1_180, 50), (3_990, 100), (4_100, 5)]:
        assert book.rows_page(offset, limit, raw=False) == everything[offset:offset + limit]
    assert book.oldest_rows(25, raw=False) == everything[-25:]
    assert book.oldest_rows(10_000, raw=False) == everything


def test_update_changes_fields_status_and_raw(book: TransactionBook, paths: Paths) -> None:
    pending = make_row(1, "2024-05-02", status="Pending")
    book.append([pending, make_row(2, "2024-05-02")])
    tid = pending["transaction_id"]
    changed = book.update({tid: {"status": "Settled", "party_type": "Customer",
                                 "party": "ACME", "raw": {"state": "PROCESSED"}},
                           "unknown": {"status": "Cancelled"}})
    assert changed == 1
    assert book.ids()[tid] == "Settled"
    row = book.get(tid)
    assert (row["status"], row["party"], row["raw"]) == ("Settled", "ACME", {"state": "PROCESSED"})
    assert fresh_book(paths).ids()[tid] == "Settled"


def test_update_moving_a_date_keeps_the_order(book: TransactionBook) -> None:
    rows = daily_rows(0, 300, per_day=10)  # 30 days from 2022-01-01
    book.append(rows)
    book.update({rows[0]["transaction_id"]: {"date": "2022-03-15"}})
    dates = [r["date"] for r in book.all_rows(raw=False)]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == "2022-03-15"
    assert book.rows_page(0, 1)[0]["transaction_id"] == rows[0]["transaction_id"]
    assert book.newest_date() == "2022-03-15"


def changed_files(before: dict[str, tuple[int, int]], directory: Path) -> list[Path]:
    return [p for p in directory.iterdir()
            if before.get(p.name) != (p.stat().st_ino, p.stat().st_mtime_ns)]


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in directory.iterdir()}


def rows_in(path: Path) -> int:
    return len(orjson.loads(path.read_bytes())["transactions"])


def test_appending_a_page_to_a_big_book_rewrites_few_rows(
    store: Store, account: BankAccount, book: TransactionBook
) -> None:
    for first in range(0, 30_000, 1_000):
        book.append(daily_rows(first, 1_000))
    directory = folder(store, account)
    before = snapshot(directory)
    book.append(daily_rows(30_000, 1_000))
    chunks = [p for p in changed_files(before, directory) if p.name.count(".") == 2]
    assert chunks, "the page was written somewhere"
    # the page itself plus at most the small open chunk of each month it touches
    assert sum(rows_in(p) for p in chunks) <= 1_000 + 2 * GROW_LIMIT
    assert book.count() == 31_000

    # update rewrites only the chunks holding the ids
    target = book.rows_page(15_000, 3, raw=False)
    before = snapshot(directory)
    book.update({r["transaction_id"]: {"status": "Cancelled"} for r in target})
    rewritten = [p for p in changed_files(before, directory) if p.name.count(".") == 2]
    assert 1 <= len(rewritten) <= 3
    assert sum(rows_in(p) for p in rewritten) <= 3 * 5_000


def test_other_processes_writes_are_seen(paths: Paths, book: TransactionBook) -> None:
    book.append([make_row(1)])
    other = fresh_book(paths)
    assert other.count() == 1
    other.append([make_row(2)])
    other.update({make_row(1)["transaction_id"]: {"status": "Cancelled"}})
    assert book.count() == 2
    assert book.ids()[make_row(1)["transaction_id"]] == "Cancelled"
    assert book.append([make_row(2)]) == 0


def test_missing_or_damaged_index_and_ids_are_rebuilt(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    book.append(daily_rows(0, 3_000))
    ids = book.ids()
    directory = folder(store, account)
    (directory / "index.json").unlink()
    assert fresh_book(paths).ids() == ids
    (directory / "index.json").write_bytes(b"{garbage")
    assert fresh_book(paths).count() == 3_000
    shard = next(directory.glob("*.ids.json"))
    shard.write_bytes(b"[")
    assert fresh_book(paths).ids() == ids


def test_chunk_written_without_its_index_is_found(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    """A writer killed after its chunk files and before its index: no row is lost
    or stored twice, in a fresh process and in one that had the book open."""
    book.append(daily_rows(0, 500))
    directory = folder(store, account)
    old_index = (directory / "index.json").read_bytes()
    writer = fresh_book(paths)

    def killed() -> None:
        raise KeyboardInterrupt

    writer._write_index = killed  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        writer.append(daily_rows(500, 200))
    assert (directory / "index.json").read_bytes() == old_index
    assert book.append(daily_rows(0, 700)) == 0  # the open book sees the orphan rows
    assert book.count() == 700
    assert fresh_book(paths).count() == 700


def test_corrupt_chunk_is_an_error_naming_it_and_untouched(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    book.append(daily_rows(0, 300))
    directory = folder(store, account)
    chunk = next(p for p in directory.glob("*.json") if p.name.count(".") == 2)
    chunk.write_bytes(b'{"transactions": {"1": ')
    for attempt in (book.all_rows, lambda: fresh_book(paths).ids(),
                    lambda: fresh_book(paths).append([make_row(10_000, "2022-01-01")])):
        with pytest.raises(StoreError) as info:
            attempt()
        assert str(chunk) in info.value.message
    assert chunk.read_bytes() == b'{"transactions": {"1": '


def test_missing_chunk_is_an_error(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    book.append(daily_rows(0, 300))
    chunk = next(p for p in folder(store, account).glob("*.json") if p.name.count(".") == 2)
    chunk.unlink()
    with pytest.raises(StoreError, match="is missing") as info:
        fresh_book(paths).count()
    assert str(chunk) in info.value.message


def test_files_are_private(store: Store, account: BankAccount, book: TransactionBook) -> None:
    book.append([make_row(1)])
    directory = folder(store, account)
    assert directory.stat().st_mode & 0o777 == 0o700
    assert directory.parent.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in directory.iterdir()} == {0o600}
    assert not any(p.name.endswith(".tmp") for p in directory.iterdir())


APPENDER = """
import sys
from store_support import daily_rows
from kosma_tui.core.store import Store
store = Store.open()
book = store.book(store.account("Giro (Max)"))
start = int(sys.argv[1])
for first in range(start, start + 6_000, 300):
    book.append(daily_rows(first, 300, per_day=20))
"""


def test_two_processes_appending_to_one_book(
    book: TransactionBook, home: Path, paths: Paths
) -> None:
    writers = [child(APPENDER, home, start) for start in ("0", "3000")]  # half overlapping
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    rows = fresh_book(paths).all_rows(raw=False)
    assert len(rows) == 9_000
    assert len({r["transaction_id"] for r in rows}) == 9_000
    assert book.count() == 9_000 and len(book.ids()) == 9_000


def test_leftover_temp_files_are_removed(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    book.append([make_row(1)])
    directory = folder(store, account)
    leftovers = [directory / ".2024-05.001.json.abc.tmp", paths.store_dir / ".meta.json.x.tmp"]
    for leftover in leftovers:
        leftover.write_bytes(b"half")
    assert fresh_book(paths).count() == 1
    assert not any(p.exists() for p in leftovers)
    assert os.listdir(directory)

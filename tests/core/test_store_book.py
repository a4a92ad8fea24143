"""Bank Transactions of one account: chunked files, dedup, order, recovery."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import orjson
import pytest
from store_support import child, daily_rows, make_row

from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import Paths, resolve_paths
from kosma_tui.core.records import BankAccount
from kosma_tui.core.store import Store, TransactionBook
from kosma_tui.core.store.book import GROW_LIMIT, SHARDS_CACHED
from kosma_tui.core.store.search import parse_query


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
    rows = [
        make_row(1),
        make_row(2),
        make_row(2),
        make_row(3, transaction_id=""),
        make_row(4, transaction_id=""),
    ]
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
    assert [r["date"] for r in stored] == [
        "2024-05-03",
        "2024-05-03",
        "2024-05-01",
        "2024-04-30",
        "2023-12-31",
        "",
    ]
    assert [r["transaction_id"] for r in stored[:2]] == [
        rows[0]["transaction_id"],
        rows[2]["transaction_id"],
    ]  # stable
    assert stored[0] == rows[0]
    assert all("raw" not in r for r in book.all_rows(raw=False))
    assert [r["date"] for r in book.rows(newest_first=False)] == [
        "",
        "2023-12-31",
        "2024-04-30",
        "2024-05-01",
        "2024-05-03",
        "2024-05-03",
    ]
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
        assert book.rows_page(offset, limit, raw=False) == everything[offset : offset + limit]
    assert book.oldest_rows(25, raw=False) == everything[-25:]
    assert book.oldest_rows(10_000, raw=False) == everything


def test_update_changes_fields_status_and_raw(book: TransactionBook, paths: Paths) -> None:
    pending = make_row(1, "2024-05-02", status="Pending")
    book.append([pending, make_row(2, "2024-05-02")])
    tid = pending["transaction_id"]
    changed = book.update(
        {
            tid: {
                "status": "Settled",
                "party_type": "Customer",
                "party": "ACME",
                "raw": {"state": "PROCESSED"},
            },
            "unknown": {"status": "Cancelled"},
        }
    )
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
    return [
        p
        for p in directory.iterdir()
        if before.get(p.name) != (p.stat().st_ino, p.stat().st_mtime_ns)
    ]


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
    for attempt in (
        book.all_rows,
        lambda: fresh_book(paths).ids(),
        lambda: fresh_book(paths).append([make_row(10_000, "2022-01-01")]),
    ):
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


# -- memory that follows the months touched, not the history ---------------------------


def test_dedup_reads_only_the_months_a_page_falls_in(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    """A page of June is checked against June, not against the history; and however
    much is read, a few months of ids stay cached at most."""
    book.append(daily_rows(0, 7_300, per_day=10))  # 2022-01-01 .. 2023-12-31
    other = fresh_book(paths)
    again = daily_rows(1_700, 10, per_day=10)  # 2022-06-20 .., already stored
    assert other.append([*again, make_row(99_999, "2022-06-21")]) == 1
    assert {name[:7] for name in other._shards} == {"2022-06"}
    assert other.statuses(["2022-06"])["2022-06"][again[0]["transaction_id"]] == "Settled"
    assert len(other.ids()) == 7_301
    assert len(other._shards) <= SHARDS_CACHED < 24 * 2


def test_a_pending_row_is_known_whatever_date_it_comes_back_with(
    book: TransactionBook, paths: Paths
) -> None:
    pending = make_row(1, "2022-01-31", status="Pending")
    book.append([pending, *daily_rows(10, 2_000, per_day=10)])
    moved = make_row(1, "2022-05-02")  # settled months later, under the same id
    assert fresh_book(paths).pending() == {pending["transaction_id"]: "Pending"}
    assert fresh_book(paths).append([moved]) == 0
    assert book.update({pending["transaction_id"]: {"status": "Settled"}}) == 1
    assert fresh_book(paths).pending() == {}
    assert fresh_book(paths).get(pending["transaction_id"])["status"] == "Settled"


def test_an_index_of_the_previous_format_is_completed(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    """A store written before the search lines and the Pending ids: it loads, its
    Pending rows are known, and the filter builds what is missing."""
    book.append([make_row(1, "2022-01-05", status="Pending"), *daily_rows(10, 1_500)])
    directory = folder(store, account)
    index = orjson.loads((directory / "index.json").read_bytes())
    index["format"] = 1
    for entry in index["chunks"].values():
        for key in ("pending", "named", "settled"):
            del entry[key]
        del entry["files"]["find"]
    (directory / "index.json").write_bytes(orjson.dumps(index))
    for path in directory.glob("*.find.txt"):
        path.unlink()
    other = fresh_book(paths)
    assert other.pending() == {make_row(1)["transaction_id"]: "Pending"}
    assert other.tally() == [1_501, 1_500]  # [ids, of which Settled], learned once
    assert orjson.loads((directory / "index.json").read_bytes())["format"] == 2
    hits = other.search(parse_query("RE-0000012"))
    assert [r["transaction_id"] for r in other.fetch(hits)] == [make_row(12)["transaction_id"]]
    assert len(list(directory.glob("*.find.txt"))) == len(index["chunks"])


# -- the filter's search lines -------------------------------------------------------------


def found(book: TransactionBook, text: str) -> list[str]:
    return [r.get("transaction_id", "") for r in book.fetch(book.search(parse_query(text)))]


def test_amounts_are_found_however_they_are_written(book: TransactionBook) -> None:
    out = make_row(1)
    out.update(deposit=0, withdrawal=185_576)
    into = make_row(2)
    into.update(deposit=185_576, withdrawal=0)
    other = make_row(3)
    other.update(deposit=1_185_576, withdrawal=0)  # 11,855.76 contains 1855.76
    book.append([out, into, other])
    both = sorted([out["transaction_id"], into["transaction_id"]])
    for text in ("1855.76", "1,855.76", "1.855,76", "1855,76", "1855.7"):
        assert sorted(found(book, text)) == both, text
    assert found(book, "-1855.76") == found(book, "-1.855,76") == [out["transaction_id"]]
    assert found(book, "+1,855.76") == [into["transaction_id"]]
    assert found(book, "11.855,76") == [other["transaction_id"]]


def test_text_is_found_without_accents_or_case(book: TransactionBook) -> None:
    row = make_row(1)  # counterparty "Müller & Söhne 1"
    row["description"] = "Miete Straße ΑΘΉΝΑ [bold]x[/]\nzweite Zeile"
    book.append([row, make_row(2)])
    tid = row["transaction_id"]
    for text in (
        "muller",
        "MÜLLER söhne 1",
        "strasse",
        "αθηνα",
        "[bold]x[/]",
        "zweite zeile",
        "giro (max)",
        "miete giro",
    ):
        assert tid in found(book, text), text
    assert found(book, "miete mueller") == []
    assert found(book, "") == found(book, "giro") and len(found(book, "")) == 2


def test_search_lines_follow_appends_and_updates(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    book.append(daily_rows(0, 1_200))
    tid = make_row(5)["transaction_id"]
    assert found(book, "Lieferant") == []
    book.update({tid: {"party_type": "Supplier", "party": "Lieferant Süd"}})
    assert found(fresh_book(paths), "lieferant sud") == [tid]
    book.append([make_row(50_000, "2022-01-01")])  # into a chunk that grows
    assert found(fresh_book(paths), "RE-0050000") == [make_row(50_000)["transaction_id"]]
    # a word in every line (read line by line) and a rare one with it (found by position)
    assert len(found(book, "settled")) == 1_201
    assert (
        found(book, "settled RE-0050000")
        == found(book, "RE-0050000 settled")
        == [make_row(50_000)["transaction_id"]]
    )
    hits = book.search(parse_query("2022-01-0"))
    assert [r["date"] for r in book.fetch(hits)] == [
        r["date"] for r in book.all_rows() if r["date"].startswith("2022-01-0")
    ]


def test_missing_or_stale_search_lines_are_rebuilt(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    book.append(daily_rows(0, 600))
    expected = found(book, "RE-00001")
    directory = folder(store, account)
    lines = next(directory.glob("*.find.txt"))
    lines.unlink()
    assert found(fresh_book(paths), "RE-00001") == expected
    assert lines.exists()
    lines.write_bytes(b"2022-01-01\tnothing here +0.00\n")  # not what the index recorded
    assert found(book, "RE-00001") == found(fresh_book(paths), "RE-00001") == expected


# -- provider objects, compressed ------------------------------------------------------------


def test_provider_objects_are_gzip_streams_after_every_write(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    rows = daily_rows(0, 900)
    book.append(rows[:300])
    book.append(rows[300:])  # into the same, growing chunk: one more gzip member
    book.update({rows[0]["transaction_id"]: {"raw": {"state": "CANCELED"}}})
    directory = folder(store, account)
    packed = sorted(directory.glob("*.raw.json.gz"))
    assert packed and not list(directory.glob("*.raw.json"))
    objects = {}
    for path in packed:
        objects.update(orjson.loads(gzip.decompress(path.read_bytes()))["raw"])
    assert len(objects) == 900
    stored = {r["transaction_id"]: r["raw"] for r in fresh_book(paths).rows()}
    assert stored[rows[0]["transaction_id"]] == {"state": "CANCELED"}
    assert stored[rows[899]["transaction_id"]] == rows[899]["raw"]
    rows_bytes = sum(p.stat().st_size for p in directory.glob("*.json") if p.name.count(".") == 2)
    assert sum(p.stat().st_size for p in packed) * 3 < rows_bytes  # far less than a copy


def test_plain_provider_objects_of_an_older_store_are_read_and_replaced(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    rows = daily_rows(0, 200)
    book.append(rows)
    directory = folder(store, account)
    packed = next(directory.glob("*.raw.json.gz"))
    plain = packed.with_name(packed.name[:-3])
    plain.write_bytes(gzip.decompress(packed.read_bytes()))  # as a store before kept it
    packed.unlink()
    (directory / "index.json").unlink()
    other = fresh_book(paths)
    assert [r["raw"] for r in other.rows(newest_first=False)] == [r["raw"] for r in rows]
    other.append([make_row(1_000, "2022-01-01")])
    assert packed.exists() and not plain.exists()
    assert len(fresh_book(paths).all_rows()) == 201
    assert fresh_book(paths).get(rows[5]["transaction_id"])["raw"] == rows[5]["raw"]


def test_a_damaged_provider_file_is_an_error_naming_it(
    store: Store, account: BankAccount, book: TransactionBook, paths: Paths
) -> None:
    book.append(daily_rows(0, 50))
    packed = next(folder(store, account).glob("*.raw.json.gz"))
    packed.write_bytes(packed.read_bytes()[:40])
    with pytest.raises(StoreError) as info:
        fresh_book(paths).all_rows()
    assert str(packed) in info.value.message


def test_streamed_rows_keep_the_order_of_all_rows(book: TransactionBook) -> None:
    """rows() reads a month's chunks one after another; the order is that of all_rows(),
    ties (one date in several chunks) in stored order, undated rows last."""
    import random

    picker = random.Random(15)
    days = [f"2024-05-{d:02d}" for d in range(1, 29)] + ["2024-06-01", ""]
    n = 0
    for size in (3_000, 2_500, 700, 4_200, 60):  # chunks of one month overlapping in dates
        batch = []
        for _ in range(size):
            batch.append(make_row(n, picker.choice(days)))
            n += 1
        book.append(batch)
    newest = book.all_rows()
    assert list(book.rows()) == newest
    oldest = list(book.rows(newest_first=False, raw=False))
    assert len(oldest) == len(newest)
    assert [r["date"] for r in oldest] == sorted(r["date"] for r in newest)
    by_date: dict[str, list[str]] = {}
    for r in newest:
        by_date.setdefault(r["date"], []).append(r["transaction_id"])
    for day, ids in by_date.items():  # one date: stored order, in both directions
        assert [r["transaction_id"] for r in oldest if r["date"] == day] == ids

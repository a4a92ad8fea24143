"""Atomic writes survive a kill at any point: old or new state, never a torn file."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import orjson
import pytest
from store_support import child, daily_rows

from kosma_tui.core.paths import resolve_paths
from kosma_tui.core.records import BankAccount
from kosma_tui.core.store import Store

KILLS = 6


def kill_at_random(
    script: str, home: Path, *args: str, low: float = 0.05, high: float = 0.5
) -> None:
    process = child(script, home, *args)
    try:
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
        time.sleep(random.uniform(low, high))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


REWRITER = """
import sys, orjson
from pathlib import Path
from kosma_tui.core.atomic import atomic_write
path = Path(sys.argv[1])
n = orjson.loads(path.read_bytes())["n"] if path.exists() else 0
print("ready", flush=True)
while True:
    n += 1
    atomic_write(path, orjson.dumps({"n": n, "pad": "x" * (n % 5) * 400_000, "check": n * 7}))
"""


def test_atomic_write_survives_kill_at_any_point(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    seen = 0
    for _ in range(KILLS):
        kill_at_random(REWRITER, tmp_path, str(target))
        state = orjson.loads(target.read_bytes())  # parses: never torn
        assert state["check"] == state["n"] * 7
        assert len(state["pad"]) == (state["n"] % 5) * 400_000
        assert state["n"] >= seen
        seen = state["n"]
    assert seen > 0


COMPANY_WRITER = """
from kosma_tui.core.records import Company
from kosma_tui.core.store import Store
store = Store.open()
start = len(store.companies()) - 1
print("ready", flush=True)
i = start
while True:
    store.save_company(Company(f"C-{i:05d}", default_currency="EUR" + " " * (i % 9) * 500))
    i += 1
"""


def test_store_writes_survive_kills_and_temp_files_are_cleaned(home: Path) -> None:
    paths = resolve_paths()
    Store.open(paths)
    for _ in range(KILLS):
        kill_at_random(COMPANY_WRITER, home)
        store = Store.open(paths)  # never a corrupt meta.json
        names = [c.name for c in store.companies()][1:]
        assert names == [f"C-{i:05d}" for i in range(len(names))]  # whole states only
        assert not list(paths.store_dir.glob("*.tmp"))
    assert len(store.companies()) > 1


BOOK_WRITER = """
from store_support import daily_rows
from kosma_tui.core.store import Store
store = Store.open()
book = store.book(store.account("Giro (Max)"))
print("ready", flush=True)
while True:
    for first in range(0, 12_000, 600):
        book.append(daily_rows(first, 600, per_day=50))
    ids = list(book.ids())
    book.update({tid: {"party": "ACME"} for tid in ids[::7]})
"""


@pytest.mark.timeout(300)
def test_book_survives_kills_and_a_rerun_completes_it(home: Path) -> None:
    paths = resolve_paths()
    store = Store.open(paths)
    store.save_account(BankAccount("Giro (Max)", "Demo Bank", "Demo Company"))
    expected = {r["transaction_id"]: r for r in daily_rows(0, 12_000, per_day=50)}
    for _ in range(KILLS):
        kill_at_random(BOOK_WRITER, home, low=0.2, high=2.0)
        reopened = Store.open(paths)
        book = reopened.book(reopened.account("Giro (Max)"))
        rows = book.all_rows()
        tids = [r["transaction_id"] for r in rows]
        assert len(tids) == len(set(tids)) == book.count() == len(book.ids())
        # the filter's search lines name exactly the rows on disk, whatever was killed
        assert sorted(r["transaction_id"] for r in book.fetch(book.search([]))) == sorted(tids)
        for row in rows:
            want = expected[row["transaction_id"]]
            assert row["raw"] == want["raw"]
            assert (row["date"], row["deposit"], row["withdrawal"]) == (
                want["date"],
                want["deposit"],
                want["withdrawal"],
            )
    book.append(list(expected.values()))  # the re-run
    assert sorted(book.ids()) == sorted(expected)
    assert Store.open(paths).book(store.account("Giro (Max)")).count() == 12_000

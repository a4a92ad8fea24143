"""A sync that stops early keeps its progress (DESIGN 2), and a stopped or killed sync
never costs the consent (DESIGN 7): the transaction limit across billing periods, and
SIGTERM / SIGINT / SIGHUP during ``kosma-tui sync``, with real processes and signals."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from sync_support import client_for, kosma, link

FIRST_PERIOD = date(2026, 3, 20)
NEXT_PERIOD = date(2026, 4, 2)


def open_store(home: Path) -> Any:
    from kosma_tui.core.paths import resolve_paths
    from kosma_tui.core.store import Store

    return Store.open(resolve_paths(home))


def moment(day: date) -> str:
    return datetime(day.year, day.month, day.day, 10, 0).astimezone().isoformat()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox(state: Path, today: date, port: int, *args: str) -> Iterator[str]:
    """``kosma-tui sandbox`` as a process (as a user runs it); yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kosma_tui", "sandbox", "--port", str(port), "--today",
         today.isoformat(), "--state", str(state), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "listening on" in first, process.stderr.read() if process.stderr else first
        yield first.strip().rsplit(" ", 1)[-1]
    finally:
        process.terminate()
        process.wait(10)


def configure(home: Path, url: str, username: str, start: date, today: date,
              monkeypatch: pytest.MonkeyPatch) -> Any:
    setup = kosma(home, "settings", "--enable", "--admin-url", url, "--customer-id", "C-1",
                  "--api-token-stdin", stdin="token\n", now=moment(today))
    assert setup.returncode == 0, setup.stderr
    monkeypatch.setenv("KOSMA_TUI_NOW", moment(today))

    async def go() -> Any:
        async with client_for(url, customer_id="C-1", api_token="token") as client:
            return await link(open_store(home), client, username, start=start)

    return asyncio.run(go())


def test_the_next_billing_period_continues_where_the_limit_stopped(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 a day for 200 days (20,000 waiting), 5,000 a billing period."""
    state = tmp_path / "portal" / "state.json"
    start = FIRST_PERIOD - timedelta(days=199)
    port = free_port()  # the same portal address in both periods, as in Banking Settings
    with sandbox(state, FIRST_PERIOD, port, "--transaction-limit", "5000") as url:
        configure(home, url, "many-transactions100000", start, FIRST_PERIOD, monkeypatch)
        first = kosma(home, "sync", "--all", now=moment(FIRST_PERIOD))
    assert first.returncode == 1, first.stderr
    # 5 pages of 1,000: day 50 was reached, day 49 (start + 48) read whole
    through = (start + timedelta(days=48)).isoformat()
    assert (f"Stopped at {through}: transaction limit used up; the next sync continues from "
            "there.") in first.stdout
    status = json.loads(kosma(home, "status", "--json", now=moment(FIRST_PERIOD)).stdout)
    (account,) = status["accounts"]
    assert account["last_integration_date"] == through
    last = account["last_sync"]
    assert (last["outcome"], last["error"]["code"]) == ("failed", "PLAN.LIMIT_EXCEEDED")
    assert last["new"] > 4000 and last["read_through"] == through
    assert last["stopped"] == (f"stopped at {through}: transaction limit used up; the next "
                               "sync continues from there")

    with sandbox(state, NEXT_PERIOD, port, "--transaction-limit", "5000"):
        second = kosma(home, "sync", "--all", "--json", now=moment(NEXT_PERIOD))
    (again,) = json.loads(second.stdout)["accounts"]
    assert again["error"]["code"] == "PLAN.LIMIT_EXCEEDED"
    # it re-read only the lookback days (9 of them, 900 rows) and stored what was new;
    # without kept progress it would start again at the Start Date and store nothing new
    assert again["fetched"] == 5000 and again["new"] > 3500
    assert again["fetched"] == again["new"] + again["skipped"]
    assert again["last_integration_date"] > through
    store = open_store(home)
    account = store.accounts()[0]
    assert store.book(account).count() == len(store.book(account).ids()) == \
        last["new"] + again["new"]

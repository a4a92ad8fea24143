"""A sync that stops early keeps its progress (DESIGN 2), and a stopped or killed sync
never costs the consent (DESIGN 7): the transaction limit across billing periods, and
SIGTERM / SIGINT / SIGHUP during ``kosma-tui sync``, with real processes and signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from proxy_support import PortalProxy
from sync_support import enable_and_link, kosma, open_store, reference_ids

FIRST_PERIOD = date(2026, 3, 20)
NEXT_PERIOD = date(2026, 4, 2)


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
        [
            sys.executable,
            "-m",
            "kosma_tui",
            "sandbox",
            "--port",
            str(port),
            "--today",
            today.isoformat(),
            "--state",
            str(state),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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


def configure(
    home: Path, url: str, username: str, start: date, today: date, monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.setenv("KOSMA_TUI_NOW", moment(today))
    return enable_and_link(home, url, url, username, start, now=moment(today))


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
    assert (
        f"Stopped at {through}: transaction limit used up; the next sync continues from there."
    ) in first.stdout
    status = json.loads(kosma(home, "status", "--json", now=moment(FIRST_PERIOD)).stdout)
    (account,) = status["accounts"]
    assert account["last_integration_date"] == through
    last = account["last_sync"]
    assert (last["outcome"], last["error"]["code"]) == ("failed", "PLAN.LIMIT_EXCEEDED")
    assert last["new"] > 4000 and last["read_through"] == through
    assert last["stopped"] == (
        f"stopped at {through}: transaction limit used up; the next sync continues from there"
    )

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
    assert (
        store.book(account).count() == len(store.book(account).ids()) == last["new"] + again["new"]
    )


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_signal_mid_call_lets_the_call_finish_and_keeps_the_consent(
    home: Path, tmp_path: Path, number: signal.Signals
) -> None:
    """The signal lands while a page is answered by the portal but not yet received
    (the token is rotated); the call finishes, its token is stored, the sync stops."""
    from kosma_tui.sandbox import start_portal

    start = date.today() - timedelta(days=299)
    with start_portal(tmp_path / "portal.json") as portal:
        # POSTs: 1 the subscription (settings), then 'sync --all': 2 accounts, 3 balances,
        # 4 page 1, 5 page 2 (its answer held), 6 page 3
        proxy = PortalProxy(portal.url, hold_answer_at=5)
        try:
            enable_and_link(home, proxy.url, portal.url, "many-transactions10000", start)
            env = {**os.environ, "KOSMA_TUI_HOME": str(home)}
            env.pop("KOSMA_TUI_NOW", None)
            job = subprocess.Popen(
                [sys.executable, "-m", "kosma_tui", "sync", "--all", "--json"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            try:
                assert proxy.held.wait(60), "the sync never reached the held answer"
                job.send_signal(number)
                time.sleep(0.3)  # the signal arrives while the answer is still held
                proxy.release.set()
                stopped_at = time.monotonic()
                out, err = job.communicate(timeout=30)
                assert time.monotonic() - stopped_at < 10
            finally:
                if job.poll() is None:
                    job.kill()
                    job.wait()
            assert job.returncode == 1, err
            assert err.strip() == (
                f"kosma-tui: Stopped by {number.name} after 1 account(s); "
                "what was read is kept and the next sync continues from "
                "there."
            )
            (item,) = json.loads(out)["accounts"]
            assert item["error"]["code"] == "CANCELLED"
            assert item["fetched"] == 2000  # page 2 arrived in full and was kept
            assert item["read_through"] and item["stopped"].startswith("stopped at ")

            again = kosma(home, "sync", "--all", "--json")
            assert again.returncode == 0, again.stdout + again.stderr  # the consent works
        finally:
            proxy.close()
        store = open_store(home)
        (account,) = store.accounts()
        ids = store.book(account).ids()
        assert store.book(account).count() == len(ids)
        from kosma_tui.core.paths import resolve_paths
        from kosma_tui.core.store import Store

        reference = Store.open(resolve_paths(tmp_path / "reference"))
        assert set(ids) == asyncio.run(
            reference_ids(reference, portal.url, "many-transactions10000", start)
        )

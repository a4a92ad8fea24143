"""The TUI over SSH (DESIGN 7): losing the terminal (SIGHUP, the pseudo-terminal
closed) or SIGTERM in the middle of a sync stops the drawing, lets the sync finish,
then exits; the consent works afterwards and the next launch shows the result.
Ctrl+Q while a sync runs asks first. Real processes on a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from proxy_support import PortalProxy
from sync_support import client_for, enable_and_link, kosma, open_store
from tui_support import SIZE, make_app, screen_text, settled, wait_until
from tui_support import link as link_demo

from kosma_tui.tui.screens.confirm import ConfirmModal


class Terminal:
    """``kosma-tui`` on a pseudo-terminal of 80x24 whose output is read continuously."""

    def __init__(self, home: Path) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**os.environ, "KOSMA_TUI_HOME": str(home), "TERM": "xterm-256color"}
        env.pop("KOSMA_TUI_NOW", None)

        def controlling_terminal() -> None:  # the pty is the session's terminal, as with ssh -t
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            [sys.executable, "-m", "kosma_tui"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            preexec_fn=controlling_terminal,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            assert time.monotonic() < deadline, f"{text!r} never appeared"
            assert self.process.poll() is None, self.output.decode(errors="replace")
            time.sleep(0.05)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def hang_up(self) -> None:
        os.close(self.master)  # the SSH client is gone: the kernel sends SIGHUP

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


@pytest.mark.parametrize("how", ["hang up", "SIGTERM"])
def test_losing_the_terminal_mid_sync_lets_the_sync_finish(
    home: Path, tmp_path: Path, how: str
) -> None:
    from kosma_tui.sandbox import start_portal

    # a real process on the real date: read it when the test starts, not at import, so a
    # suite that crosses midnight does not expect yesterday's rows
    today = date.today()
    with start_portal(tmp_path / "portal.json") as portal:
        pages = {"seen": 0}

        def second_page(number: int, method: str, body: dict[str, Any]) -> bool:
            if method != "fetch_consent_transactions":
                return False
            pages["seen"] += 1
            return pages["seen"] == 2

        proxy = PortalProxy(portal.url, hold_answer=second_page)
        terminal = None
        try:
            enable_and_link(
                home, proxy.url, portal.url, "many-transactions100000", today - timedelta(days=29)
            )
            terminal = Terminal(home)
            terminal.wait_for("Girokonto")
            terminal.type("a")  # sync all
            assert proxy.held.wait(60), "the sync never reached its second page"
            if how == "hang up":
                terminal.hang_up()
            else:
                terminal.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)  # the signal lands while the page's answer is held
            assert terminal.process.poll() is None  # it waits for the sync
            proxy.release.set()
            assert terminal.process.wait(60) == 0
        finally:
            if terminal is not None:
                terminal.close()
            proxy.close()

    store = open_store(home)
    (account,) = store.accounts()
    run = store.sync_runs(account.name)[0]
    assert run.status == "ok", run.error
    assert run.fetched == 3000 and run.read_through == today.isoformat()
    assert account.last_sync.outcome == "ok"  # what the next launch shows
    with start_portal(tmp_path / "portal.json") as portal:
        setup = kosma(home, "settings", "--admin-url", portal.url)
        assert setup.returncode == 0, setup.stderr
        again = kosma(home, "sync", "--all")
        assert again.returncode == 0, again.stdout + again.stderr  # the consent works


# -- in process (Pilot, 80x24) --------------------------------------------------------


async def ctrl_q_during_a_sync(pilot: Any, app: Any) -> None:
    """Sync the selected account, press Ctrl+Q while it runs, and wait for the question."""
    await pilot.pause()
    await pilot.press("s")
    await wait_until(pilot, lambda: app.sync_queue.busy, what="the sync to start")
    await pilot.press("ctrl+q")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))


async def slow_app(store: Any, portal: Any) -> Any:
    """The app over the 'slow' user, every consent call of which takes 1 s."""
    portal.running.slow_seconds = 1.0
    await link_demo(store, portal.url, username="slow")
    return make_app(store, portal)


async def test_ctrl_q_while_a_sync_runs_asks_first(store: Any, portal: Any) -> None:
    app = await slow_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await ctrl_q_during_a_sync(pilot, app)
        assert "A sync is running" in screen_text(app)
        await pilot.press("escape")  # keep going
        await pilot.pause()
        assert app.return_code is None and app.sync_queue.busy
        await wait_until(pilot, lambda: not app.sync_queue.busy, what="the sync to end")
        await pilot.pause()
        await pilot.press("ctrl+q")  # nothing runs: no question
        await wait_until(pilot, lambda: app.return_code == 0, what="the app to exit")


async def test_quitting_anyway_keeps_what_was_read(store: Any, portal: Any) -> None:
    app = await slow_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await ctrl_q_during_a_sync(pilot, app)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.return_code == 0, what="the app to exit")
    deadline = time.monotonic() + 30  # the sync stops after its page, and says so
    while not store.sync_runs() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    (run,) = store.sync_runs()
    assert run.status in ("ok", "failed")
    if run.status == "failed":
        assert run.error["code"] == "CANCELLED"
    assert store.consents()[0].consent_token  # and the consent is in order:
    async with client_for(
        portal.url, customer_id="demo-customer", api_token="demo-token"
    ) as client:
        from kosma_tui.core.sync import SyncEngine

        assert (await SyncEngine(store, client).sync_account(run.account)).ok


async def test_a_lost_terminal_exits_only_after_the_sync(store: Any, portal: Any) -> None:
    portal.running.slow_seconds = 0.5
    await link_demo(store, portal.url, username="slow")
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        await pilot.press("a")
        await wait_until(pilot, lambda: app.sync_queue.busy, what="the sync to start")
        app.terminal_lost()
        await pilot.pause(0.3)
        assert app.return_code is None and app.leaving == "the terminal was lost"
        await wait_until(
            pilot, lambda: app.return_code == 0, timeout=60, what="the app to exit after the syncs"
        )
    runs = store.sync_runs()
    assert len(runs) == 3 and all(r.status == "ok" for r in runs)  # queued ones too


async def test_a_sync_stopped_by_the_plan_limit_says_where_it_stopped(
    store: Any, portal: Any
) -> None:
    from tui_support import flat_text

    from kosma_tui.tui.screens.accounts import AccountsScreen
    from kosma_tui.tui.screens.sync import SyncScreen

    portal.running.transaction_limit = 1500  # one page of 1,000 fits, the second does not
    await link_demo(store, portal.url, username="many-transactions100000", start="2026-11-01")
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        name = store.accounts()[0].name
        await wait_until(
            pilot, lambda: app.sync_queue.state(name).state == "failed", what="the sync to stop"
        )
        await pilot.pause()
        # 100 a day from 2026-11-01: the first page ends on 11-10, read whole up to 11-09
        sentence = (
            "stopped at 2026-11-09: transaction limit used up; the next sync continues from there"
        )
        assert sentence in flat_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        await pilot.pause()
        assert sentence in flat_text(app)  # the last sync, as the next launch shows it
    assert store.accounts()[0].last_integration_date == "2026-11-09"

"""First launch: demo mode on every screen, an empty home with the way forward."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tui_support import SIZE, make_app, screen_text, settled, wait_until

from kosma_tui.core.store import Store
from kosma_tui.tui.app import KosmaApp
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.screens.reminders import ReminderModal

DEMO = "Kosma TUI · erp01 · DEMO (built-in Demo Bank portal)"


async def test_first_launch_runs_in_demo_mode_and_says_so_everywhere(
    store: Store, portal: Any
) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        assert isinstance(app.screen, AccountsScreen)
        text = screen_text(app)
        assert DEMO in text
        assert "09:00" in text.splitlines()[0]
        assert "No bank accounts yet. Press l to Link Bank and Accounts" in text
        for key, title in (
            ("g", "Banking Settings"),
            ("c", "Bank Consents"),
            ("p", "Parties"),
            ("f1", "Help"),
            ("y", "Sync"),
        ):
            await pilot.press(key)
            await pilot.pause()
            shown = screen_text(app)
            assert DEMO in shown.splitlines()[0], key
            assert title in shown, key
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, AccountsScreen)


async def test_default_app_opens_the_real_store_without_injection(frozen: Any) -> None:
    app = KosmaApp()
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        assert app.demo
        assert app.store.company("Demo Company") is not None
        assert DEMO in screen_text(app)


async def test_no_reminder_without_consents(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ReminderModal)


async def test_escape_on_home_stays_home(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        assert len(app.screen_stack) == 1
        assert "esc" not in screen_text(app).splitlines()[-1]


async def test_a_newcomer_links_and_syncs_the_demo_bank_on_the_embedded_portal(frozen: Any) -> None:
    """The real default path: no injection, the embedded Demo Bank portal, within a minute."""
    import time

    from tui_support import on_phase, to_accounts

    from kosma_tui.tui.screens.sync import SyncScreen

    started = time.monotonic()
    app = KosmaApp()
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await to_accounts(pilot, app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(app, "summary"))
        await pilot.press("enter")  # Sync the accounts now
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await wait_until(
            pilot,
            lambda: (
                not app.sync_queue.busy
                and len([s for s in app.sync_queue.states.values() if s.state == "ok"]) == 3
            ),
        )
        assert app.runtime.embedded_running and app.runtime.started_portals == 1
    # the app built its runtime, so its end stopped the embedded portal it started
    assert not app.runtime.embedded_running
    assert time.monotonic() - started < 60
    assert all(a.last_sync.outcome == "ok" for a in app.store.accounts())


def test_a_corrupt_store_stops_the_app_with_a_sentence(frozen: Any, capsys: Any) -> None:
    from kosma_tui.cli import main
    from kosma_tui.core.paths import resolve_paths

    Store.open()  # create it, then break it
    meta = resolve_paths().store_dir / "meta.json"
    meta.write_text("{not json", encoding="utf-8")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kosma-tui: ") and "meta.json" in err and "Traceback" not in err
    assert meta.read_text(encoding="utf-8") == "{not json"  # never overwritten


def test_without_a_terminal_the_tui_says_what_to_run_instead(tmp_path: Path) -> None:
    """``ssh host kosma-tui`` (no -t) or a cron line without a command: a sentence, exit 2,
    never escape codes written into a pipe or a TUI waiting forever for keys."""
    env = {**os.environ, "KOSMA_TUI_HOME": str(tmp_path / "home")}
    env.pop("KOSMA_TUI_NOW", None)
    done = subprocess.run(
        [sys.executable, "-m", "kosma_tui"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("kosma-tui: The TUI needs a terminal (over SSH: ssh -t)")
    assert "kosma-tui sync --all" in done.stderr and "Traceback" not in done.stderr

"""First launch: demo mode on every screen, an empty home with the way forward."""

from __future__ import annotations

from typing import Any

from tui_support import SIZE, make_app, screen_text, wait_until

from kosma_tui.core.store import Store
from kosma_tui.tui.app import KosmaApp
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.screens.reminders import ReminderModal

DEMO = "Kosma TUI · erp01 · DEMO (built-in Demo Bank portal)"


async def test_first_launch_runs_in_demo_mode_and_says_so_everywhere(
        store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, AccountsScreen)
        text = screen_text(app)
        assert DEMO in text
        assert "09:00" in text.splitlines()[0]
        assert "No bank accounts yet. Press l to Link Bank and Accounts" in text
        for key, title in (("g", "Banking Settings"), ("c", "Bank Consents"),
                           ("p", "Parties"), ("f1", "Help"), ("y", "Sync")):
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
        await pilot.pause()
        assert app.demo
        assert app.store.company("Demo Company") is not None
        assert DEMO in screen_text(app)


async def test_no_reminder_without_consents(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ReminderModal)


async def test_escape_on_home_stays_home(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        assert len(app.screen_stack) == 1
        assert "esc" not in screen_text(app).splitlines()[-1]

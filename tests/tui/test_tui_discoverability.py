"""Finding the keys at 80x24: the app's actions first in the palette (each once), the most
used keys and f1 in the footer, a Help that shows the current screen's keys without scrolling."""

from __future__ import annotations

from typing import Any

from tui_support import SIZE, link, make_app, screen_text, settled, wait_until

from kosma_tui.core.store import Store
from kosma_tui.tui.commands import KosmaCommands
from kosma_tui.tui.screens.help import HelpScreen
from kosma_tui.tui.screens.transactions import TransactionsScreen


async def test_palette_lists_the_app_actions_first_and_each_once(store: Store, portal: Any) -> None:
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        provider = KosmaCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]  # type: ignore[attr-defined]
        ours = sorted(title for title, _help, _cb in provider.entries())
        assert len(ours) > 10 and titles[: len(ours)] == ours  # ours come before Textual's
        assert "Sync progress" in ours and "Rename" in ours and "Remove" in ours
        assert len(titles) == len(set(titles))
        assert not {"Cursor down", "Bottom", "Copy selected text"} & set(titles)
        assert "Theme" in titles and "Keys" in titles  # Textual's own stay reachable, after ours


async def test_footer_shows_the_main_keys_help_and_palette_at_80_columns(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url)
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        for key in (
            "s Sync",
            "a Sync all",
            "t Transactions",
            "l Link",
            "c Consents",
            "g Settings",
            "f1 Help",
            "^p Palette",
        ):
            assert key in footer, (key, footer)


async def test_help_starts_with_the_keys_of_the_screen_it_was_opened_from(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url)
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        page = screen_text(app)  # the first page, without scrolling
        for key in (
            "r       Renew",
            "y       Sync progress",
            "p       Parties",
            "e       Push to ERPNext",
            "m       Match parties",
            "x       Remove",
            "f1 / ?  Help",
        ):
            assert key in page, key
        await pilot.press("escape", "t")
        await wait_until(pilot, lambda: isinstance(app.screen, TransactionsScreen))
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert screen_text(app).splitlines()[2].strip("│ ").startswith("Transactions")

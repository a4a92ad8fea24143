"""Banking Settings: validation as you type, refusals with a message, the masked token,
the subscription after Save, and portal errors with their remedy."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Switch
from tui_support import (
    SIZE,
    flat_text,
    link,
    make_app,
    notices,
    screen_text,
    settled,
    type_text,
    wait_until,
)

from kosma_tui.core.store import Store
from kosma_tui.tui.screens.settings import SettingsScreen


async def open_settings(pilot: Any) -> SettingsScreen:
    await pilot.press("g")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    return screen


async def test_bad_url_and_missing_token_are_refused_with_a_message(
    store: Store, portal: Any
) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        screen = await open_settings(pilot)
        await type_text(pilot, "http://portal.example.com")
        await pilot.pause()
        assert "must use https://" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.settings().admin_url == ""  # nothing saved
        assert any("Nothing was saved" in n.message for n in app._notifications)
        url = screen.query_one("#admin_url", Input)
        url.value = "https://portal.example.com"
        screen.query_one("#enabled", Switch).value = True
        await pilot.pause()
        text = screen_text(app)
        assert "must use https://" not in text
        assert "Enabled needs a Customer ID." in text
        assert "Enabled needs a Portal API Token." in text
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = store.settings()
        assert saved.admin_url == "" and not saved.enabled and saved.api_token == ""


async def test_saved_settings_mask_the_token_and_show_the_subscription(
    store: Store, portal: Any
) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        screen = await open_settings(pilot)
        screen.query_one("#admin_url", Input).value = portal.url
        screen.query_one("#customer_id", Input).value = "C-1042"
        screen.query_one("#enabled", Switch).value = True
        screen.query_one("#api_token", Input).focus()
        await type_text(pilot, "s3cret-token-9876")
        await pilot.pause()
        assert "s3cret" not in screen_text(app)  # a password field shows dots
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: "transactions used" in screen_text(app), what="the subscription panel"
        )
        text = screen_text(app)
        assert "s3cret" not in text
        assert "9876" in screen.query_one("#api_token", Input).placeholder
        assert screen.query_one("#api_token", Input).value == ""
        assert "DEMO" not in text.splitlines()[0] and "127.0.0.1" in text.splitlines()[0]
    saved = store.settings()
    assert saved.enabled and saved.customer_id == "C-1042"
    assert saved.api_token == "s3cret-token-9876"
    assert saved.admin_url == portal.url


async def test_a_refused_token_shows_the_sentence_and_the_remedy(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        screen = await open_settings(pilot)
        screen.query_one("#admin_url", Input).value = portal.url
        screen.query_one("#customer_id", Input).value = "C-1042"
        screen.query_one("#api_token", Input).value = "invalid"
        screen.query_one("#enabled", Switch).value = True
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "did not accept" in screen_text(app))
        text = flat_text(app)
        assert "The banking portal did not accept the Customer ID or Portal API Token." in text
        assert "Fix them in Banking Settings." in text


async def test_party_matching_switches_are_saved(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        screen = await open_settings(pilot)
        screen.query_one("#enable_party_matching", Switch).value = True
        screen.query_one("#enable_fuzzy_matching", Switch).value = True
        screen.query_one("#reminder_days", Input).value = "14"
        await pilot.pause()
        assert " on" in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "transactions used" in screen_text(app))
    saved = store.settings()
    assert saved.enable_party_matching and saved.enable_fuzzy_matching
    assert saved.reminder_days == 14 and saved.demo


async def test_the_erpnext_panel_lives_in_banking_settings(store: Store, portal: Any) -> None:
    from kosma_tui.tui.widgets.erpnext_panel import ErpnextPanel

    await link(store, portal.url)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("e")  # push from Accounts: not connected yet, says where to connect
        await pilot.pause()
        assert "ERPNext is not connected" in notices(app)
        screen = await open_settings(pilot)
        panel = screen.query_one(ErpnextPanel)
        panel.query_one("#erp-url", Input).value = "http://erp.example.com"
        panel.query_one("#erp-auto-push", Switch).value = True
        await pilot.pause()
        message = panel.query_one("#erp-url-msg")
        assert "must use https://" in str(message.render())  # the panel's own check
        assert not screen.problems()  # and not one of Banking Settings'
    assert store.settings().erpnext_auto_push


async def test_opening_settings_fetches_the_subscription_in_the_background(
    store: Store, portal: Any
) -> None:
    from kosma_tui.core.subscription import remembered

    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await open_settings(pilot)
        await wait_until(
            pilot,
            lambda: "0 of 1,000,000 transactions used" in screen_text(app),
            what="the subscription, without Save",
        )
        assert "127.0.0.1" not in screen_text(app)  # demo: no billing link to a passing port
        assert not any("saved" in n.message for n in app._notifications)
    kept = remembered(store)
    assert kept is not None and kept["transaction_limit"] == 1_000_000 and kept["fetched"]


async def test_save_is_on_screen_at_80x24_and_escape_asks_before_dropping_edits(
    store: Store, portal: Any
) -> None:
    from kosma_tui.tui.screens.accounts import AccountsScreen
    from kosma_tui.tui.screens.confirm import ConfirmModal

    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        screen = await open_settings(pilot)
        save = screen.query_one("#save")
        assert save.region.bottom <= 22 and save.region.height and "Save" in screen_text(app)
        await pilot.press("escape")  # nothing changed: straight back
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        screen = await open_settings(pilot)
        screen.query_one("#reminder_days", Input).value = "21"
        await pilot.pause()
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "not saved" in flat_text(app)
        await pilot.press("escape")  # keep editing
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert screen.query_one("#reminder_days", Input).value == "21"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")  # drop them
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
    assert store.settings().reminder_days == 7

"""Trust in the numbers and reminder mails in the TUI (DESIGN 8): a balance that does not
add up and a coverage gap on Accounts, the mail section of Banking Settings with a test
mail to a real SMTP server on loopback; with snapshots at 80x24."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_tui_snapshots import snap
from tui_support import flat_text, link, make_app, notices, settled, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mail_support import SMTPServer

from kosma_tui.core.connection import DEMO_API_TOKEN, DEMO_CUSTOMER_ID
from kosma_tui.core.portal import PortalClient
from kosma_tui.core.store import Store
from kosma_tui.core.sync import SyncEngine, set_last_integration_date
from kosma_tui.tui.screens.confirm import ConfirmModal

Pilot = Any
LATER = date(2026, 11, 28)


async def sync_accounts(store: Store, url: str) -> None:
    async with PortalClient(
        url, DEMO_CUSTOMER_ID, DEMO_API_TOKEN, ip_address="127.0.0.1"
    ) as client:
        engine = SyncEngine(store, client)
        for account in store.accounts():
            result = await engine.sync_account(account.name, push=False)
            assert result.ok, result.error


def sync_all(store: Store, url: str) -> None:
    asyncio.run(sync_accounts(store, url))


@pytest.fixture
def mismatch(store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The late-booking user synced on 2026-11-26, then two days later: the bank's
    booked balance holds a transaction it does not list yet."""
    asyncio.run(link(store, portal.url, username="late-booking", start="2026-11-01"))
    sync_all(store, portal.url)
    portal.move_to(LATER)
    monkeypatch.setenv("KOSMA_TUI_NOW", "2026-11-28T09:00:00")
    sync_all(store, portal.url)
    assert any(a.balance_check.get("status") == "mismatch" for a in store.accounts())
    return store


def test_accounts_with_a_balance_mismatch(snap_compare: Any, mismatch: Store, portal: Any) -> None:
    assert snap(snap_compare, mismatch, portal)


async def test_mismatch_and_gap_are_shown_on_accounts(
    mismatch: Store, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(mismatch, portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        text = flat_text(app)
        girokonto = next(a for a in mismatch.accounts() if a.name.startswith("Girokonto"))
        assert "≠" in text
        assert "balance off by -1,442.63 EUR" in text  # the late debit of 1,442.63
        assert girokonto.balance_check["difference"] == -144_263
        await pilot.press("s")  # a sync in the TUI says so too
        await wait_until(pilot, lambda: "the balance does not add up" in notices(app))
        assert "difference -1,442.63 EUR" in notices(app)

    # a renewal that accepted a gap: the days never read are named
    later = date(2027, 3, 1)
    portal.move_to(later)
    monkeypatch.setenv("KOSMA_TUI_NOW", "2027-03-01T09:00:00")
    await link(mismatch, portal.url, username="late-booking", start="2027-02-20")
    for account in mismatch.accounts():
        set_last_integration_date(mismatch, account.name, date(2027, 2, 20))
    await sync_accounts(mismatch, portal.url)
    app = make_app(mismatch, portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        assert "never read (gap): 2026-11-29 to 2027-02-19" in flat_text(app)


def mail_panel_steps(pilot: Pilot) -> Any:
    async def run(pilot: Pilot) -> None:
        await pilot.press("g")
        await wait_until(pilot, lambda: pilot.app.screen.query("#mail-panel"))
        screen = pilot.app.screen
        screen.query_one("#settings-scroll").scroll_to_widget(
            screen.query_one("#mail-panel"), top=True, animate=False
        )
        screen.query_one("#mail-to").focus(scroll_visible=False)
        await pilot.pause()

    return run


def test_banking_settings_mail_section(snap_compare: Any, store: Store, portal: Any) -> None:
    settings = store.settings()
    settings.mail_to = ["admin@example.com", "it@example.com"]
    settings.mail_transport, settings.smtp_host = "smtp", "mail.example.com"
    settings.smtp_user, settings.smtp_password = "reminders", "hidden-password"
    store.save_settings(settings)
    assert snap(snap_compare, store, portal, mail_panel_steps(None))


async def test_mail_settings_checked_saved_and_a_test_mail_sent(
    store: Store, portal: Any, tmp_path: Path
) -> None:
    server = SMTPServer(tmp_path)
    try:
        app = make_app(store, portal)
        async with app.run_test(size=(80, 24)) as pilot:
            await settled(pilot)  # the screen's rows are read
            await mail_panel_steps(pilot)(pilot)
            screen = app.screen
            screen.query_one("#mail-to").value = "not an address"
            await pilot.pause()
            assert "is not a mail address" in flat_text(app)
            assert "is not a mail address" in str(screen.query_one("#mail-status").render())
            screen.query_one("#mail-save").press()
            await pilot.pause()
            assert "Mail settings not saved" in notices(app)
            assert store.settings().mail_to == []

            screen.query_one("#mail-to").value = "admin@example.com"
            screen.query_one("#smtp-host").value = "127.0.0.1"
            screen.query_one("#smtp-port").value = str(server.port)
            screen.query_one("#smtp-security").value = "none"
            await pilot.pause()
            await pilot.press("ctrl+t")  # the key of "Send test mail" in the mail section
            await wait_until(pilot, lambda: server.messages, what="the test mail")
            await wait_until(pilot, lambda: "Test mail sent" in notices(app))
            assert server.messages[0]["Subject"] == "kosma-tui test mail"
            assert store.settings().mail_to == []  # a test sends; it saves nothing

            await pilot.press("ctrl+o")  # "Save mail settings"
            await pilot.pause()
            saved = store.settings()
            assert saved.mail_to == ["admin@example.com"]
            assert (
                saved.mail_transport,
                saved.smtp_host,
                saved.smtp_port,
                saved.smtp_security,
            ) == ("smtp", "127.0.0.1", server.port, "none")

            # an unsaved edit of the mail section is not dropped without a question
            screen.query_one("#mail-from").value = "kosma@example.com"
            await pilot.pause()
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            assert "not saved" in flat_text(app)
    finally:
        server.stop()

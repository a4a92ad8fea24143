"""Reminders on launch: consents within reminder_days or expired come first, and Renew opens
the Link wizard for that bank and company from the oldest Last Integration Date."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tui_support import (
    SIZE,
    TODAY,
    flat_text,
    link,
    make_app,
    screen_text,
    settled,
    type_text,
    wait_until,
)

from kosma_tui.core.store import Store
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.screens.link import LinkScreen
from kosma_tui.tui.screens.reminders import ReminderModal


def travel(monkeypatch: pytest.MonkeyPatch, portal: Any, days: int) -> None:
    later = TODAY + timedelta(days=days)
    monkeypatch.setenv("KOSMA_TUI_NOW", f"{later.isoformat()}T09:00:00")
    portal.move_to(later)


def on_phase(app: Any, phase: str, number: int | None = None) -> bool:
    screen = app.screen
    return (
        isinstance(screen, LinkScreen)
        and not screen.busy
        and screen.phase == phase
        and (number is None or screen.phase_no == number)
    )


async def test_reminder_modal_lists_a_consent_within_seven_days(
    store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await link(store, portal.url)
    travel(monkeypatch, portal, 85)  # expires 2027-02-24, today 2027-02-19
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await wait_until(pilot, lambda: isinstance(app.screen, ReminderModal), what="the reminder")
        text = flat_text(app)
        assert "Bank consents need renewal" in text
        assert "Demo Bank · Demo Company" in text
        assert "expires 2027-02-24" in text and "5 d" in text
        await pilot.press("escape")  # remind me later
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        assert "consent expires in 5 days" in flat_text(app)


async def test_no_reminder_while_the_consent_has_time(
    store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await link(store, portal.url)
    travel(monkeypatch, portal, 80)  # 10 days left > reminder_days 7
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause(0.3)
        assert isinstance(app.screen, AccountsScreen)
        assert "10 d" in screen_text(app)


async def test_an_expired_consent_is_listed_as_expired(
    store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await link(store, portal.url)
    travel(monkeypatch, portal, 95)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await wait_until(pilot, lambda: isinstance(app.screen, ReminderModal))
        assert "expired 2027-02-24" in flat_text(app)


async def test_renewal_through_the_reminder(
    store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await link(store, portal.url)
    for account in store.accounts():
        store.update_account(account.name, last_integration_date="2027-02-10")
    store.update_account("Tagesgeld (Max Mustermann)", last_integration_date="2027-02-05")
    travel(monkeypatch, portal, 85)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await wait_until(pilot, lambda: isinstance(app.screen, ReminderModal))
        await pilot.press("enter")  # Renew the highlighted consent
        await wait_until(pilot, lambda: on_phase(app, "start"), what="the Link wizard")
        screen = app.screen
        assert isinstance(screen, LinkScreen)
        assert screen.company == "Demo Company" and screen.bank == "Demo Bank"
        start = screen.query_one("#start-date")
        assert start.value == "2027-02-05"  # type: ignore[attr-defined]  # the oldest LID
        assert "renewing Demo Bank" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(app, "form") and screen.phase_no in (2, 3))
        if screen.phase_no == 2:  # the country is preselected
            await pilot.press("enter")
            await wait_until(pilot, lambda: on_phase(app, "form", 3))
        assert "1 of 24 banks" in screen_text(app)  # pre-filtered to the consent's bank
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(app, "form", 4))
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(app, "form", 5))
        await type_text(pilot, "embedded")
        await pilot.press("enter")
        await type_text(pilot, "12345")
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(app, "form", 6))
        await type_text(pilot, "12345")
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(app, "accounts"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(app, "summary"))
        assert "(90 days left)" in flat_text(app)
        assert "Updated: Girokonto" in flat_text(app)
    consent = store.consent("Demo Bank-Demo Company")
    assert consent is not None and consent.consent_start == "2027-02-05"
    assert len(store.accounts()) == 3  # renewed, not duplicated

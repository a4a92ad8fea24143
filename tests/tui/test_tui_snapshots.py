"""Snapshots of every screen at 80x24: frozen clock, fixed host name, steady cursor, the
real Demo Bank portal with its deterministic data. Update with --snapshot-update."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from tui_support import (
    SIZE,
    TODAY,
    link,
    login,
    make_app,
    on_phase,
    settled,
    to_accounts,
    to_login,
    type_text,
    wait_until,
)

from kosma_tui.core.connection import DEMO_API_TOKEN, DEMO_CUSTOMER_ID
from kosma_tui.core.parties import import_parties, make_party
from kosma_tui.core.portal import PortalClient
from kosma_tui.core.store import Store
from kosma_tui.core.sync import SyncEngine
from kosma_tui.tui.screens.conflict import ConflictModal
from kosma_tui.tui.screens.reminders import ReminderModal
from kosma_tui.tui.screens.transactions import TransactionsScreen
from kosma_tui.tui.widgets.transaction_view import TransactionView

Pilot = Any
Steps = Callable[[Pilot], Awaitable[None]]


def linked(store: Store, url: str, *, sync: bool = True) -> None:
    async def setup() -> None:
        await link(store, url, start="2026-10-01")
        if sync:
            async with PortalClient(
                url, DEMO_CUSTOMER_ID, DEMO_API_TOKEN, ip_address="127.0.0.1"
            ) as client:
                engine = SyncEngine(store, client)
                for account in store.accounts():
                    await engine.sync_account(account.name)

    asyncio.run(setup())


def steady(steps: Steps | None = None) -> Steps:
    """Run ``steps``, then let the app settle (the store reads of its screens done) and
    drop the toasts (they time out)."""

    async def run(pilot: Pilot) -> None:
        await settled(pilot)
        if steps is not None:
            await steps(pilot)
        await settled(pilot)  # the screens' rows are read by thread workers
        pilot.app.clear_notifications()
        await pilot.pause()

    return run


def keys(*pressed: str) -> Steps:
    async def run(pilot: Pilot) -> None:
        for key in pressed:
            await pilot.press(key)
            await pilot.pause()

    return run


def snap(
    snap_compare: Any, store: Store, portal: Any, steps: Steps | None = None, **options: Any
) -> bool:
    app = make_app(store, portal, **options)
    return bool(snap_compare(app, terminal_size=SIZE, run_before=steady(steps)))


def test_accounts_first_launch(snap_compare: Any, store: Store, portal: Any) -> None:
    assert snap(snap_compare, store, portal)


def test_accounts_linked_and_synced(snap_compare: Any, store: Store, portal: Any) -> None:
    linked(store, portal.url)
    assert snap(snap_compare, store, portal)


def test_banking_settings(snap_compare: Any, store: Store, portal: Any) -> None:
    from tui_support import screen_text

    async def steps(pilot: Pilot) -> None:
        await pilot.press("g")
        await wait_until(
            pilot,
            lambda: "transactions used" in screen_text(pilot.app),
            what="the subscription, fetched when the screen opens",
        )

    assert snap(snap_compare, store, portal, steps)


def test_link_company_and_start_date(snap_compare: Any, store: Store, portal: Any) -> None:
    async def steps(pilot: Pilot) -> None:
        await pilot.press("l")
        await wait_until(pilot, lambda: on_phase(pilot.app, "start"))

    assert snap(snap_compare, store, portal, steps)


def test_link_bank_filtered(snap_compare: Any, store: Store, portal: Any) -> None:
    async def steps(pilot: Pilot) -> None:
        await pilot.press("l")
        await wait_until(pilot, lambda: on_phase(pilot.app, "start"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(pilot.app, "form", 2))
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(pilot.app, "form", 3))
        await type_text(pilot, "demo")

    assert snap(snap_compare, store, portal, steps)


def test_link_otp_not_accepted(snap_compare: Any, store: Store, portal: Any) -> None:
    async def steps(pilot: Pilot) -> None:
        await to_login(pilot, pilot.app)
        await login(pilot, pilot.app, "embedded")
        await wait_until(pilot, lambda: on_phase(pilot.app, "form", 6))
        await type_text(pilot, "99999")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: (
                on_phase(pilot.app, "form", 6)
                and pilot.app.screen.query_one("#step-error").render()
            ),
        )

    assert snap(snap_compare, store, portal, steps)


def test_link_choose_accounts(snap_compare: Any, store: Store, portal: Any) -> None:
    async def steps(pilot: Pilot) -> None:
        await to_accounts(pilot, pilot.app)
        await pilot.press("space")  # leave the first account out

    assert snap(snap_compare, store, portal, steps)


def test_link_summary(snap_compare: Any, store: Store, portal: Any) -> None:
    async def steps(pilot: Pilot) -> None:
        await to_accounts(pilot, pilot.app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: on_phase(pilot.app, "summary"))

    assert snap(snap_compare, store, portal, steps)


def test_consents(snap_compare: Any, store: Store, portal: Any) -> None:
    linked(store, portal.url, sync=False)
    assert snap(snap_compare, store, portal, keys("c"))


def test_sync_screen(snap_compare: Any, store: Store, portal: Any) -> None:
    linked(store, portal.url)
    assert snap(snap_compare, store, portal, keys("y"))


def test_transactions(snap_compare: Any, store: Store, portal: Any) -> None:
    linked(store, portal.url)

    async def steps(pilot: Pilot) -> None:
        await pilot.press("t")
        await wait_until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, TransactionsScreen)
                and bool(pilot.app.screen.query_one(TransactionView).rows)
            ),
        )

    assert snap(snap_compare, store, portal, steps)


def test_parties(snap_compare: Any, store: Store, portal: Any) -> None:
    import_parties(
        store,
        [
            make_party("Supplier", "Hausverwaltung Schmidt", ["DE89 3704 0044 0532 0130 00"]),
            make_party("Supplier", "[red]Lieferant[/red] GmbH"),
            make_party("Customer", "Zoë Ångström", [], ["1234567890"]),
        ],
    )
    assert snap(snap_compare, store, portal, keys("p"))


def test_help(snap_compare: Any, store: Store, portal: Any) -> None:
    assert snap(snap_compare, store, portal, keys("f1"))


def test_reminder_on_launch(
    snap_compare: Any, store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked(store, portal.url, sync=False)
    later = TODAY + timedelta(days=85)
    monkeypatch.setenv("KOSMA_TUI_NOW", f"{later.isoformat()}T09:00:00")
    portal.move_to(later)

    async def steps(pilot: Pilot) -> None:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReminderModal))

    assert snap(snap_compare, store, portal, steps)


def test_consent_start_conflict(snap_compare: Any, store: Store, portal: Any) -> None:
    linked(store, portal.url, sync=False)
    store.update_account("Girokonto (Max Mustermann)", last_integration_date="2026-09-01")

    async def steps(pilot: Pilot) -> None:
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConflictModal))

    assert snap(snap_compare, store, portal, steps)

"""Store work from a screen runs in a worker: a store that takes its time (a lock held by
the daily job, a slow disk) never holds the keyboard, and drawing never reads the disk."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from test_tui_transactions import GIRO, synced
from tui_support import (
    SIZE,
    flat_text,
    link,
    make_app,
    notices,
    on_phase,
    screen_text,
    settled,
    type_text,
    wait_until,
)

from kosma_tui.core.parties import add_party
from kosma_tui.core.store import Store
from kosma_tui.core.store.book import TransactionBook
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.screens.consents import ConsentsScreen
from kosma_tui.tui.screens.help import HelpScreen
from kosma_tui.tui.screens.link import LinkScreen
from kosma_tui.tui.screens.parties import PartiesScreen, PartyModal
from kosma_tui.tui.screens.settings import SettingsScreen
from kosma_tui.tui.screens.sync import SyncScreen
from kosma_tui.tui.screens.transactions import TransactionsScreen
from kosma_tui.tui.widgets import row_source
from kosma_tui.tui.widgets.transaction_view import TransactionView

# without a worker the event loop would sit in the store call until this runs out, the
# keys typed meanwhile would arrive only after the save: the tests below would fail
HELD = 5.0


class Gate:
    """Makes one store method wait until ``open()``; ``entered`` once it is waiting, ``left``
    once a held call returned. ``armed`` False lets calls through (setting up a screen)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.left = threading.Event()
        self._open = threading.Event()
        self.armed = True

    def hold(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            if not self.armed:
                return method(*args, **kwargs)
            self.entered.set()
            self._open.wait(HELD)
            try:
                return method(*args, **kwargs)
            finally:
                self.left.set()

        return held

    def open(self) -> None:
        self._open.set()


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()
    yield held
    held.open()


async def test_a_slow_settings_save_does_not_hold_the_keyboard(
    store: Store, portal: Any, gate: Gate
) -> None:
    store.save_settings = gate.hold(store.save_settings)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press("ctrl+s")
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the save to start")
        # the save waits in its thread; the form still takes keys and checks them
        await type_text(pilot, "ftp:")
        assert app.screen.query_one("#admin_url").value == "ftp:"  # type: ignore[attr-defined]
        assert "Banking Settings saved" not in notices(app)
        gate.open()
        await wait_until(pilot, lambda: "Banking Settings saved" in notices(app))
        # the edit typed during the save is not taken for saved: Escape asks first
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Unsaved changes" in flat_text(app))


async def test_a_slow_party_save_does_not_hold_the_keyboard(
    store: Store, portal: Any, gate: Gate
) -> None:
    store.save_party = gate.hold(store.save_party)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, PartyModal))
        await type_text(pilot, "ACME GmbH")
        await pilot.press("enter")
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the save to start")
        await pilot.press("enter")  # a second Enter during the save adds nothing twice
        await type_text(pilot, "!")
        assert app.screen.query_one("#party-name").value == "ACME GmbH!"  # type: ignore[attr-defined]
        assert isinstance(app.screen, PartyModal)
        gate.open()
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        assert "ACME GmbH saved" in notices(app)
        assert [p.name for p in store.parties()] == ["ACME GmbH"]
        assert "ACME GmbH" in flat_text(app)


async def test_transaction_pages_are_read_off_the_ui_thread(
    store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await synced(store, portal.url)
    monkeypatch.setattr(row_source, "PAGE", 10)  # several pages from the Demo Bank's rows
    readers: list[str] = []
    real = TransactionBook.rows_page

    def rows_page(self: TransactionBook, *args: Any, **kwargs: Any) -> Any:
        readers.append(threading.current_thread().name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TransactionBook, "rows_page", rows_page)
    account = store.account(GIRO)
    assert account is not None
    oldest = store.book(account).all_rows(raw=False)[-1]["date"]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("t")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, TransactionsScreen)
                and bool(app.screen.query_one(TransactionView).rows)
            ),
        )
        await pilot.press("end")
        await wait_until(pilot, lambda: oldest in flat_text(app), what="the oldest row")
    assert len(readers) >= 2  # the first page and the oldest
    assert threading.main_thread().name not in readers


def held_here(gate: Gate) -> bool:
    """The held store call has not returned: what the screen did meanwhile, it did with
    the keyboard free (on the UI thread the app would have waited for the call)."""
    return gate.entered.is_set() and not gate.left.is_set()


async def opens_while_held(pilot: Any, gate: Gate, key: str, screen: type, shown: str) -> None:
    """``key`` opens ``screen`` at once although its store read is held ("loading…"),
    Escape goes back home meanwhile, and once the read is let go the screen shows
    ``shown``."""
    app = pilot.app
    await settled(pilot)
    gate.armed = True
    await pilot.press(key)
    await wait_until(pilot, gate.entered.is_set, timeout=3, what="the read to start")
    assert isinstance(app.screen, screen)
    assert "loading…" in flat_text(app)
    await pilot.press("escape")  # back home while the read is still held
    await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen), timeout=3)
    assert held_here(gate)
    gate.open()
    gate.armed = False
    await settled(pilot)
    await pilot.press(key)
    await settled(pilot)
    assert shown in flat_text(app)


async def test_accounts_answers_keys_while_its_accounts_are_read(
    store: Store, portal: Any, gate: Gate
) -> None:
    await link(store, portal.url)
    store.accounts = gate.hold(store.accounts)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the read to start")
        assert "Loading the bank accounts" in flat_text(app)
        await pilot.press("c")  # Consents, while Accounts still waits for the store
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentsScreen), timeout=3)
        assert held_here(gate)
        gate.open()
        await pilot.press("escape")
        await settled(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert "Girokonto" in flat_text(app)  # the rows, once read


async def test_consents_answers_keys_while_the_consents_are_read(
    store: Store, portal: Any, gate: Gate
) -> None:
    await link(store, portal.url)
    gate.armed = False
    store.consents = gate.hold(store.consents)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await opens_while_held(pilot, gate, "c", ConsentsScreen, "Demo Bank · Demo Company")


async def test_sync_screen_and_sync_key_answer_while_the_store_is_read(
    store: Store, portal: Any, gate: Gate
) -> None:
    await link(store, portal.url)
    gate.armed = False
    store.accounts = gate.hold(store.accounts)  # type: ignore[method-assign]
    store.account = gate.hold(store.account)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        gate.armed = True
        await pilot.press("s")  # the refusal check reads the account: in a worker
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the check to start")
        await pilot.press("y")  # the Sync screen opens with its rows still to read
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen), timeout=3)
        assert "Loading the bank accounts" in flat_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen), timeout=3)
        assert held_here(gate)
        gate.open()
        gate.armed = False
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, SyncScreen) and "Girokonto" in flat_text(app),
            what="the sync started",
        )


async def test_the_link_start_answers_keys_while_the_store_is_read(
    store: Store, portal: Any, gate: Gate
) -> None:
    gate.armed = False
    store.companies = gate.hold(store.companies)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        gate.armed = True
        await pilot.press("l")  # the Link screen reads the companies first
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the read to start")
        await pilot.press("f4")  # the app's keys still work: on to Consents
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentsScreen), timeout=3)
        assert held_here(gate)
        gate.open()
        gate.armed = False
        await pilot.press("escape")
        await pilot.press("l")
        await wait_until(pilot, lambda: on_phase(app, "start"), what="the start step")
        assert isinstance(app.screen, LinkScreen)
        assert "Demo Company" in flat_text(app)


async def test_the_link_flow_stores_its_session_off_the_event_loop(
    store: Store, portal: Any, gate: Gate
) -> None:
    gate.armed = False
    writers: list[str] = []
    save = store.save_link_session

    def recorded(*args: Any, **kwargs: Any) -> Any:
        writers.append(threading.current_thread().name)
        return save(*args, **kwargs)

    store.save_link_session = gate.hold(recorded)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("l")
        await wait_until(pilot, lambda: on_phase(app, "start"), what="the start step")
        gate.armed = True
        await pilot.press("enter")  # Continue: the flow opens a session and stores it
        await wait_until(pilot, gate.entered.is_set, timeout=5, what="the session write")
        await pilot.press("f1")  # Help opens while the write waits
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), timeout=3)
        assert held_here(gate)
        gate.open()
        gate.armed = False
        await pilot.press("escape")
        await wait_until(pilot, lambda: on_phase(app, "form", 2), what="the country step")
    assert writers and threading.main_thread().name not in writers


async def test_parties_answer_keys_while_the_parties_are_read(
    store: Store, portal: Any, gate: Gate
) -> None:
    add_party(store, "Supplier", "Lieferant GmbH", [])
    gate.armed = False
    store.parties = gate.hold(store.parties)  # type: ignore[method-assign]
    store.accounts = gate.hold(store.accounts)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await opens_while_held(pilot, gate, "p", PartiesScreen, "Lieferant GmbH")
        assert "Party matching is off" in flat_text(app)  # the settings, read with them

        # Match parties reads the accounts in a worker too: the keys answer meanwhile,
        # and the answer (no account yet) comes once read, not before
        gate.__init__()  # type: ignore[misc]
        await pilot.press("m")
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the accounts read")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, PartyModal), timeout=3)
        assert held_here(gate)
        assert "No bank account yet" not in notices(app)
        gate.open()
        await wait_until(pilot, lambda: "No bank account yet" in notices(app))


async def test_transactions_open_while_the_store_is_read(
    store: Store, portal: Any, gate: Gate
) -> None:
    await link(store, portal.url)
    gate.armed = False
    store.erpnext = gate.hold(store.erpnext)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        gate.armed = True
        await pilot.press("t")  # its columns depend on the ERPNext connection: read first
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the read to start")
        assert isinstance(app.screen, TransactionsScreen)
        assert "loading…" in flat_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen), timeout=3)
        assert held_here(gate)
        gate.open()
        gate.armed = False
        await settled(pilot)
        await pilot.press("t")
        await settled(pilot)
        assert "Transactions · Girokonto" in flat_text(app)
        assert " · EUR · " in flat_text(app)  # the currency, read with the rows


async def test_settings_open_while_the_settings_are_read(
    store: Store, portal: Any, gate: Gate
) -> None:
    store.save_settings(
        replace(
            store.settings(),
            customer_id="ACME-123",
            mail_to=["admin@example.com"],
            mail_transport="sendmail",
        )
    )
    gate.armed = False
    store.settings = gate.hold(store.settings)  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        gate.armed = True
        await pilot.press("g")
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the read to start")
        assert isinstance(app.screen, SettingsScreen)
        assert "loading…" in flat_text(app)
        await pilot.press("ctrl+s")  # refused, nothing to save from yet
        assert "still being read" in notices(app)
        assert "Banking Settings saved" not in notices(app)
        await pilot.press("escape")  # nothing typed: back home without a question
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen), timeout=3)
        assert held_here(gate)
        gate.open()
        gate.armed = False
        await settled(pilot)
        await pilot.press("g")
        await settled(pilot)
        screen = app.screen
        assert screen.query_one("#customer_id").value == "ACME-123"  # type: ignore[attr-defined]
        assert screen.query_one("#mail-to").value == "admin@example.com"  # type: ignore[attr-defined]
        assert "Reminders go to" in str(screen.query_one("#mail-status").render())


async def test_the_mail_section_reads_the_store_once_and_saves_only_its_fields(
    store: Store, portal: Any
) -> None:
    store.save_settings(replace(store.settings(), mail_transport="sendmail"))
    reads: list[str] = []
    real = store.settings

    def counted() -> Any:
        reads.append(threading.current_thread().name)
        return real()

    store.settings = counted  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("g")
        await settled(pilot)
        screen = app.screen
        screen.query_one("#mail-to").focus(scroll_visible=False)
        await pilot.pause()
        before = len(reads)
        await type_text(pilot, "admin@example.com")  # checked per key, in memory
        await pilot.pause()
        assert len(reads) == before
        assert "Reminders go to" in str(screen.query_one("#mail-status").render())
        # meanwhile another save (kosma-tui settings) changes the Customer ID ...
        store.save_settings(replace(real(), customer_id="SAVED-ELSEWHERE"))
        await pilot.press("ctrl+o")  # ... which the mail save keeps
        await wait_until(pilot, lambda: "Mail settings saved" in notices(app))
        saved = real()
        assert saved.mail_to == ["admin@example.com"]
        assert saved.customer_id == "SAVED-ELSEWHERE"


async def test_the_header_draws_from_a_settings_snapshot(
    store: Store, portal: Any, gate: Gate
) -> None:
    reads: list[str] = []
    real = gate.hold(store.settings)

    def counted() -> Any:
        reads.append(threading.current_thread().name)
        return real()

    store.settings = counted  # type: ignore[method-assign]
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        # the app reads the settings at start in a worker; the keys answer meanwhile
        await wait_until(pilot, gate.entered.is_set, timeout=3, what="the read to start")
        assert "DEMO" not in screen_text(app)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentsScreen), timeout=3)
        assert held_here(gate)
        gate.open()
        await settled(pilot)
        assert "Kosma TUI · erp01 · DEMO" in screen_text(app)
        # redrawing (a resize, other screens) reads nothing
        before = len(reads)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        assert len(reads) == before
        assert threading.main_thread().name not in reads
        # a save on the Settings screen changes the mode at once
        await pilot.press("escape")
        await pilot.press("g")
        await settled(pilot)
        screen = app.screen
        screen.query_one("#admin_url").value = "https://portal.example.com"  # type: ignore[attr-defined]
        screen.query_one("#customer_id").value = "ACME-123"  # type: ignore[attr-defined]
        screen.query_one("#api_token").value = "tok-12345678"  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Banking Settings saved" in notices(app))
        await wait_until(
            pilot,
            lambda: "Kosma TUI · erp01 · portal.example.com" in screen_text(app),
            what="the header's new mode",
        )

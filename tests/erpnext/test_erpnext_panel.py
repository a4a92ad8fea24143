"""The ERPNext panel and push dialog (Pilot), against the Frappe double and a real store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from erpnext_support import ACCOUNT, ERP_BANK_ACCOUNT, add_account, add_rows, row
from frappe_double import API_KEY, API_SECRET
from textual.app import App, ComposeResult
from textual.widgets import Input, Static, Switch

from kosma_tui.core.erpnext import ErpnextClient
from kosma_tui.runtime import Runtime
from kosma_tui.tui.widgets.erpnext_panel import ErpnextPanel, ErpnextPushModal, pushed_label


class Host(App[None]):
    """The panel in a small app with a store and a runtime, as ``KosmaApp`` gives them."""

    def __init__(self, store: Any, panel: ErpnextPanel | None = None) -> None:
        super().__init__()
        self.store = store
        self.runtime = Runtime(store=store)
        self.panel = panel or ErpnextPanel()

    def compose(self) -> ComposeResult:
        yield self.panel


class CountingRuntime(Runtime):
    """A runtime that counts the ERPNext clients it makes, and with which options."""

    def __init__(self, store: Any) -> None:
        super().__init__(store=store)
        self.made: list[dict[str, Any]] = []

    def erpnext(self, **client_options: Any) -> ErpnextClient:
        self.made.append(client_options)
        return super().erpnext(**client_options)


async def wait_until(pilot: Any, condition: Callable[[], object], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)
        await asyncio.sleep(0)


def panel_read(app: App[None]) -> bool:
    """The panel read the stored connection (a worker) and takes keys."""
    return not app.query_one(ErpnextPanel).disabled


def status_text(app: App[None]) -> str:
    return str(app.query_one("#erp-status", Static).render())


async def test_panel_connects_imports_maps_and_pushes(store, erp):
    add_account(store)
    add_rows(store, [row(ACCOUNT, n) for n in range(3)])
    app = Host(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: panel_read(app))
        panel = app.query_one(ErpnextPanel)
        app.query_one("#erp-url", Input).value = "http://erp.example.com"
        await pilot.pause()
        assert "must use https://" in str(app.query_one("#erp-url-msg", Static).render())
        app.query_one("#erp-url", Input).value = erp.url
        app.query_one("#erp-key", Input).value = API_KEY
        app.query_one("#erp-secret", Input).value = "wrong"
        panel.action_connect()
        await wait_until(pilot, lambda: "did not accept" in status_text(app))
        assert store.erpnext().url == ""  # nothing saved
        app.query_one("#erp-secret", Input).value = API_SECRET
        panel.action_connect()
        await wait_until(pilot, lambda: store.erpnext().url == erp.url)
        await wait_until(pilot, lambda: "Connected" in status_text(app))
        assert app.query_one("#erp-secret", Input).value == ""
        panel.action_import()
        await wait_until(pilot, lambda: "companies." in status_text(app))
        panel.action_map()
        await wait_until(pilot, lambda: "1 mapped" in status_text(app))
        assert store.account(ACCOUNT).erpnext_bank_account == ERP_BANK_ACCOUNT
        panel.action_push()
        await wait_until(pilot, lambda: "3 created" in status_text(app))
        assert len(erp.bank_transactions()) == 3
        app.query_one("#erp-auto-push", Switch).value = True
        await pilot.pause()
        assert store.settings().erpnext_auto_push is True


async def test_push_dialog_shows_progress_and_the_result(connected, erp):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(250)])
    app = Host(connected)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: panel_read(app))
        modal = ErpnextPushModal([ACCOUNT])
        app.push_screen(modal)
        await wait_until(pilot, lambda: modal.finished)
        assert modal.report.total("created") == 250
        assert "250 created" in str(modal.query_one("#erp-push-status", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not modal


async def test_the_panel_and_the_dialog_get_their_clients_from_the_runtime(connected, erp):
    """Test, import, map and push all ask the app's runtime for their ERPNext client."""
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(2)])
    app = Host(connected)
    app.runtime = runtime = CountingRuntime(connected)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: panel_read(app))
        panel = app.query_one(ErpnextPanel)
        await wait_until(pilot, lambda: "Connected" in status_text(app))
        assert runtime.made == []  # the first status is read without asking ERPNext
        panel.action_test()
        await wait_until(pilot, lambda: "✓ Connected" in status_text(app))
        assert runtime.made == [{"retries": 0, "timeout": 10.0}]  # a quick check
        panel.action_import()
        await wait_until(pilot, lambda: "companies." in status_text(app))
        panel.action_map()
        await wait_until(pilot, lambda: "mapped" in status_text(app))
        panel.action_push()
        await wait_until(pilot, lambda: "2 created" in status_text(app))
        assert len(runtime.made) == 4
        modal = ErpnextPushModal([ACCOUNT])
        app.push_screen(modal)
        await wait_until(pilot, lambda: modal.finished)
        assert len(runtime.made) == 5


async def test_a_panel_given_a_client_factory_uses_it(connected, erp):
    """The panel's own seam: a factory passed in wins over the app's runtime."""
    made: list[dict[str, Any]] = []

    def factory(**options: Any) -> ErpnextClient:
        made.append(options)
        return ErpnextClient.for_store(connected, **options)

    app = Host(connected, ErpnextPanel(store=connected, erpnext=factory))
    app.runtime = CountingRuntime(connected)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: panel_read(app))
        app.panel.action_test()
        await wait_until(pilot, lambda: "✓ Connected" in status_text(app))
    assert made == [{"retries": 0, "timeout": 10.0}]
    assert app.runtime.made == []


def test_pushed_label():
    assert pushed_label({"status": "Settled", "erpnext_name": ""}).plain == "waiting"
    assert pushed_label({"status": "Pending", "erpnext_name": ""}).plain == ""
    assert pushed_label({"status": "Settled", "erpnext_name": "ACC-BTN-1"}).plain == "✓ ACC-BTN-1"
    assert (
        pushed_label(
            {"status": "Cancelled", "erpnext_name": "ACC-BTN-1", "erpnext_cancelled": True}
        ).plain
        == "✗ ACC-BTN-1"
    )
    assert (
        pushed_label(
            {"status": "Cancelled", "erpnext_name": "ACC-BTN-1", "erpnext_attention": "ACC-BTN-1"}
        ).plain
        == "! ACC-BTN-1 reconciled"
    )


def test_push_summary_names_attention_unknown_parties_and_duplicates():
    from kosma_tui.core.erpnext.report import AccountPush, PushItem, PushReport
    from kosma_tui.tui.widgets.erpnext_panel import push_summary

    report = PushReport(False)
    report.accounts.append(
        AccountPush(
            "Main",
            attention=1,
            missing_parties={"Customer 'Nobody'": 2},
            duplicates={"tx-1": ["ACC-BTN-1", "ACC-BTN-2"]},
            items=[
                PushItem(
                    "attention",
                    "tx-9",
                    "2026-01-02",
                    100,
                    "EUR",
                    "ACC-BTN-9",
                    "ACC-BTN-9 is reconciled in ERPNext",
                )
            ],
        )
    )
    text = push_summary(report).plain
    assert "tx-9: ACC-BTN-9 is reconciled in ERPNext" in text
    assert "Customer 'Nobody'" in text and "erpnext dedupe" in text

"""Accounts shows a failed automatic ERPNext push and a reconciliation the bank undid."""

from __future__ import annotations

from typing import Any

from tui_support import SIZE, make_app, settled

from kosma_tui.core.erpnext.report import PushReport, record_push
from kosma_tui.core.errors import Problem
from kosma_tui.core.store import Store
from kosma_tui.tui.screens.accounts import last_sync_text


async def test_accounts_shows_a_failed_push_until_one_succeeds(store: Store, portal: Any) -> None:
    record_push(
        store,
        None,
        unattended=True,
        problem=Problem(
            "ERPNEXT.UNREACHABLE", "ERPNext at https://erp.example.com could not be reached."
        ),
    )
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        text = last_sync_text(app.screen).plain
        assert "The last ERPNext push (automatic" in text
        assert "could not be reached" in text
        record_push(store, PushReport(False))  # a push that worked
        app.screen.reload()  # type: ignore[attr-defined]
        await settled(pilot)
        assert "ERPNext push" not in last_sync_text(app.screen).plain


async def test_accounts_names_the_reconciled_document_the_bank_cancelled(
    store: Store, portal: Any
) -> None:
    from kosma_tui.core.erpnext.report import AccountPush, PushItem

    report = PushReport(False)
    report.accounts.append(
        AccountPush(
            "Main",
            "Main - Demo Bank",
            attention=1,
            items=[
                PushItem(
                    "attention",
                    "tx-1",
                    "2026-11-20",
                    1000,
                    "EUR",
                    "ACC-BTN-2026-00007",
                    "reconciled",
                )
            ],
        )
    )
    record_push(store, report)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = last_sync_text(app.screen).plain
        assert "ERPNext ACC-BTN-2026-00007 needs attention" in text
        assert "'Main'" in text

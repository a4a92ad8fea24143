"""The TUI's sync queue follows the push policy of ``kosma-tui sync``: its accounts are
synced first, then one push hands ERPNext the ids each of them stored."""

from __future__ import annotations

from typing import Any

import pytest
from tui_support import SIZE, link, make_app, notices, settled, wait_until

from kosma_tui.core.errors import Problem
from kosma_tui.core.store import Store
from kosma_tui.tui.screens.sync import SyncScreen


class Pushes:
    """The runtime's after-sync hooks with a push that records what it is handed."""

    def __init__(self, problem: Problem | None = None) -> None:
        self.problem = problem
        self.calls: list[dict[str, list[str]]] = []

    def party_matcher(self, store: Any) -> Any:
        return None

    async def push(self, store: Any, stored: Any) -> Problem | None:
        self.calls.append({name: list(ids) for name, ids in stored.items()})
        return self.problem


@pytest.mark.parametrize("fails", [False, True])
async def test_sync_all_pushes_once_with_every_accounts_stored_ids(
    store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    await link(store, portal.url, start="2026-11-01")
    problem = (
        Problem(
            "ERPNEXT.UNREACHABLE", "ERPNext could not be reached.", "Check the ERPNext connection."
        )
        if fails
        else None
    )
    pushes = Pushes(problem)
    app = make_app(store, portal, reminders=False)
    monkeypatch.setattr(app.runtime, "after_sync", lambda: pushes)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await wait_until(
            pilot, lambda: "Sync of 3 accounts done" in notices(app), what="the summary"
        )
        states = app.sync_queue.states
        assert len(pushes.calls) == 1
        (pushed,) = pushes.calls
        assert sorted(pushed) == sorted(a.name for a in store.accounts())
        for account in store.accounts():
            assert set(pushed[account.name]) == {
                r["transaction_id"] for r in store.book(account).rows()
            }
            assert states[account.name].result.push_error == problem
        assert ("ERPNext could not be reached." in notices(app)) is fails

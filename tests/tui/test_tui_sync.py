"""Sync from the TUI: in the background, progress visible, results announced and recorded;
refusals say why; the Last Integration Date / Consent Start Date conflict offers both remedies."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from tui_support import (
    SIZE,
    TODAY,
    flat_text,
    link,
    make_app,
    notices,
    screen_text,
    settled,
    wait_until,
)

from kosma_tui.core.store import Store
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.screens.conflict import ConflictModal
from kosma_tui.tui.screens.link import LinkScreen
from kosma_tui.tui.screens.sync import SyncScreen
from kosma_tui.tui.sync_queue import RUNNING, AccountSync

GIRO = "Girokonto (Max Mustermann)"


async def test_sync_one_account_shows_progress_and_the_result(store: Store, portal: Any) -> None:
    await link(store, portal.url, start="2026-01-01")
    app = make_app(store, portal)
    seen: list[AccountSync] = []
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        app.sync_signal.subscribe(
            app.screen,
            lambda name: seen.append(replace(app.sync_queue.state(name))),
            immediate=True,
        )
        assert app.screen.selected_name() == GIRO  # type: ignore[attr-defined]
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await wait_until(
            pilot, lambda: app.sync_queue.state(GIRO).state == "ok", what="the sync to finish"
        )
        await pilot.pause()
        text = flat_text(app)
        assert "100%" in text and "new" in text and "fetched" in text
        assert "1 done" in text
        running = [s for s in seen if s.state == RUNNING and s.phase == "transactions"]
        assert running and running[0].page >= 1 and running[-1].fetched > 0
        fractions = [s.fraction for s in running]  # a determinate bar, never going back
        assert None not in fractions and fractions == sorted(fractions)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        await pilot.pause()
        assert "today 09:00" in screen_text(app)  # the last sync of the selected account
    account = store.account(GIRO)
    assert account is not None and account.last_sync.outcome == "ok"
    assert account.last_integration_date == TODAY.isoformat()
    assert store.book(account).count() == account.last_sync.new > 0
    assert [r.account for r in store.sync_runs()] == [GIRO]


async def test_sync_all_queues_every_account_and_keeps_the_app_usable(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url, start="2026-06-01")
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await pilot.press("escape")  # the admin goes on while the queue runs
        await pilot.press("c")
        await wait_until(pilot, lambda: "Bank Consents" in screen_text(app))
        await wait_until(
            pilot,
            lambda: (
                not app.sync_queue.busy
                and all(s.state == "ok" for s in app.sync_queue.states.values())
            ),
            what="every account synced",
        )
    assert all(a.last_sync.outcome == "ok" for a in store.accounts())
    assert len(store.accounts()) == 3


async def test_an_expired_consent_is_refused_with_the_reason(
    store: Store, portal: Any, monkeypatch: Any
) -> None:
    await link(store, portal.url)
    later = TODAY + timedelta(days=100)
    monkeypatch.setenv("KOSMA_TUI_NOW", f"{later.isoformat()}T09:00:00")
    portal.move_to(later)
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        assert "exp." in screen_text(app)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, AccountsScreen)  # refused, not queued
        text = notices(app)
        assert "The Bank Consent Demo Bank-Demo Company expired on 2027-02-24" in text
        assert "Run Link Bank and Accounts again" in text
        assert "kosma-tui" not in text  # in the app, the app's words, not a command line
        assert not app.sync_queue.busy


async def test_consent_start_conflict_remedy_one_sets_the_last_integration_date(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url, start="2026-11-01")
    store.update_account(GIRO, last_integration_date="2026-10-01")
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictModal))
        text = flat_text(app)
        assert "Its Last Integration Date (2026-10-01) is older than the Consent" in text
        assert "Start Date (2026-11-01)" in text
        assert "Set Last Integration Date to 2026-11-01" in text
        assert "Link Bank and Accounts from 2026-10-01" in text
        await pilot.press("1")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        account = store.account(GIRO)
        assert account is not None and account.last_integration_date == "2026-11-01"
        await pilot.press("s")  # no conflict any more: it syncs
        await wait_until(pilot, lambda: app.sync_queue.state(GIRO).state == "ok")


async def test_consent_start_conflict_remedy_two_relinks_from_the_lid(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url, start="2026-11-01")
    store.update_account(GIRO, last_integration_date="2026-10-01")
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictModal))
        await pilot.press("2")
        await wait_until(
            pilot, lambda: isinstance(app.screen, LinkScreen) and app.screen.phase == "start"
        )
        screen = app.screen
        assert isinstance(screen, LinkScreen)
        assert screen.bank == "Demo Bank" and screen.company == "Demo Company"
        assert screen.query_one("#start-date").value == "2026-10-01"  # type: ignore[attr-defined]
        assert "renewing Demo Bank" in screen_text(app)


async def test_the_accounts_panel_follows_a_running_sync_with_its_percentage(
    store: Store, portal: Any
) -> None:
    await link(store, portal.url, username="many-transactions100000", start="2026-01-01")
    [account] = store.accounts()
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        assert app.sync([account.name]) == [account.name]  # queued, staying on Accounts
        await wait_until(
            pilot,
            lambda: "syncing: " in flat_text(app) and "% · page " in flat_text(app),
            what="the running sync with its percentage",
        )
        assert isinstance(app.screen, AccountsScreen)
        await wait_until(pilot, lambda: not app.sync_queue.busy, what="the sync to finish")
        await pilot.pause()
        assert "syncing" not in flat_text(app) and " new, " in flat_text(app)


async def test_sync_all_ends_with_one_summary_not_a_toast_per_account(
    store: Store, portal: Any
) -> None:
    from kosma_tui.core.records import Company

    await link(store, portal.url, start="2026-11-01")
    store.save_company(Company("ACME", "DE", "01-01", "EUR"))
    await link(
        store,
        portal.url,
        username="invalid-transactions-timerange",
        company="ACME",
        start="2026-11-01",
    )
    names = [a.name for a in store.accounts()]
    assert len(names) == 6
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await wait_until(
            pilot, lambda: "Sync of 6 accounts done" in notices(app), what="the summary"
        )
        shown = [n for n in app._notifications]
        assert len(shown) == 2  # "6 account(s) queued", then the one summary
        assert "3 synced" in notices(app) and "3 not synced" in notices(app)
        assert "synced" not in " ".join(n.title for n in shown if "Sync of" not in n.title)
        rows = [r.account for r in app.screen.rows()]  # type: ignore[attr-defined]
        failed = next(i for i, n in enumerate(rows) if store.account(n).company == "ACME")
        for _ in range(failed):
            await pilot.press("down")
        await pilot.pause()
        text = flat_text(app)
        assert "refuses transactions for that date range" in text  # the selected row, whole
        assert "…" in screen_text(app)  # the rows are cut with an ellipsis, not mid-word


def test_progress_updates_of_one_account_give_way_to_newer_ones() -> None:
    from kosma_tui.tui.sync_queue import RUNNING, AccountSync, SyncUpdate

    page1 = SyncUpdate(AccountSync("giro", RUNNING, "transactions", 1))
    page2 = SyncUpdate(AccountSync("giro", RUNNING, "transactions", 2))
    done = SyncUpdate(AccountSync("giro", "ok"))
    other = SyncUpdate(AccountSync("tagesgeld", RUNNING, "transactions", 1))
    saving = SyncUpdate(AccountSync("giro", RUNNING, "saving", 2))
    assert page1.can_replace(page2)
    assert not page2.can_replace(saving)  # each phase is shown
    assert not page2.can_replace(done) and not done.can_replace(page1)  # and the result
    assert not page1.can_replace(other)  # another account's progress is its own
    assert not page1.can_replace(SyncUpdate(None))  # the queue's end is never merged

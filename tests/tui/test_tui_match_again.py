"""Match again: parties added after a sync are matched over the stored transactions (m on
Accounts), in the background, the count announced; with matching off the reason is shown."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tui_support import SIZE, link, make_app, notices, settled, wait_until

from kosma_tui.core.records import Party
from kosma_tui.core.store import Store
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.screens.parties import PartiesScreen
from kosma_tui.tui.screens.sync import SyncScreen

GIRO = "Girokonto (Max Mustermann)"


async def test_match_again_gives_stored_transactions_a_party(store: Store, portal: Any) -> None:
    await link(store, portal.url, start="2026-06-01")
    assert not store.settings().enable_party_matching
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        assert app.screen.selected_name() == GIRO  # type: ignore[attr-defined]
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncScreen))
        await wait_until(
            pilot, lambda: app.sync_queue.state(GIRO).state == "ok", what="the sync to finish"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        account = store.account(GIRO)
        assert account is not None
        rows = store.book(account).all_rows(raw=False)
        row = next(
            r
            for r in rows
            if r.get("bank_party_name") and r.get("transaction_id") and not r.get("party")
        )
        name = row["bank_party_name"]
        store.save_party(Party("Supplier", name))

        await pilot.press("m")  # matching is still off: the reason and the remedy
        await wait_until(pilot, lambda: "turned off" in notices(app), what="the warning")
        assert "settings --party-matching" in notices(app)
        assert any(n.severity == "warning" for n in app._notifications)

        store.save_settings(
            replace(store.settings(), enable_party_matching=True, enable_fuzzy_matching=True)
        )
        await pilot.press("m")
        await wait_until(pilot, lambda: "got a party" in notices(app), what="the count")
        matched = {r["transaction_id"]: r for r in store.book(account).all_rows(raw=False)}
        assert matched[row["transaction_id"]]["party"] == name
        assert matched[row["transaction_id"]]["party_type"] == "Supplier"
        count = sum(1 for r in matched.values() if r.get("party") == name)
        assert f"{GIRO}: {count:,} transaction(s) got a party." in notices(app)

        await pilot.press("p")  # again from Parties, for every account: nothing left
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        await pilot.press("m")
        await wait_until(
            pilot,
            lambda: "3 accounts: 0 transaction(s)" in notices(app),
            what="the count for every account",
        )


async def test_match_parties_is_in_the_palette_and_help(store: Store, portal: Any) -> None:
    from kosma_tui.tui.commands import KosmaCommands

    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        provider = KosmaCommands(app.screen)
        assert "Match parties" in [title for title, _help, _cb in provider.entries()]

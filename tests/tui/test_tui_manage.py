"""Administration on Accounts (rename, disable/enable, remove) and Consents (revoke), at
80x24 against the real Demo Bank portal; the destructive ones ask first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_support import kosma
from tui_support import SIZE, flat_text, link, make_app, notices, settled, type_text, wait_until

from kosma_tui.core import messages
from kosma_tui.core.store import Store
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.screens.confirm import ConfirmModal
from kosma_tui.tui.screens.consents import ConsentsScreen
from kosma_tui.tui.screens.manage import RenameModal

GIRO = "Girokonto (Max Mustermann)"


async def test_rename_disable_and_remove_on_accounts(store: Store, portal: Any) -> None:
    await link(store, portal.url)
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        assert app.screen.selected_name() == GIRO  # type: ignore[attr-defined]
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameModal))
        await pilot.press("ctrl+u")  # empty the field: said at once, nothing saved
        await settled(pilot)  # checked in a thread worker (uniqueness reads the store)
        assert "The new name is empty" in flat_text(app)
        await type_text(pilot, "Tagesgeld (max mustermann)")
        await settled(pilot)
        assert "already a bank account" in flat_text(app)
        await pilot.press("ctrl+u")
        await type_text(pilot, "Main")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        await wait_until(pilot, lambda: "Main" in flat_text(app), what="the new name")
        assert store.account("Main") is not None and store.account(GIRO) is None

        await pilot.press("d")
        await wait_until(pilot, lambda: not store.account("Main").enabled)  # type: ignore[union-attr]
        await pilot.pause()
        assert "disabled: Sync all skips it" in flat_text(app)
        await pilot.press("a")  # sync all: the disabled account is not queued
        await pilot.pause()
        assert "2 account(s) queued" in notices(app)
        assert not app.sync_queue.state("Main").busy
        assert "disabled: Sync all skips it" in flat_text(app)  # its row on the Sync screen
        await wait_until(pilot, lambda: not app.sync_queue.busy, what="the syncs to end")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))

        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "ERPNext is not touched" in flat_text(app)
        await pilot.press("escape")  # changes nothing
        await wait_until(pilot, lambda: isinstance(app.screen, AccountsScreen))
        assert store.account("Main") is not None
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: store.account("Main") is None, what="the removal")
        await wait_until(pilot, lambda: "2 account(s)" in flat_text(app))
    assert len(store.accounts()) == 2


async def test_revoke_on_consents_asks_then_withdraws_the_consent(
    store: Store, portal: Any
) -> None:
    summary = await link(store, portal.url)
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentsScreen))
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "3 account(s) and their transactions stay" in flat_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentsScreen))
        assert store.consents()
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: not store.consents(), what="the revocation")
        await wait_until(pilot, lambda: "0 consent(s)" in flat_text(app))
        assert "Revoked and removed" in notices(app)
    state = json.loads(portal.running.state_path.read_text())
    assert state["consents"][summary.consent.consent_id]["revoked"] is True
    assert len(store.accounts()) == 3


async def test_a_taken_name_is_refused_with_one_sentence_in_the_tui_and_the_command(
    store: Store, portal: Any, home: Path
) -> None:
    await link(store, portal.url)
    taken = messages.bank_account_name_taken("Tagesgeld (Max Mustermann)").message
    command = kosma(home, "account", "rename", "giro", "tagesgeld (max mustermann)")
    assert command.returncode == 2 and taken in command.stderr
    app = make_app(store, portal, reminders=False)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameModal))
        await pilot.press("ctrl+u")
        await type_text(pilot, "tagesgeld (max mustermann)")
        await wait_until(pilot, lambda: taken in flat_text(app), what="the catalogue sentence")
    assert store.account(GIRO) is not None

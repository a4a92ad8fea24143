"""Parties (add, edit, delete with confirmation, CSV import), Help and the command palette,
all from the same Binding definitions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.widgets import Input
from tui_support import SIZE, flat_text, make_app, screen_text, settled, type_text, wait_until

from kosma_tui.core.parties import add_party
from kosma_tui.core.store import Store
from kosma_tui.tui.commands import KosmaCommands
from kosma_tui.tui.screens.accounts import AccountsScreen
from kosma_tui.tui.screens.confirm import ConfirmModal
from kosma_tui.tui.screens.help import binding_table
from kosma_tui.tui.screens.parties import ImportModal, PartiesScreen, PartyModal
from kosma_tui.tui.screens.settings import SettingsScreen

IBAN = "DE89370400440532013000"


async def open_parties(pilot: Any) -> PartiesScreen:
    await pilot.press("p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PartiesScreen))
    return pilot.app.screen


async def test_add_edit_and_delete_a_party(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await open_parties(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, PartyModal))
        await type_text(pilot, "ACME GmbH")
        app.screen.query_one("#party-ibans", Input).value = "DE89 3704"
        await pilot.pause()
        assert "is not an IBAN" in flat_text(app)  # checked as you type
        app.screen.query_one("#party-ibans", Input).value = "DE89 3704 0044 0532 0130 00"
        await pilot.pause()
        await pilot.click("#save")
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        assert "ACME GmbH" in screen_text(app) and IBAN in screen_text(app)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PartyModal))
        app.screen.query_one("#party-name", Input).value = "ACME Holding"
        await pilot.click("#save")
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        assert [p.name for p in store.parties()] == ["ACME Holding"]
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("escape")  # cancelled: nothing deleted
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        assert len(store.parties()) == 1
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        assert store.parties() == []


async def test_import_parties_from_csv(store: Store, portal: Any, tmp_path: Path) -> None:
    csv = tmp_path / "parties.csv"
    csv.write_text(
        "party_type,name,iban,account_number\n"
        f"Supplier,[bold]Lieferant[/] GmbH,{IBAN},\n"
        "Customer,Kunde AG,,12345678\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("party_type,name,iban,account_number\nVendor,X,,\n", encoding="utf-8")
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await open_parties(pilot)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportModal))
        await type_text(pilot, str(bad))
        await pilot.press("enter")  # read in a thread worker: wait for its answer
        await wait_until(pilot, lambda: "not a party type" in flat_text(app))
        assert store.parties() == []
        app.screen.query_one(Input).value = str(csv)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        text = screen_text(app)
        assert "[bold]Lieferant[/] GmbH" in text and "Kunde AG" in text
    assert len(store.parties()) == 2


async def test_the_parties_hint_says_what_the_list_does_for_the_sync(
    store: Store, portal: Any
) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await open_parties(pilot)
        assert "No parties yet: press n to add one, or i to import a CSV" in flat_text(app)
        add_party(store, "Supplier", "Lieferant GmbH", [IBAN])
        app.screen.reload()  # type: ignore[attr-defined]
        await pilot.pause()
        assert "Party matching is off, so synced transactions get no party" in flat_text(app)
        await pilot.press("f7")  # the switches live in Banking Settings
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        store.save_settings(
            replace(store.settings(), enable_party_matching=True, enable_fuzzy_matching=True)
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PartiesScreen))
        await pilot.pause()
        assert "matched by IBAN or account number, then by name" in flat_text(app)


def test_help_lists_two_keys_a_line_and_one_action_once() -> None:
    from rich.console import Console

    console = Console(width=76, record=True, color_system=None)
    console.print(
        binding_table(
            [
                Binding(
                    "e",
                    "push",
                    "Push to ERPNext",
                    tooltip="Push the selected account's new Bank Transactions to ERPNext",
                ),
                Binding("f1", "open('help')", "Help"),
                Binding("question_mark", "app.open('help')", "Help"),
                Binding("m", "match", "Match parties"),
            ]
        )
    )
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert lines[0].split() == ["e", "Push", "to", "ERPNext", "f1", "/", "?", "Help"]
    assert lines[1].split() == ["m", "Match", "parties"] and len(lines) == 2
    assert "selected account" not in "".join(lines)  # the long words are the palette's


async def test_help_lists_every_screen_and_its_bindings(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=(100, 200)) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.press("f1")
        await pilot.pause()
        text = flat_text(app)
        for title in (
            "Accounts",
            "Banking Settings",
            "Link Bank and Accounts",
            "Consents",
            "Sync",
            "Transactions",
            "Parties",
            "Everywhere",
        ):
            assert title in text, title
        for binding in AccountsScreen.BINDINGS:
            assert binding.description in text  # type: ignore[union-attr]
        assert "Cancel linking" in text and "Oldest" in text
        assert "ctrl+p" in text


async def test_command_palette_offers_the_screen_actions(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        provider = KosmaCommands(app.screen)
        titles = {title for title, _help, _cb in provider.entries()}
        assert {
            "Sync",
            "Sync all",
            "Transactions",
            "Link",
            "Consents",
            "Settings",
            "Renew",
            "Parties",
            "Help",
            "Quit",
            "Sync progress",
        } <= titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "consents")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Bank Consents" in screen_text(app))

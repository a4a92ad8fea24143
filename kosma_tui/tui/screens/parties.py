"""Parties for automatic party matching: list, add, edit, delete (confirmed), import CSV."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.matching import PARTY_TYPES
from kosma_tui.core.records import Party
from kosma_tui.tui.dialogs.confirm import ConfirmModal
from kosma_tui.tui.feedback import report, toast
from kosma_tui.tui.messages import MatchParties
from kosma_tui.tui.registry import registered
from kosma_tui.tui.screens.base import KosmaModal, KosmaScreen
from kosma_tui.tui.text import clean, literal


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


@registered("parties")
class PartiesScreen(KosmaScreen):
    TITLE = "Parties"
    PURPOSE = ("Customers, Suppliers and Employees with their IBANs and account numbers. With "
               "party matching on (Banking Settings), a synced transaction whose counterparty "
               "matches one gets that party. Import a CSV with the columns "
               "party_type,name,iban,account_number.")
    BINDINGS: ClassVar[list[BindingType]] = [
        *KosmaScreen.BINDINGS,
        Binding("n", "add", "Add", id="party-add", tooltip="Add a party"),
        Binding("e", "edit", "Edit", id="party-edit", tooltip="Edit the selected party"),
        Binding("d,delete", "delete", "Delete", id="party-delete",
                tooltip="Delete the selected party (asks first)"),
        Binding("i", "import_csv", "Import CSV", id="party-import",
                tooltip="Import parties from a CSV file"),
        Binding("m", "match_parties", "Match parties", id="match-parties-all",
                tooltip="Match again every account's stored transactions that have no party"),
    ]

    def compose_body(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="parties-table", cursor_type="row",
                                           classes="table")
        table.border_title = "Parties"
        yield table
        yield Static("", id="parties-hint", classes="hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in (("type", "Type", 8), ("name", "Name", 26),
                                  ("ibans", "IBANs", 24), ("numbers", "Account no.", 12)):
            table.add_column(label, key=key, width=width)
        self.reload()

    def reload(self) -> None:
        table = self.query_one(DataTable)
        self.parties = {f"{p.party_type}\x00{p.name}": p for p in
                        sorted(self.store.parties(), key=lambda p: (p.party_type, p.name))}
        with self.app.batch_update():
            table.clear()
            for key, p in self.parties.items():
                table.add_row(literal(p.party_type), literal(p.name),
                              literal(", ".join(p.ibans)), literal(", ".join(p.account_numbers)),
                              key=key)
        table.border_subtitle = f"{len(self.parties):,} parties"
        self.show_hint()

    def on_screen_resume(self) -> None:
        self.show_hint()  # the switches may have changed in Banking Settings

    def show_hint(self) -> None:
        """What the list does for the sync: nothing yet, nothing while matching is off, or how."""
        settings = self.store.settings()
        if not self.parties:
            hint = ("No parties yet: press n to add one, or i to import a CSV with the columns "
                    "party_type,name,iban,account_number.")
        elif not settings.enable_party_matching:
            hint = ("Party matching is off, so synced transactions get no party: turn it on in "
                    "Banking Settings.")
        elif settings.enable_fuzzy_matching:
            hint = "Synced transactions are matched by IBAN or account number, then by name."
        else:
            hint = ("Synced transactions are matched by IBAN or account number; fuzzy matching "
                    "by name is off.")
        self.query_one("#parties-hint", Static).update(hint)

    def selected(self) -> Party | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.parties.get(str(key))

    def action_add(self) -> None:
        self.app.push_screen(PartyModal(None), self.after_edit)

    def action_edit(self) -> None:
        party = self.selected()
        if party is not None:
            self.app.push_screen(PartyModal(party), self.after_edit)

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_edit()

    def after_edit(self, result: object) -> None:
        if result:
            self.reload()

    def action_delete(self) -> None:
        party = self.selected()
        if party is None:
            return

        def done(confirmed: object) -> None:
            if confirmed:
                from kosma_tui.core.parties import delete_party

                try:
                    delete_party(self.store, party.party_type, party.name)
                except KosmaError as exc:
                    report(self.app, exc)
                    return
                toast(self.app, f"{party.party_type} {party.name} deleted.")
                self.reload()

        self.app.push_screen(ConfirmModal(
            "Delete party", f"Delete the {party.party_type} {clean(party.name)}? Transactions "
            "already matched keep their party."), done)

    def action_match_parties(self) -> None:
        names = [a.name for a in self.store.accounts()]
        if not names:
            toast(self.app, "No bank account yet: press l on Accounts to link a bank.",
                  warning=True)
            return
        self.post_message(MatchParties(names))

    def action_import_csv(self) -> None:
        self.app.push_screen(ImportModal(), self.after_edit)


class PartyModal(KosmaModal):
    """Add or edit one party; answers True when saved."""

    def __init__(self, party: Party | None) -> None:
        super().__init__()
        self.party = party

    def compose(self) -> ComposeResult:
        p = self.party
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Edit party" if p else "Add party"
            yield Label("Type")
            yield Select([(t, t) for t in PARTY_TYPES], value=p.party_type if p else "Customer",
                         allow_blank=False, id="party-type", compact=True)
            yield Label("Name")
            yield Input(p.name if p else "", id="party-name", compact=True)
            yield Label("IBANs (comma separated)")
            yield Input(", ".join(p.ibans) if p else "", id="party-ibans", compact=True)
            yield Label("Account numbers (comma separated)")
            yield Input(", ".join(p.account_numbers) if p else "", id="party-numbers",
                        compact=True)
            yield Static("", id="party-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#party-name", Input).focus()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.save()
        else:
            self.dismiss(None)

    def values(self) -> tuple[str, str, list[str], list[str]]:
        return (str(self.query_one("#party-type", Select).value),
                self.query_one("#party-name", Input).value,
                split_list(self.query_one("#party-ibans", Input).value),
                split_list(self.query_one("#party-numbers", Input).value))

    def problem(self) -> str | None:
        """What is wrong with the form now (the core's checks), as you type."""
        from kosma_tui.core import parties

        _type, name, ibans, numbers = self.values()
        found = parties.name_problem(name)
        found = found or next(filter(None, map(parties.iban_problem, ibans)), None)
        found = found or next(filter(None, map(parties.account_number_problem, numbers)), None)
        return found[0].upper() + found[1:] + "." if found else None

    def on_input_changed(self, _event: Input.Changed) -> None:
        found = self.problem()
        self.query_one("#party-error", Static).update(f"✗ {clean(found)}" if found else "")

    def save(self) -> None:
        from kosma_tui.core import parties

        error = self.query_one("#party-error", Static)
        party_type, name, ibans, numbers = self.values()
        store = self.kosma.store
        try:
            if self.party is None:
                party = parties.add_party(store, party_type, name, ibans, numbers)
            else:
                party = parties.update_party(store, self.party.party_type, self.party.name,
                                             new_type=party_type, new_name=name, ibans=ibans,
                                             account_numbers=numbers)
        except KosmaError as exc:
            error.update(f"✗ {clean(exc.sentence())}")
            return
        toast(self.app, f"{party.party_type} {party.name} saved.")
        self.dismiss(True)


class ImportModal(KosmaModal):
    """Import a parties CSV through the core; answers True when something was imported."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Import parties from CSV"
            yield Static("Columns: party_type,name,iban,account_number (a header row first).",
                         markup=False)
            yield Input(placeholder="/path/to/parties.csv", id="csv-path", compact=True)
            yield Static("", id="import-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Import", id="import", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.run_import()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import":
            self.run_import()
        else:
            self.dismiss(None)

    def run_import(self) -> None:
        error = self.query_one("#import-error", Static)
        text = self.query_one(Input).value.strip()
        if not text:
            error.update("✗ Type the path of the CSV file.")
            return
        from kosma_tui.core.parties import import_csv

        try:
            result = import_csv(self.kosma.store, Path(text).expanduser())
        except KosmaError as exc:
            error.update(f"✗ {clean(exc.sentence())}")
            return
        except OSError as exc:
            error.update(f"✗ {clean(UsageError(f'Cannot read {text}: {exc.strerror}.').message)}")
            return
        toast(self.app, f"Imported {result:,} parties from {Path(text).name}.")
        self.dismiss(True)

"""Parties for automatic party matching: list, add, edit, delete (confirmed), import CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Label, Select, Static

from kosma_tui.core.errors import UsageError
from kosma_tui.core.matching import PARTY_TYPES
from kosma_tui.core.records import BankingSettings, Party
from kosma_tui.tui.dialogs.confirm import ConfirmModal
from kosma_tui.tui.dialogs.form import FormModal
from kosma_tui.tui.feedback import toast
from kosma_tui.tui.messages import MatchParties
from kosma_tui.tui.registry import registered
from kosma_tui.tui.screens.base import KosmaScreen
from kosma_tui.tui.text import clean, literal
from kosma_tui.tui.work import in_thread


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


@registered("parties")
class PartiesScreen(KosmaScreen):
    TITLE = "Parties"
    PURPOSE = (
        "Customers, Suppliers and Employees with their IBANs and account numbers. With "
        "party matching on (Banking Settings), a synced transaction whose counterparty "
        "matches one gets that party. Import a CSV with the columns "
        "party_type,name,iban,account_number."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        *KosmaScreen.BINDINGS,
        Binding("n", "add", "Add", id="party-add", tooltip="Add a party"),
        Binding("e", "edit", "Edit", id="party-edit", tooltip="Edit the selected party"),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            id="party-delete",
            tooltip="Delete the selected party (asks first)",
        ),
        Binding(
            "i",
            "import_csv",
            "Import CSV",
            id="party-import",
            tooltip="Import parties from a CSV file",
        ),
        Binding(
            "m",
            "match_parties",
            "Match parties",
            id="match-parties-all",
            tooltip="Match again every account's stored transactions that have no party",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="parties-table", cursor_type="row", classes="table")
        table.border_title = "Parties"
        yield table
        yield Static("", id="parties-hint", classes="hint", markup=False)

    def __init__(self) -> None:
        super().__init__()
        self.parties: dict[str, Party] = {}  # as last read, by row key
        self.settings: BankingSettings | None = None  # the switches the hint explains

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in (
            ("type", "Type", 8),
            ("name", "Name", 26),
            ("ibans", "IBANs", 24),
            ("numbers", "Account no.", 12),
        ):
            table.add_column(label, key=key, width=width)
        self.reload()

    def reload(self) -> None:
        """Read the parties and the settings in a thread worker; the rows follow."""
        store = self.store
        table = self.query_one(DataTable)
        if not table.row_count:
            table.border_subtitle = "loading…"
        in_thread(
            self.app,
            lambda: (store.parties(), store.settings()),
            self.show_parties,
            name="parties-reload",
            latest=True,
        )

    def show_parties(self, read: tuple[list[Party], BankingSettings]) -> None:
        if not self.is_attached:  # closed while the store was read
            return
        parties, self.settings = read
        table = self.query_one(DataTable)
        self.parties = {
            f"{p.party_type}\x00{p.name}": p
            for p in sorted(parties, key=lambda p: (p.party_type, p.name))
        }
        with self.app.batch_update():
            table.clear()
            for key, p in self.parties.items():
                table.add_row(
                    literal(p.party_type),
                    literal(p.name),
                    literal(", ".join(p.ibans)),
                    literal(", ".join(p.account_numbers)),
                    key=key,
                )
        table.border_subtitle = f"{len(self.parties):,} parties"
        self.show_hint()

    def on_screen_resume(self) -> None:
        if self.settings is not None:  # not on opening: on_mount reads them already
            self.reload()  # the switches may have changed in Banking Settings

    def show_hint(self) -> None:
        """What the list does for the sync: nothing yet, nothing while matching is off, or how."""
        settings = self.settings
        if settings is None:
            hint = "Reading the parties…"
        elif not self.parties:
            hint = (
                "No parties yet: press n to add one, or i to import a CSV with the columns "
                "party_type,name,iban,account_number."
            )
        elif not settings.enable_party_matching:
            hint = (
                "Party matching is off, so synced transactions get no party: turn it on in "
                "Banking Settings."
            )
        elif settings.enable_fuzzy_matching:
            hint = "Synced transactions are matched by IBAN or account number, then by name."
        else:
            hint = (
                "Synced transactions are matched by IBAN or account number; fuzzy matching "
                "by name is off."
            )
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

        def deleted(_result: object) -> None:
            toast(self.app, f"{party.party_type} {party.name} deleted.")
            self.reload()

        def done(confirmed: object) -> None:
            if confirmed:
                from kosma_tui.core.parties import delete_party

                in_thread(
                    self.app,
                    lambda: delete_party(self.store, party.party_type, party.name),
                    deleted,
                    name="delete-party",
                )

        self.app.push_screen(
            ConfirmModal(
                "Delete party",
                f"Delete the {party.party_type} {clean(party.name)}? Transactions "
                "already matched keep their party.",
            ),
            done,
        )

    def action_match_parties(self) -> None:
        store = self.store
        in_thread(
            self.app,
            lambda: [a.name for a in store.accounts()],
            self.match_parties,
            name="parties-accounts",
        )

    def match_parties(self, names: list[str]) -> None:
        if not names:
            toast(
                self.app, "No bank account yet: press l on Accounts to link a bank.", warning=True
            )
            return
        self.app.post_message(MatchParties(names))

    def action_import_csv(self) -> None:
        self.app.push_screen(ImportModal(), self.after_edit)


class PartyModal(FormModal):
    """Add or edit one party; answers True when saved."""

    ERROR_ID = "party-error"

    def __init__(self, party: Party | None) -> None:
        super().__init__()
        self.party = party

    def heading(self) -> str:
        return "Edit party" if self.party else "Add party"

    def compose_fields(self) -> ComposeResult:
        p = self.party
        yield Label("Type")
        yield Select(
            [(t, t) for t in PARTY_TYPES],
            value=p.party_type if p else "Customer",
            allow_blank=False,
            id="party-type",
            compact=True,
        )
        yield Label("Name")
        yield Input(p.name if p else "", id="party-name", compact=True)
        yield Label("IBANs (comma separated)")
        yield Input(", ".join(p.ibans) if p else "", id="party-ibans", compact=True)
        yield Label("Account numbers (comma separated)")
        yield Input(", ".join(p.account_numbers) if p else "", id="party-numbers", compact=True)

    def on_mount(self) -> None:
        self.query_one("#party-name", Input).focus()

    def read(self) -> tuple[str, str, list[str], list[str]]:
        return (
            str(self.query_one("#party-type", Select).value),
            self.query_one("#party-name", Input).value,
            split_list(self.query_one("#party-ibans", Input).value),
            split_list(self.query_one("#party-numbers", Input).value),
        )

    def problem(self) -> str | None:
        """What is wrong with the form now (the core's checks), as you type."""
        from kosma_tui.core import parties

        _type, name, ibans, numbers = self.read()
        found = parties.name_problem(name)
        found = found or next(filter(None, map(parties.iban_problem, ibans)), None)
        found = found or next(filter(None, map(parties.account_number_problem, numbers)), None)
        return found[0].upper() + found[1:] + "." if found else None

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.show_error(self.problem() or "")

    def write(self, values: Any) -> Party:
        from kosma_tui.core import parties

        party_type, name, ibans, numbers = values
        store = self.kosma.store
        if self.party is None:
            return parties.add_party(store, party_type, name, ibans, numbers)
        return parties.update_party(
            store,
            self.party.party_type,
            self.party.name,
            new_type=party_type,
            new_name=name,
            ibans=ibans,
            account_numbers=numbers,
        )

    def done(self, outcome: Any) -> None:
        toast(self.app, f"{outcome.party_type} {outcome.name} saved.")
        self.dismiss(True)


class ImportModal(FormModal):
    """Import a parties CSV through the core; answers True when something was imported."""

    TITLE = "Import parties from CSV"
    PRIMARY = ("Import", "import")
    ERROR_ID = "import-error"

    def compose_fields(self) -> ComposeResult:
        yield Static(
            "Columns: party_type,name,iban,account_number (a header row first).", markup=False
        )
        yield Input(placeholder="/path/to/parties.csv", id="csv-path", compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def read(self) -> str:
        text = self.query_one(Input).value.strip()
        if not text:
            raise UsageError("Type the path of the CSV file.")
        return text

    def write(self, values: Any) -> tuple[int, str]:
        from kosma_tui.core.parties import import_csv

        try:
            return import_csv(self.kosma.store, Path(values).expanduser()), Path(values).name
        except OSError as exc:
            raise UsageError(f"Cannot read {values}: {exc.strerror}.") from exc

    def done(self, outcome: Any) -> None:
        count, name = outcome
        toast(self.app, f"Imported {count:,} parties from {name}.")
        self.dismiss(True)

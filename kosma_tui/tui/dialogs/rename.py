"""Rename a bank account: the new name checked as you type, saved off the UI thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from kosma_tui.core.errors import KosmaError
from kosma_tui.tui.dialogs.form import FormModal
from kosma_tui.tui.feedback import toast
from kosma_tui.tui.text import clean
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.records import BankAccount


class RenameModal(FormModal):
    """A new name for one account; answers the new name or None."""

    TITLE = "Rename bank account"
    PRIMARY = ("Rename", "save")
    ERROR_ID = "rename-error"

    def __init__(self, account: BankAccount) -> None:
        super().__init__()
        self.account = account

    def compose_fields(self) -> ComposeResult:
        yield Static(f"{clean(self.account.name)} · {clean(self.account.bank)}", markup=False)
        yield Label("New name")
        yield Input(self.account.name, id="new-name", compact=True)

    def on_mount(self) -> None:
        self.query_one("#new-name", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """The name checked as you type, in a thread worker (uniqueness reads the store);
        the rename itself checks again when it writes."""
        from kosma_tui.core.admin import check_new_name

        store, account, typed = self.kosma.store, self.account, event.value

        def check() -> str:
            try:
                check_new_name(store, account, typed)
            except KosmaError as exc:
                return exc.message
            return ""

        def show(problem: str) -> None:
            if self.is_attached:
                self.show_error(problem)

        in_thread(self.app, check, show, name="rename-check", latest=True)

    def read(self) -> str:
        return self.query_one("#new-name", Input).value

    def write(self, values: Any) -> tuple[str, BankAccount]:
        from kosma_tui.core.admin import rename_account

        return rename_account(self.kosma.store, self.account.name, values)

    def done(self, outcome: Any) -> None:
        old, account = outcome
        if old != account.name:
            toast(self.app, f"Renamed to {account.name}.", title=old)
        self.dismiss(account.name)

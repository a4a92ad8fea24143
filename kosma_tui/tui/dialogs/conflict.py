"""Last Integration Date older than the Consent Start Date: the two remedies as actions."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Button, Static

from kosma_tui.core.sync import ConsentStartConflict
from kosma_tui.tui.feedback import toast
from kosma_tui.tui.messages import OpenScreen
from kosma_tui.tui.screens.base import KosmaModal
from kosma_tui.tui.text import clean
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.records import BankAccount


class ConflictModal(KosmaModal):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close", tooltip="Decide later"),
        Binding(
            "1",
            "set_lid",
            "Set Last Integration Date",
            id="set-lid",
            tooltip="Accept the gap: Last Integration Date = Consent Start Date",
        ),
        Binding(
            "2",
            "relink",
            "Link from the LID",
            id="relink-from-lid",
            tooltip="Close the gap: Link Bank and Accounts from the Last Integration Date",
        ),
    ]

    def __init__(self, conflict: ConsentStartConflict) -> None:
        super().__init__()
        self.conflict = conflict

    def compose(self) -> ComposeResult:
        c = self.conflict
        lid, start = clean(c.last_integration_date), clean(c.consent_start)
        with Vertical(classes="dialog wide", id="conflict") as dialog:
            dialog.border_title = Text(f"{clean(c.account)} cannot be synced")
            yield Static(
                f"Its Last Integration Date ({lid}) is older than the Consent Start Date "
                f"({start}). The consent cannot read transactions before its start, so "
                "syncing would leave a gap. Accepting it records the gap in the account's "
                "coverage.\n",
                markup=False,
            )
            yield Button(
                Text(f"1  Set Last Integration Date to {start}  (accept the gap)"),
                id="set-lid",
                variant="warning",
                compact=True,
            )
            yield Button(
                Text(f"2  Link Bank and Accounts from {lid}  (close the gap)"),
                id="relink",
                variant="primary",
                compact=True,
            )
            yield Button("Decide later", id="later", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "set-lid":
            self.action_set_lid()
        elif event.button.id == "relink":
            self.action_relink()
        else:
            self.dismiss(None)

    def action_set_lid(self) -> None:
        """The new Last Integration Date, written in a thread worker (a lock, an fsync)."""
        from kosma_tui.core.sync import set_last_integration_date

        c = self.conflict
        try:
            day = date.fromisoformat(c.consent_start)
        except ValueError:
            return
        store, app = self.kosma.store, self.kosma

        def written(_result: object) -> None:
            toast(
                app,
                f"Last Integration Date of {c.account} set to {c.consent_start}; "
                "press s to sync. The days before it are recorded as a gap in its "
                "coverage.",
            )
            app.data_signal.publish("accounts")
            if self.is_current:
                self.dismiss("set-lid")

        in_thread(
            self.app,
            lambda: set_last_integration_date(store, c.account, day),
            written,
            name="set-last-integration-date",
        )

    def action_relink(self) -> None:
        c = self.conflict
        store, app = self.kosma.store, self.app
        self.dismiss("relink")

        def relink(account: BankAccount | None) -> None:
            if account is not None:  # to the app: this dialog is gone by now
                app.post_message(
                    OpenScreen(
                        "link",
                        {
                            "company": account.company,
                            "bank": account.bank,
                            "start_text": c.last_integration_date,
                        },
                    )
                )

        in_thread(self.app, lambda: store.account(c.account), relink, name="relink-account")

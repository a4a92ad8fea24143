"""A yes/no confirmation for anything destructive."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kosma_tui.tui.screens.base import KosmaModal


class ConfirmModal(KosmaModal):
    """Answers True (confirmed) or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="cancel", tooltip="Change nothing"),
        Binding("y", "confirm", "Yes", id="confirm", tooltip="Do it"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Delete") -> None:
        super().__init__()
        self.title_text, self.question, self.yes = title, question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = self.title_text
            yield Static(self.question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.yes, id="yes", variant="error", compact=True)
                yield Button("Cancel", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(True if event.button.id == "yes" else None)

    def action_confirm(self) -> None:
        self.dismiss(True)

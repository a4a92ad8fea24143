"""What every full screen shares: the header, the footer and Escape to go back."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer

from kosma_tui.tui.widgets.header import KosmaHeader

if TYPE_CHECKING:
    from kosma_tui.core.store import Store
    from kosma_tui.tui.app import KosmaApp


class KosmaScreen(Screen[None]):
    """A full screen of the walkthrough. ``TITLE`` and ``PURPOSE`` feed the Help screen."""

    TITLE: ClassVar[str] = ""
    PURPOSE: ClassVar[str] = ""
    # bindings of the screen's widgets (or steps), listed on the Help screen too
    HELP_BINDINGS: ClassVar[list[BindingType]] = []
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back", tooltip="Go back to the previous screen"),
    ]

    @property
    def kosma(self) -> KosmaApp:
        return cast("KosmaApp", self.app)

    @property
    def store(self) -> Store:
        return self.kosma.store

    def compose(self) -> ComposeResult:
        yield KosmaHeader()
        yield from self.compose_body()
        # compact, with ^p as an ordinary key: at 80 columns the most used keys and f1 fit
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def action_back(self) -> Awaitable[None] | None:  # a screen may go back asynchronously
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        return None


class KosmaModal(ModalScreen[object]):
    """A modal dialog; Escape closes it without an answer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close", tooltip="Close this dialog"),
    ]

    @property
    def kosma(self) -> KosmaApp:
        return cast("KosmaApp", self.app)

    def action_close(self) -> None:
        self.dismiss(None)

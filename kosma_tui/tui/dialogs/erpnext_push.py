"""Push to ERPNext from the Accounts screen: a progress bar, then the summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, ProgressBar, Static

from kosma_tui.core.errors import KosmaError, Problem
from kosma_tui.tui.controllers.erpnext import PushRunner
from kosma_tui.tui.hosts import erpnext_of, store_of
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.erpnext_text import error_text, push_summary

if TYPE_CHECKING:
    from kosma_tui.core.store import Store


class ErpnextPushModal(ModalScreen[object]):
    """Push the given accounts (None: all) with a progress bar; Escape closes when done.

    Needs ``app.store`` and ``app.runtime``; dismisses with the PushReport (or None after an error).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "close",
            "Close",
            id="close-erpnext-push",
            tooltip="Close (the push goes on until done)",
        ),
    ]

    def __init__(self, names: list[str] | None = None) -> None:
        super().__init__()
        self.names = names
        self.report: Any = None
        self.finished = False

    @property
    def store(self) -> Store:
        return store_of(self.app)

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = "Push to ERPNext"
        with box:
            yield ProgressBar(id="erp-push-progress", show_eta=False)
            yield Static("Starting…", id="erp-push-status", markup=False)
            yield Button("Close", id="erp-push-close", compact=True, disabled=True)

    def on_mount(self) -> None:
        self._run()

    @work(thread=True, exclusive=True, group="erpnext")
    def _run(self) -> None:
        outcome = PushRunner(self, self.store, self.names, erpnext_of(self.app)).run()
        self.app.call_from_thread(self._finished, outcome)

    def show_progress(self, account: str, done: int, total: int) -> None:
        self.query_one("#erp-push-progress", ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#erp-push-status", Static).update(
            f"{clean(account)}: {done:,} of {total:,}"
        )

    def _finished(self, outcome: Any) -> None:
        self.finished = True
        self.query_one("#erp-push-close", Button).disabled = False
        status = self.query_one("#erp-push-status", Static)
        if isinstance(outcome, KosmaError | Problem):
            status.update(error_text(outcome))
        else:
            self.report = outcome
            status.update(push_summary(outcome))
            bar = self.query_one("#erp-push-progress", ProgressBar)
            bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.query_one("#erp-push-close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "erp-push-close":
            event.stop()
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.report)

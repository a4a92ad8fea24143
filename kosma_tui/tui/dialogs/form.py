"""A small form in a dialog: a few fields, an error line, a primary button and Cancel.

Rename a bank account, add or edit a party and import a parties CSV all work this way:
Enter or the primary button reads the fields on the UI thread, the store work runs in a
thread worker (the screen keeps answering keys however long the disk takes), and the
outcome comes back as a message: ``Done`` dismisses the dialog, ``Failed`` shows the
sentence under the fields.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Static

from kosma_tui.core.errors import KosmaError
from kosma_tui.tui.screens.base import KosmaModal
from kosma_tui.tui.text import clean

log = logging.getLogger("kosma_tui.tui")


class FormModal(KosmaModal):
    """Subclasses give the fields (``compose_fields``), read them (``read``) and do the
    store work (``write``, in a thread); ``done`` says what the dialog answers."""

    TITLE: ClassVar[str] = ""
    PRIMARY: ClassVar[tuple[str, str]] = ("Save", "save")  # label and id of the button
    ERROR_ID: ClassVar[str] = "form-error"

    @dataclass
    class Done(Message):
        outcome: Any

    @dataclass
    class Failed(Message):
        sentence: str

    def __init__(self) -> None:
        super().__init__()
        self.writing = False

    def heading(self) -> str:
        return self.TITLE

    def compose(self) -> ComposeResult:
        label, button_id = self.PRIMARY
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = self.heading()
            yield from self.compose_fields()
            yield Static("", id=self.ERROR_ID, classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(label, id=button_id, variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def show_error(self, text: str) -> None:
        self.query_one(f"#{self.ERROR_ID}", Static).update(f"✗ {clean(text)}" if text else "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == self.PRIMARY[1]:
            self.submit()
        else:
            self.dismiss(None)

    # -- the store work, off the UI thread ---------------------------------

    def read(self) -> Any:
        """The fields' values (on the UI thread); raise KosmaError for a problem."""
        return None

    def write(self, values: Any) -> Any:
        """The store work with ``values`` (in a thread); raise KosmaError when refused."""
        raise NotImplementedError

    def done(self, outcome: Any) -> None:
        """The work succeeded (back on the UI thread): say so and answer."""
        self.dismiss(outcome)

    def submit(self) -> None:
        if self.writing:  # a second Enter while the first save is still on its way
            return
        try:
            values = self.read()
        except KosmaError as exc:
            self.show_error(exc.sentence())
            return
        self.writing = True
        self.run_worker(
            lambda: self._write(values),
            name="form-write",
            group="form-write",
            thread=True,
            exit_on_error=False,
        )

    def _write(self, values: Any) -> None:
        try:
            outcome = self.write(values)
        except KosmaError as exc:
            self.post_message(self.Failed(exc.sentence()))
            return
        except Exception:  # a bug must not leave the dialog waiting forever
            log.exception("%s failed unexpectedly", type(self).__name__)
            self.post_message(
                self.Failed(
                    "Something unexpected went wrong; nothing more was "
                    "changed. The details are in the log file."
                )
            )
            return
        self.post_message(self.Done(outcome))

    def on_form_modal_done(self, message: Done) -> None:
        self.writing = False
        self.done(message.outcome)

    def on_form_modal_failed(self, message: Failed) -> None:
        self.writing = False
        self.show_error(message.sentence)

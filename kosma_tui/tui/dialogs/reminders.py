"""The reminder on launch: every consent expiring within reminder_days, or expired."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from kosma_tui.tui.screens.base import KosmaModal
from kosma_tui.tui.status import ConsentView, consent_views
from kosma_tui.tui.text import clean

if TYPE_CHECKING:
    from kosma_tui.core.store import Store

EXPLANATION = (
    "A consent lets us read an account for 90 days. Renew it before it ends, "
    "or the daily sync stops for its accounts."
)


def due_consents(store: Store) -> list[ConsentView]:
    """Consents inside reminder_days or expired, the most urgent first."""
    views = [v for v in consent_views(store).values() if v.status in ("expiring", "expired")]
    return sorted(views, key=lambda v: (v.days_left, v.consent.name))


def reminder_line(view: ConsentView) -> Text:
    consent = view.consent
    label = f"{clean(consent.bank)} · {clean(consent.company)}"
    if view.status == "expired":
        when, days = f"expired {view.expiry_day}", ""
    else:
        when, days = f"expires {view.expiry_day}", f"{view.days_left} d"
    line = Text(f"{label[:30]:<31}")
    line.append(f"{when:<19}", style=view.style)
    line.append(f"{days:>5}", style=view.style)
    return line


class ReminderModal(KosmaModal):
    """Answers the name of the consent to renew, or None for "remind me later"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "close",
            "Remind me later",
            id="remind-later",
            tooltip="Close the reminder; it comes back on the next launch",
        ),
        Binding(
            "r",
            "renew",
            "Renew selected",
            id="renew-selected",
            tooltip="Open Link Bank and Accounts for the selected consent",
        ),
    ]

    def __init__(self, due: list[ConsentView]) -> None:
        super().__init__()
        self.due = due

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Bank consents need renewal"
            yield Static(EXPLANATION, markup=False)
            yield OptionList(
                *[Option(reminder_line(v), id=v.consent.name) for v in self.due], id="reminder-list"
            )
            with Horizontal(classes="buttons"):
                yield Button("Renew selected", id="renew", variant="primary", compact=True)
                yield Button("Remind me later", id="later", compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "renew":
            self.action_renew()
        else:
            self.dismiss(None)

    def action_renew(self) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is not None:
            self.dismiss(options.get_option_at_index(index).id)

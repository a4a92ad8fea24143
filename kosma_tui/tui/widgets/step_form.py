"""The portal's bank-login forms rendered as widgets (the shared form model, core.forms).

A form with one choice becomes a filterable list (banks: by name, BIC or code);
any other form becomes labelled inputs, secrets masked. Which choice it is and
which fields are secret is read by ``core.linking.steps``, as for ``kosma-tui
link``. The widgets only collect values; the Link screen hands them to ``LinkFlow``.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from kosma_tui.core.forms import ChoiceElement, Form, InputElement, TextElement
from kosma_tui.core.forms import Option as FormOption
from kosma_tui.core.linking.steps import StepKind, choice_topic, is_secret
from kosma_tui.tui.text import clean

NOUNS = {
    StepKind.COUNTRY: ("country", "countries"),
    StepKind.BANK: ("bank", "banks"),
    StepKind.METHOD: ("method", "methods"),
}


LABEL_CELLS = (20, 44)  # the label column: as wide as the longest label, within these bounds


def label_cells(options: list[FormOption]) -> int:
    """Cells for the label column, fixed per list so that filtering never shifts it."""
    longest = max((Text(clean(o.label)).cell_len for o in options), default=0)
    return max(LABEL_CELLS[0], min(LABEL_CELLS[1], longest))


def option_prompt(label: str, description: str, cells: int) -> Text:
    text = Text(clean(label), no_wrap=True)
    text.truncate(cells, overflow="ellipsis", pad=True)
    text.append(" ")
    text.append(clean(description), style="dim")
    return text


class ChoiceStep(Vertical):
    """Search box + option list; Enter chooses the highlighted option."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "to_list", "List", show=False, id="choice-down"),
    ]

    class Chosen(Message):
        def __init__(self, key: str, value: str, label: str) -> None:
            super().__init__()
            self.key, self.value, self.label = key, value, label

    def __init__(
        self, form: Form, element: ChoiceElement, *, query: str = "", preselect: str | None = None
    ) -> None:
        super().__init__(id="choice-step")
        self.form = form
        self.element = element
        self.query_text = query
        self.preselect = preselect
        self.shown = element.options
        self.topic = choice_topic(element)

    def compose(self) -> ComposeResult:
        for element in self.form.elements:
            if isinstance(element, TextElement):
                yield Static(clean(element.text), classes="hint", markup=False)
        with Horizontal(classes="field-row"):
            yield Label("Search: ", markup=False)
            hint = "type a name, BIC or code" if self.topic == StepKind.BANK else "type to filter"
            yield Input(self.query_text, placeholder=hint, id="choice-search", compact=True)
        yield OptionList(id="choice-list")
        yield Label("", id="choice-count", markup=False)

    def on_mount(self) -> None:
        self.refilter(self.query_text)
        if self.preselect is not None:
            for index, option in enumerate(self.shown):
                if option.value == self.preselect:
                    self.query_one(OptionList).highlighted = index
        self.query_one("#choice-search", Input).focus()

    def refilter(self, query: str) -> None:
        self.shown = self.element.filter(query)
        options = self.query_one(OptionList)
        options.clear_options()
        cells = label_cells(self.element.options)
        options.add_options(
            [Option(option_prompt(o.label, o.description, cells), id=o.value) for o in self.shown]
        )
        if self.shown:
            options.highlighted = 0
        one, many = NOUNS.get(self.topic, ("option", "options"))
        total = len(self.element.options)
        self.query_one("#choice-count", Label).update(
            f"{len(self.shown)} of {total} {one if total == 1 else many}"
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refilter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.choose(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(event.option_index)

    def choose(self, index: int | None) -> None:
        if index is None or not (0 <= index < len(self.shown)):
            self.app.bell()
            return
        option = self.shown[index]
        self.post_message(self.Chosen(self.element.key, option.value, option.label))

    def action_to_list(self) -> None:
        options = self.query_one(OptionList)
        if options.has_focus:
            return
        options.focus()
        if options.highlighted is not None and options.highlighted + 1 < options.option_count:
            options.highlighted += 1

    def on_key(self, event: object) -> None:
        # Up from the top of the list goes back to the search box
        options = self.query_one(OptionList)
        key = getattr(event, "key", "")
        if key == "up" and options.has_focus and options.highlighted in (0, None):
            self.query_one("#choice-search", Input).focus()


class InputStep(Vertical):
    """Labelled inputs (masked when secret), the portal's error under them, Submit."""

    # Priority, like Tab in the app: Enter is acted on when it is read, so keys typed
    # after it in one burst go to the next field, and a submit waits for the keys before.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "enter", "Next field or submit", id="form-enter", show=False, priority=True
        ),
    ]

    class Submitted(Message):
        def __init__(self, values: dict[str, str]) -> None:
            super().__init__()
            self.values = values

    def __init__(self, form: Form, error: str | None = None) -> None:
        super().__init__(id="input-step")
        self.form = form
        self.error = error

    def compose(self) -> ComposeResult:
        for element in self.form.elements:
            if isinstance(element, TextElement):
                yield Static(clean(element.text), classes="hint", markup=False)
            elif isinstance(element, InputElement):
                with Horizontal(classes="field-row"):
                    yield Label(
                        clean(element.label or element.key)[:18],
                        classes="field-label",
                        markup=False,
                    )
                    yield Input(
                        placeholder=clean(element.placeholder),
                        password=is_secret(element),
                        id=f"in-{element.key}",
                        compact=True,
                        max_length=element.max_length or 0,
                    )
            elif isinstance(element, ChoiceElement):
                with Horizontal(classes="field-row"):
                    yield Label(
                        clean(element.label or element.key)[:18],
                        classes="field-label",
                        markup=False,
                    )
                    yield Select(
                        [(Text(clean(o.label)), o.value) for o in element.options],
                        id=f"in-{element.key}",
                        compact=True,
                        allow_blank=False,
                    )
        yield Static(
            Text(f"✗ {clean(self.error)}") if self.error else "",
            id="step-error",
            classes="error",
            markup=False,
        )
        with Horizontal(classes="buttons"):
            yield Button("Submit", id="submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        inputs = list(self.query(Input))
        if inputs:
            inputs[0].focus()

    def values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for element in self.form.inputs:
            widget = self.query_one(f"#in-{element.key}")
            value = widget.value  # type: ignore[attr-defined]
            values[element.key] = "" if value is None or value is Select.BLANK else str(value)
        return values

    def problem(self) -> str | None:
        values = self.values()
        for element in self.form.inputs:
            if isinstance(element, InputElement):
                found = element.validate(values[element.key])
                if found:
                    return found
        return None

    def show_error(self, message: str) -> None:
        self.query_one("#step-error", Static).update(Text(f"✗ {clean(message)}"))

    def action_enter(self) -> None:
        focused = self.screen.focused
        inputs = list(self.query(Input))
        if not isinstance(focused, Input) or focused not in inputs:
            if isinstance(focused, Button):
                focused.press()
            elif focused is not None:
                focused.call_later(self.submit)
            return
        index = inputs.index(focused)
        if index + 1 < len(inputs) and not inputs[index + 1].value:
            self.screen.set_focus(inputs[index + 1])  # now: Widget.focus() would queue it
        else:
            # after the keys already routed to this field: they belong to the submission
            focused.call_later(self.submit)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.submit()

    def submit(self) -> None:
        found = self.problem()
        if found:
            self.show_error(found)
            return
        self.post_message(self.Submitted(self.values()))

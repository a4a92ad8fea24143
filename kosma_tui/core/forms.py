"""The bank-login forms of a linking flow (PROTOCOL: Form, Step).

One model, rendered by both the TUI and ``kosma-tui link``. Parsing is strict:
a step this app cannot read is a ``PortalProtocolError``, and an element type
it does not know stops the flow (``UnsupportedFormError``) instead of guessing
what the bank wanted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from kosma_tui.core.errors import KosmaError, PortalProtocolError, sentence_for
from kosma_tui.core.reader import Reader
from kosma_tui.core.text import safe_text

CONSUMER_INPUT_NEEDED = "CONSUMER_INPUT_NEEDED"
PROCESSING = "PROCESSING"
FINISHED = "FINISHED"
ABORTED = "ABORTED"
EXCEPTION = "EXCEPTION"
STATES = frozenset({CONSUMER_INPUT_NEEDED, PROCESSING, FINISHED, ABORTED, EXCEPTION})
TERMINAL_STATES = frozenset({ABORTED, EXCEPTION})


# German umlauts are also typed as two letters (Muenchen); both spellings are searched
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_NOT_ALNUM = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """``text`` without accents, case folded (``Münchner`` -> ``munchner``)."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def search_forms(text: str) -> tuple[str, ...]:
    """The forms under which ``text`` is searched: folded, and without spaces or
    punctuation; empty for a text with nothing to search."""
    folded = fold(text.strip())
    squeezed = _NOT_ALNUM.sub("", folded)
    return (folded, squeezed) if squeezed else ()


def _contains(haystack: str, wanted: tuple[str, ...]) -> bool:
    folded, squeezed = wanted
    for variant in {haystack, haystack.translate(_UMLAUTS)}:
        text = fold(variant)
        if folded in text or squeezed in _NOT_ALNUM.sub("", text):
            return True
    return False


class UnsupportedFormError(KosmaError):
    """The bank sent a form element type this app does not know."""

    code = "UNSUPPORTED_FORM"

    def __init__(self, element_type: str) -> None:
        shown = safe_text(element_type[:40]) or "?"
        super().__init__(
            f"The bank sent a form element this app does not know ({shown}); "
            "linking was stopped so nothing is guessed.",
            "Update kosma-tui and run Link Bank and Accounts again.",
        )
        self.element_type = element_type


@dataclass
class TextElement:
    """Shown only."""

    text: str


@dataclass
class InputElement:
    key: str
    label: str
    password: bool = False
    placeholder: str = ""
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    numeric: bool = False

    def validate(self, value: str) -> str | None:
        """The sentence saying what is wrong with ``value``, or None when it passes."""
        name = self.label or self.key
        if not value:
            return f"{name} is required." if self.required else None
        if self.numeric and not (value.isascii() and value.isdigit()):
            return f"{name} must be digits only."
        if self.min_length is not None and len(value) < self.min_length:
            return f"{name} needs at least {self.min_length} characters."
        if self.max_length is not None and len(value) > self.max_length:
            return f"{name} allows at most {self.max_length} characters."
        return None


@dataclass
class Option:
    value: str
    label: str
    description: str = ""


@dataclass
class ChoiceElement:
    key: str
    label: str
    options: list[Option] = field(default_factory=list)

    def find(self, text: str) -> Option | None:
        """The option whose value or label is ``text`` (case-insensitive)."""
        wanted = text.strip().casefold()
        for option in self.options:
            if option.value.casefold() == wanted:
                return option
        for option in self.options:
            if option.label.casefold() == wanted:
                return option
        return None

    def filter(self, query: str) -> list[Option]:
        """Options whose label, value or description (bank name, code, BIC) contain ``query``,
        whatever its accents, case, spaces and punctuation: ``munch`` and ``muench`` find
        "Münchner Bürgerbank", ``8888 8888`` finds the code 88888888."""
        wanted = search_forms(query)
        if not wanted:
            return list(self.options)
        return [
            option
            for option in self.options
            if _contains(option.label, wanted)
            or _contains(option.value, wanted)
            or _contains(option.description, wanted)
        ]


Element = TextElement | InputElement | ChoiceElement


@dataclass
class Form:
    form_identifier: str
    elements: list[Element]

    @property
    def inputs(self) -> list[InputElement | ChoiceElement]:
        """The elements that take a value, in order."""
        return [e for e in self.elements if not isinstance(e, TextElement)]


@dataclass
class Step:
    state: str
    form: Form | None = None
    key: str | None = None  # PEM of the RSA key the submission must be sealed with
    error: dict[str, str] | None = None  # {"code", "message"}
    poll_after_ms: int | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def error_code(self) -> str | None:
        return self.error["code"] if self.error else None

    @property
    def error_message(self) -> str | None:
        return self.error["message"] if self.error else None


def parse_step(payload: Any) -> Step:
    """A Step from the portal's ``message``; PortalProtocolError when it is malformed."""
    r = Reader(payload, "the flow step")
    state = r.data.get("state")
    if state not in STATES:
        raise PortalProtocolError(f"unknown flow step state {_show(state)}")
    raw_form = r.data.get("form")
    form = None if raw_form is None else parse_form(raw_form)
    if state == CONSUMER_INPUT_NEEDED and form is None:
        raise PortalProtocolError("the flow step asks for input but has no form")
    key = r.data.get("key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise PortalProtocolError("the flow step key is not a PEM text")
    poll = r.opt_length("poll_after_ms")
    return Step(
        state=state,
        form=form,
        key=key or None,
        error=_parse_step_error(r.opt_obj("error")),
        poll_after_ms=poll,
    )


def _parse_step_error(r: Reader | None) -> dict[str, str] | None:
    if r is None:
        return None
    code, message = r.text("code"), r.opt_text("message")
    return {"code": code, "message": message or sentence_for(code)[0]}


def parse_form(raw: Any) -> Form:
    r = Reader(raw, "the form")
    return Form(
        r.text("form_identifier"), [_parse_element(e, i) for i, e in enumerate(r.items("elements"))]
    )


def _parse_element(raw: Any, index: int) -> Element:
    r = Reader(raw, f"form element {index + 1}")
    kind = r.text("type")
    if kind == "text":
        return TextElement(r.opt_text("text"))
    if kind == "input":
        # an empty validator of any kind ([], "") means no rules, as it always did
        validator = Reader(r.data.get("validator") or {}, f"{r.where}.validator")
        return InputElement(
            key=r.text("key"),
            label=r.opt_text("label"),
            password=r.flag("password"),
            placeholder=r.opt_text("placeholder"),
            required=validator.flag("required"),
            min_length=validator.opt_length("min_length"),
            max_length=validator.opt_length("max_length"),
            numeric=validator.flag("numeric"),
        )
    if kind == "choice":
        options = r.items("options")
        return ChoiceElement(
            key=r.text("key"),
            label=r.opt_text("label"),
            options=[_parse_option(o, f"{r.where} option {i + 1}") for i, o in enumerate(options)],
        )
    raise UnsupportedFormError(kind)


def _parse_option(raw: Any, where: str) -> Option:
    r = Reader(raw, where)
    value = r.text("value")
    return Option(
        value=value, label=r.opt_text("label") or value, description=r.opt_text("description")
    )


def _show(value: Any) -> str:
    """A short, printable rendering of an unexpected value for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

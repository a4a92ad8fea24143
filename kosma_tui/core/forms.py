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
        shown = "".join(c for c in element_type if c.isprintable())[:40] or "?"
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
        return [option for option in self.options
                if _contains(option.label, wanted) or _contains(option.value, wanted)
                or _contains(option.description, wanted)]


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
    if not isinstance(payload, dict):
        raise PortalProtocolError("the flow step is not an object")
    state = payload.get("state")
    if state not in STATES:
        raise PortalProtocolError(f"unknown flow step state {_show(state)}")
    raw_form = payload.get("form")
    form = None if raw_form is None else parse_form(raw_form)
    if state == CONSUMER_INPUT_NEEDED and form is None:
        raise PortalProtocolError("the flow step asks for input but has no form")
    key = payload.get("key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise PortalProtocolError("the flow step key is not a PEM text")
    poll = payload.get("poll_after_ms")
    if poll is not None and (type(poll) is not int or poll < 0):
        raise PortalProtocolError("poll_after_ms is not a non-negative integer")
    return Step(
        state=state,
        form=form,
        key=key or None,
        error=_parse_step_error(payload.get("error")),
        poll_after_ms=poll,
    )


def _parse_step_error(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("code"), str) or not raw["code"]:
        raise PortalProtocolError("the flow step error has no code")
    message = raw.get("message")
    if message is not None and not isinstance(message, str):
        raise PortalProtocolError("the flow step error message is not a text")
    return {"code": raw["code"], "message": message or sentence_for(raw["code"])[0]}


def parse_form(raw: Any) -> Form:
    if not isinstance(raw, dict):
        raise PortalProtocolError("the form is not an object")
    identifier = raw.get("form_identifier")
    if not isinstance(identifier, str) or not identifier:
        raise PortalProtocolError("the form has no form_identifier")
    elements = raw.get("elements")
    if not isinstance(elements, list):
        raise PortalProtocolError("the form has no list of elements")
    return Form(identifier, [_parse_element(e, i) for i, e in enumerate(elements)])


def _parse_element(raw: Any, index: int) -> Element:
    where = f"form element {index + 1}"
    if not isinstance(raw, dict):
        raise PortalProtocolError(f"{where} is not an object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise PortalProtocolError(f"{where} has no type")
    if kind == "text":
        return TextElement(_text(raw, "text", where))
    if kind == "input":
        validator = raw.get("validator") or {}
        if not isinstance(validator, dict):
            raise PortalProtocolError(f"{where} has a validator that is not an object")
        return InputElement(
            key=_text(raw, "key", where, required=True),
            label=_text(raw, "label", where),
            password=_flag(raw, "password", where),
            placeholder=_text(raw, "placeholder", where),
            required=_flag(validator, "required", where),
            min_length=_length(validator, "min_length", where),
            max_length=_length(validator, "max_length", where),
            numeric=_flag(validator, "numeric", where),
        )
    if kind == "choice":
        options = raw.get("options")
        if not isinstance(options, list):
            raise PortalProtocolError(f"{where} has no list of options")
        return ChoiceElement(
            key=_text(raw, "key", where, required=True),
            label=_text(raw, "label", where),
            options=[_parse_option(o, f"{where} option {i + 1}") for i, o in enumerate(options)],
        )
    raise UnsupportedFormError(kind)


def _parse_option(raw: Any, where: str) -> Option:
    if not isinstance(raw, dict):
        raise PortalProtocolError(f"{where} is not an object")
    value = _text(raw, "value", where, required=True)
    return Option(
        value=value,
        label=_text(raw, "label", where) or value,
        description=_text(raw, "description", where),
    )


def _text(raw: dict[str, Any], name: str, where: str, *, required: bool = False) -> str:
    value = raw.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise PortalProtocolError(f"{where} has no text '{name}'")
    return value


def _flag(raw: dict[str, Any], name: str, where: str) -> bool:
    value = raw.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise PortalProtocolError(f"{where} has a '{name}' that is not true or false")
    return value


def _length(raw: dict[str, Any], name: str, where: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if type(value) is not int or value < 0:
        raise PortalProtocolError(f"{where} has a '{name}' that is not a length")
    return value


def _show(value: Any) -> str:
    """A short, printable rendering of an unexpected value for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

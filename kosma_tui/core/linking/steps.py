"""What a step of the linking flow asks for, read once for every way of showing it.

The TUI's step widgets and ``kosma-tui link`` both render a portal ``Step``;
which step it is (country, bank, login method, credentials, OTP, a decoupled
approval) and which of its fields are secret is decided here, so the two
cannot drift apart::

    view = describe(step)
    view.kind               # StepKind.BANK, StepKind.OTP, ...
    view.choice             # the one ChoiceElement of a country/bank/method step
    [f.secret for f in view.fields]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from kosma_tui.core.forms import (
    ABORTED,
    EXCEPTION,
    FINISHED,
    PROCESSING,
    ChoiceElement,
    Form,
    InputElement,
    Step,
    TextElement,
)


class StepKind(StrEnum):
    COUNTRY = "country"
    BANK = "bank"
    METHOD = "method"  # the login method (the protocol's "interface")
    CHOICE = "choice"  # one choice about something else
    CREDENTIALS = "credentials"
    OTP = "otp"
    DECOUPLED = "decoupled"  # PROCESSING: approve in the banking app, then poll
    FINISHED = "finished"
    ENDED = "ended"  # ABORTED or EXCEPTION


# the protocol's keys of the three choices; other portals are read by the words
CHOICE_KEYS = {
    "country_code": StepKind.COUNTRY,
    "bank_code": StepKind.BANK,
    "interface": StepKind.METHOD,
}
OTP_WORDS = frozenset({"otp", "tan"})
# secrets even when the bank forgot to flag them as passwords
SECRET_WORDS = OTP_WORDS | {"pin", "password", "passcode"}
_WORD = re.compile(r"[^\W_]+")


def words(key: str, label: str) -> set[str]:
    """The words of a field's key and label: ``USER_PASSWORD`` -> {user, password}."""
    return set(_WORD.findall(f"{key} {label}".casefold()))


def choice_topic(element: ChoiceElement) -> StepKind:
    """What a choice is about: COUNTRY, BANK, METHOD, or CHOICE (anything else)."""
    known = CHOICE_KEYS.get(element.key)
    if known is not None:
        return known
    found = words(element.key, element.label)
    if "country" in found:
        return StepKind.COUNTRY
    if found & {"interface", "method"}:
        return StepKind.METHOD
    if "bank" in found:
        return StepKind.BANK
    return StepKind.CHOICE


def is_secret(element: InputElement) -> bool:
    """Passwords, and OTPs/TANs/PINs even when the bank forgot to flag them."""
    return element.password or bool(SECRET_WORDS & words(element.key, element.label))


def is_otp(element: InputElement) -> bool:
    return bool(OTP_WORDS & words(element.key, element.label))


@dataclass(frozen=True)
class StepField:
    """One element that takes a value."""

    element: InputElement | ChoiceElement
    label: str  # the label, else the key
    secret: bool  # masked on screen, never echoed, never replayed
    topic: StepKind | None = None  # for a choice: what it is about

    @property
    def key(self) -> str:
        return self.element.key


@dataclass(frozen=True)
class StepView:
    kind: StepKind
    fields: tuple[StepField, ...] = ()
    texts: tuple[str, ...] = ()  # the form's text elements, in order
    choice: ChoiceElement | None = None  # the only input, when it is one choice
    error: str | None = None  # the portal's sentence about the last submission

    @property
    def secret(self) -> bool:
        """Whether any value of this step is a secret (it must not be sent again)."""
        return any(f.secret for f in self.fields)


def _field(element: InputElement | ChoiceElement) -> StepField:
    label = element.label or element.key
    if isinstance(element, ChoiceElement):
        return StepField(element, label, secret=False, topic=choice_topic(element))
    return StepField(element, label, secret=is_secret(element))


def _kind(step: Step, form: Form | None, fields: tuple[StepField, ...]) -> StepKind:
    if step.state == FINISHED:
        return StepKind.FINISHED
    if step.state in (ABORTED, EXCEPTION):
        return StepKind.ENDED
    if step.state == PROCESSING or form is None:
        return StepKind.DECOUPLED
    if len(fields) == 1 and fields[0].topic is not None:
        return fields[0].topic
    if any(isinstance(f.element, InputElement) and is_otp(f.element) for f in fields):
        return StepKind.OTP
    return StepKind.CREDENTIALS


def describe(step: Step) -> StepView:
    """The typed description of ``step`` that the TUI and the command both render."""
    form = step.form
    elements = form.elements if form is not None else []
    fields = tuple(_field(e) for e in elements if not isinstance(e, TextElement))
    texts = tuple(e.text for e in elements if isinstance(e, TextElement) and e.text)
    kind = _kind(step, form, fields)
    choice = fields[0].element if len(fields) == 1 and fields[0].topic is not None else None
    assert choice is None or isinstance(choice, ChoiceElement)
    return StepView(kind, fields, texts, choice, step.error_message)

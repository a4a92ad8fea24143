"""core.linking.steps: what a step asks for, without any UI."""

from __future__ import annotations

import pytest

from kosma_tui.core.forms import (
    ABORTED,
    CONSUMER_INPUT_NEEDED,
    EXCEPTION,
    FINISHED,
    PROCESSING,
    ChoiceElement,
    Form,
    InputElement,
    Option,
    Step,
    TextElement,
)
from kosma_tui.core.linking.steps import StepKind, choice_topic, describe, is_secret


def form_step(*elements: object) -> Step:
    return Step(CONSUMER_INPUT_NEEDED, Form("f", list(elements)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "label", "topic"),
    [
        ("country_code", "", StepKind.COUNTRY),
        ("bank_code", "Institut", StepKind.BANK),
        ("interface", "", StepKind.METHOD),
        ("land", "Country", StepKind.COUNTRY),
        ("login_method", "How", StepKind.METHOD),
        ("institute", "Your bank", StepKind.BANK),
        ("account_type", "Account type", StepKind.CHOICE),
        # a word, not letters inside one: "bankrupt" is no bank
        ("status", "Bankrupt?", StepKind.CHOICE),
    ],
)
def test_a_choice_is_read_by_its_protocol_key_else_by_its_words(
    key: str, label: str, topic: StepKind
) -> None:
    assert choice_topic(ChoiceElement(key, label, [Option("x", "X")])) == topic


@pytest.mark.parametrize(
    ("element", "secret"),
    [
        (InputElement("LOGINNAME", "Username"), False),
        (InputElement("USER_PASSWORD", "Password"), True),  # by its words, even unflagged
        (InputElement("x", "Kennung", password=True), True),  # flagged by the bank
        (InputElement("TAN", "TAN"), True),
        (InputElement("code", "One-time password (OTP)"), True),
        (InputElement("pin", ""), True),
        (InputElement("INSTANCE", "Instance"), False),
    ],
)
def test_secret_fields(element: InputElement, secret: bool) -> None:
    assert is_secret(element) is secret


def test_the_kind_of_each_state_and_form() -> None:
    assert describe(Step(FINISHED)).kind == StepKind.FINISHED
    assert describe(Step(ABORTED)).kind == describe(Step(EXCEPTION)).kind == StepKind.ENDED
    wait = describe(Step(PROCESSING, Form("decoupled", [TextElement("Approve it.")])))
    assert wait.kind == StepKind.DECOUPLED and wait.texts == ("Approve it.",)
    login = describe(
        form_step(
            TextElement("Log in."),
            InputElement("user", "User"),
            InputElement("secret", "Password", password=True),
        )
    )
    assert login.kind == StepKind.CREDENTIALS and login.choice is None
    assert [(f.key, f.secret) for f in login.fields] == [("user", False), ("secret", True)]
    assert login.secret
    otp = describe(form_step(InputElement("TAN", "TAN", numeric=True)))
    assert otp.kind == StepKind.OTP
    bank = ChoiceElement("bank_code", "Bank", [Option("1", "One")])
    chosen = describe(form_step(TextElement(""), bank))
    assert chosen.kind == StepKind.BANK and chosen.choice is bank and chosen.texts == ()
    assert not chosen.secret
    # a choice beside inputs is no choice step: the form is a login
    mixed = describe(form_step(bank, InputElement("user", "User")))
    assert mixed.kind == StepKind.CREDENTIALS and mixed.choice is None


def test_the_portal_error_of_a_step_is_kept() -> None:
    step = Step(
        CONSUMER_INPUT_NEEDED,
        Form("otp", [InputElement("TAN", "TAN")]),
        error={"code": "USER.OTP_WRONG", "message": "Wrong OTP."},
    )
    assert describe(step).error == "Wrong OTP."

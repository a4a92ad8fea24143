"""The form model: strict parsing, input validation, choice lookup and filtering."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kosma_tui.core.errors import KosmaError, PortalProtocolError
from kosma_tui.core.forms import (
    ChoiceElement,
    InputElement,
    Option,
    Step,
    TextElement,
    UnsupportedFormError,
    parse_step,
)

BANK_STEP: dict[str, Any] = {
    "state": "CONSUMER_INPUT_NEEDED",
    "form": {
        "form_identifier": "bank",
        "elements": [
            {"type": "text", "text": "Choose your bank"},
            {
                "type": "choice",
                "key": "bank_code",
                "label": "Bank",
                "options": [
                    {"value": "88888888", "label": "Demo Bank", "description": "TESTDE10XXX"},
                    {"value": "10010010", "label": "Postbank", "description": "PBNKDEFFXXX"},
                    {"value": "50010517", "label": "ING", "description": "INGDDEFFXXX"},
                ],
            },
        ],
    },
    "key": None,
    "error": None,
    "poll_after_ms": None,
}

LOGIN_STEP: dict[str, Any] = {
    "state": "CONSUMER_INPUT_NEEDED",
    "form": {
        "form_identifier": "login",
        "elements": [
            {
                "type": "input",
                "key": "LOGINNAME",
                "label": "Username",
                "password": False,
                "placeholder": "username",
                "validator": {"required": True, "min_length": 1, "max_length": 64},
            },
            {
                "type": "input",
                "key": "USER_PASSWORD",
                "label": "PIN",
                "password": True,
                "placeholder": None,
                "validator": {"required": True, "min_length": 5, "max_length": 5, "numeric": True},
            },
        ],
    },
    "key": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
    "error": {"code": "USER.ACCESS_DENIED.CREDENTIALS", "message": "Wrong username."},
    "poll_after_ms": None,
}


def with_change(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(base)
    target = payload
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


def test_parse_a_choice_step() -> None:
    step = parse_step(BANK_STEP)
    assert step.state == "CONSUMER_INPUT_NEEDED"
    assert step.key is None and step.error is None and not step.terminal
    assert step.form is not None and step.form.form_identifier == "bank"
    text, choice = step.form.elements
    assert text == TextElement("Choose your bank")
    assert isinstance(choice, ChoiceElement)
    assert choice.key == "bank_code"
    assert choice.options[0] == Option("88888888", "Demo Bank", "TESTDE10XXX")
    assert step.form.inputs == [choice]


def test_parse_a_keyed_login_step_with_an_error() -> None:
    step = parse_step(LOGIN_STEP)
    assert step.key == LOGIN_STEP["key"]
    assert step.error_code == "USER.ACCESS_DENIED.CREDENTIALS"
    assert step.error_message == "Wrong username."
    assert step.form is not None
    user, pin = step.form.elements
    assert user == InputElement("LOGINNAME", "Username", False, "username", True, 1, 64, False)
    assert pin == InputElement("USER_PASSWORD", "PIN", True, "", True, 5, 5, True)


def test_parse_processing_and_terminal_steps() -> None:
    processing = parse_step(
        {"state": "PROCESSING", "form": None, "key": None, "error": None, "poll_after_ms": 500}
    )
    assert processing == Step("PROCESSING", poll_after_ms=500)
    aborted = parse_step({"state": "ABORTED", "error": {"code": "USER.ABORTED", "message": "x"}})
    assert aborted.terminal and aborted.error_code == "USER.ABORTED"
    # an error without message gets the user sentence of its code
    failed = parse_step({"state": "EXCEPTION", "error": {"code": "MAINTENANCE"}})
    assert failed.error_message == "The bank is in maintenance."


def test_an_unknown_element_type_stops_the_flow_with_a_sentence() -> None:
    payload = with_change(BANK_STEP, ("form", "elements", 0), {"type": "captcha", "image": "..."})
    with pytest.raises(UnsupportedFormError) as info:
        parse_step(payload)
    assert isinstance(info.value, KosmaError)
    assert not isinstance(info.value, PortalProtocolError)
    assert info.value.message == (
        "The bank sent a form element this app does not know (captcha); "
        "linking was stopped so nothing is guessed."
    )


def test_an_unknown_element_type_is_shown_without_control_characters() -> None:
    payload = with_change(BANK_STEP, ("form", "elements", 0), {"type": "x\x1b[31my\n"})
    with pytest.raises(UnsupportedFormError) as info:
        parse_step(payload)
    assert "\x1b" not in info.value.message and "\n" not in info.value.message


@pytest.mark.parametrize(
    ("base", "path", "value"),
    [
        (BANK_STEP, ("state",), "DONE"),
        (BANK_STEP, ("state",), KeyError),
        (BANK_STEP, ("form",), None),  # input needed without a form
        (BANK_STEP, ("form",), []),
        (BANK_STEP, ("form", "form_identifier"), KeyError),
        (BANK_STEP, ("form", "form_identifier"), 7),
        (BANK_STEP, ("form", "elements"), {"a": 1}),
        (BANK_STEP, ("form", "elements", 0), "text"),
        (BANK_STEP, ("form", "elements", 0, "type"), KeyError),
        (BANK_STEP, ("form", "elements", 0, "text"), ["x"]),
        (BANK_STEP, ("form", "elements", 1, "key"), KeyError),
        (BANK_STEP, ("form", "elements", 1, "options"), None),
        (BANK_STEP, ("form", "elements", 1, "options", 0), "88888888"),
        (BANK_STEP, ("form", "elements", 1, "options", 0, "value"), 88888888),
        (BANK_STEP, ("poll_after_ms",), "500"),
        (BANK_STEP, ("poll_after_ms",), -1),
        (BANK_STEP, ("poll_after_ms",), True),
        (LOGIN_STEP, ("key",), 42),
        (LOGIN_STEP, ("error",), "wrong"),
        (LOGIN_STEP, ("error", "code"), KeyError),
        (LOGIN_STEP, ("error", "message"), 3),
        (LOGIN_STEP, ("form", "elements", 0, "validator"), [True]),
        (LOGIN_STEP, ("form", "elements", 0, "validator", "min_length"), "1"),
        (LOGIN_STEP, ("form", "elements", 0, "validator", "required"), "yes"),
        (LOGIN_STEP, ("form", "elements", 1, "password"), 1),
    ],
)
def test_malformed_steps_are_protocol_errors(base: dict, path: tuple, value: Any) -> None:
    with pytest.raises(PortalProtocolError):
        parse_step(with_change(base, path, value))


@pytest.mark.parametrize("payload", [None, [], "FINISHED", 3])
def test_a_step_that_is_not_an_object_is_a_protocol_error(payload: Any) -> None:
    with pytest.raises(PortalProtocolError, match="not an object"):
        parse_step(payload)


def test_optional_fields_may_be_absent() -> None:
    step = parse_step(
        {
            "state": "CONSUMER_INPUT_NEEDED",
            "form": {
                "form_identifier": "f",
                "elements": [
                    {"type": "input", "key": "TAN"},
                    {"type": "choice", "key": "c", "options": [{"value": "v"}]},
                ],
            },
        }
    )
    assert step.form is not None
    tan, choice = step.form.elements
    assert tan == InputElement("TAN", "")
    assert isinstance(choice, ChoiceElement) and choice.options == [Option("v", "v", "")]


def test_input_validation_sentences() -> None:
    pin = InputElement(
        "USER_PASSWORD",
        "PIN",
        password=True,
        required=True,
        min_length=5,
        max_length=5,
        numeric=True,
    )
    assert pin.validate("12345") is None
    assert pin.validate("") == "PIN is required."
    assert pin.validate("1234") == "PIN needs at least 5 characters."
    assert pin.validate("123456") == "PIN allows at most 5 characters."
    assert pin.validate("12a45") == "PIN must be digits only."
    assert pin.validate("１２３４５") == "PIN must be digits only."  # full-width digits
    optional = InputElement("NOTE", "", max_length=3)
    assert optional.validate("") is None
    assert optional.validate("abcd") == "NOTE allows at most 3 characters."


def choice() -> ChoiceElement:
    return parse_step(BANK_STEP).form.elements[1]  # type: ignore[union-attr,return-value]


def test_choice_find_matches_value_or_label_case_insensitively() -> None:
    banks = choice()
    assert banks.find("88888888") == banks.options[0]
    assert banks.find("  demo bank ") == banks.options[0]
    assert banks.find("POSTBANK") == banks.options[1]
    assert banks.find("Demo") is None
    assert banks.find("TESTDE10XXX") is None  # description is for filtering, not for picking


def test_choice_filter_matches_label_value_and_description() -> None:
    banks = choice()
    assert banks.filter("") == banks.options
    assert banks.filter("demo") == [banks.options[0]]
    assert banks.filter("testde10") == [banks.options[0]]  # BIC
    assert banks.filter("1001") == [banks.options[1]]  # bank code
    assert banks.filter("deff") == [banks.options[1], banks.options[2]]
    assert banks.filter("nothing") == []


def test_choice_filter_ignores_accents_case_spaces_and_punctuation() -> None:
    from kosma_tui.core.forms import ChoiceElement, Option

    banks = ChoiceElement(
        "bank_code",
        "Bank",
        [
            Option("88830021", "Münchner Bürgerbank", "88830021 · MBUBDEMMXXX"),
            Option("88888888", "Demo Bank", "88888888 · TESTDE10XXX"),
            Option("88860015", "Straße-Bank Köln", "88860015 · STRADE41XXX"),
        ],
    )
    munich, demo, street = banks.options
    for query in ("munch", "MÜNCH", "muench", "burgerbank", "buergerbank", "Bürger"):
        assert banks.filter(query) == [munich], query
    for query in ("8888 8888", "TESTDE 10", "testde10xxx"):
        assert banks.filter(query) == [demo], query
    for query in ("strasse bank", "strassebank", "koln", "koeln", "Straße-Bank"):
        assert banks.filter(query) == [street], query
    assert banks.filter("zzz") == []

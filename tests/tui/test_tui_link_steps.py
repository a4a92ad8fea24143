"""``kosma-tui link`` and the TUI's Link wizard read every step of the Demo Bank alike.

A table of real steps from the Demo Bank portal (the country step, every
country's bank step, every bank's login-method step, the login step of each
login method, the OTP step and the decoupled wait) is rendered by the command's
``FormAnswerer`` and by the wizard's step widgets; both must find the same kind
of step (which ``--country/--bank/--method`` answers a choice, which phase the
wizard shows) and mask the same fields.
"""

from __future__ import annotations

import argparse
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Input
from tui_support import SIZE

from kosma_tui.commands.link import FormAnswerer, Terminal
from kosma_tui.core.forms import (
    CONSUMER_INPUT_NEEDED,
    ChoiceElement,
    Form,
    InputElement,
    Option,
    Step,
    TextElement,
)
from kosma_tui.core.linking.steps import StepKind, describe
from kosma_tui.core.portal import PortalClient
from kosma_tui.sandbox.banks import BANKS, COUNTRIES, INTERFACES
from kosma_tui.tui.screens.link import KIND_PHASE, phase_of
from kosma_tui.tui.widgets.step_form import ChoiceStep, InputStep


@dataclass(frozen=True)
class Reading:
    kind: StepKind | None  # a choice's topic, CREDENTIALS/OTP, DECOUPLED; None: not shown
    secret: frozenset[str]  # the keys of the masked fields

    def agrees(self, expected: Reading) -> bool:
        return self.secret == expected.secret and self.kind in (None, expected.kind)


class RecordingTerminal(Terminal):
    """The command's terminal, answering from a dict and noting which questions hid."""

    def __init__(self, answers: dict[str, str]) -> None:
        super().__init__(io.StringIO(), io.StringIO())
        self.answers = answers
        self.secret_prompts: set[str] = set()

    def ask(self, prompt: str, *, secret: bool = False) -> str:
        if secret:
            self.secret_prompts.add(prompt)
        label = prompt.split(" (number")[0].removesuffix(": ")
        return self.answers.get(label, "1")


def cli_reading(step: Step) -> Reading:
    """What ``kosma-tui link`` makes of ``step``."""
    if step.state != CONSUMER_INPUT_NEEDED:
        return Reading(StepKind.DECOUPLED, frozenset())  # the command waits for the approval
    assert step.form is not None
    inputs = step.form.inputs
    first = {e.key: e.options[0].value for e in inputs if isinstance(e, ChoiceElement)}
    given = next(iter(first.values()), None)
    args = argparse.Namespace(country=given, bank=given, method=given)
    labels = {e.label or e.key: "12345" for e in inputs if isinstance(e, InputElement)}
    term = RecordingTerminal(labels)
    answerer = FormAnswerer(term, args)
    answerer.values(step, retry=False)
    used = [topic for topic, answer in answerer.answers.items() if answer is None]
    secret = frozenset(
        e.key
        for e in inputs
        if isinstance(e, InputElement) and f"{e.label or e.key}: " in term.secret_prompts
    )
    if len(inputs) == 1 and isinstance(inputs[0], ChoiceElement):
        return Reading(used[0] if used else StepKind.CHOICE, secret)
    return Reading(None, secret)  # the command asks a login and an OTP alike


class Host(App[None]):
    """A bare app to mount the wizard's step widgets in."""


async def tui_reading(app: Host, step: Step) -> Reading:
    """What the Link wizard makes of ``step``: its phase and the widgets it mounts."""
    phase = phase_of(step)
    kinds = [k for k, p in KIND_PHASE.items() if p == phase]
    if step.state != CONSUMER_INPUT_NEEDED:
        assert StepKind.DECOUPLED in kinds
        return Reading(StepKind.DECOUPLED, frozenset())
    assert step.form is not None
    view = describe(step)
    await app.screen.remove_children()
    if view.choice is not None:
        widget: Any = ChoiceStep(step.form, view.choice)
        await app.screen.mount(widget)
        assert widget.topic in kinds
        return Reading(widget.topic, frozenset())
    widget = InputStep(step.form)
    await app.screen.mount(widget)
    secret = frozenset(
        e.key for e in step.form.inputs if widget.query_one(f"#in-{e.key}", Input).password
    )
    kind = StepKind.OTP if phase == KIND_PHASE[StepKind.OTP] else StepKind.CREDENTIALS
    return Reading(kind, secret)


async def walk(client: PortalClient, answers: list[dict[str, str]]) -> list[Step]:
    """A portal session: the first step and the step after each answer; then ended."""
    today = date.today()  # the portal runs on the real date
    token = await client.get_client_token(today, today)
    session, flow = token.session_id, token.flow_id
    steps = [await client.get_flow_step(session, flow)]
    for values in answers:
        steps.append(await client.submit_flow_step(session, flow, steps[-1], values))
    await client.end_session(session)
    return steps


async def demo_bank_steps(url: str) -> list[tuple[str, Step, Reading]]:
    """(what, step, the expected reading) for the steps of the Demo Bank portal."""
    credentials = Reading(StepKind.CREDENTIALS, frozenset({"USER_PASSWORD"}))
    table: list[tuple[str, Step, Reading]] = []
    async with PortalClient(
        url, "demo-customer", "demo-token", ip_address="127.0.0.1", retries=0
    ) as client:
        for country in COUNTRIES:
            first_bank = next(iter(BANKS[country]))
            for bank in BANKS[country]:
                steps = await walk(client, [{"country_code": country}, {"bank_code": bank}])
                if bank == first_bank:
                    if country == "DE":
                        table.append(("country", steps[0], Reading(StepKind.COUNTRY, frozenset())))
                    table.append(
                        (f"banks of {country}", steps[1], Reading(StepKind.BANK, frozenset()))
                    )
                table.append(
                    (f"methods of {bank}", steps[2], Reading(StepKind.METHOD, frozenset()))
                )
            for method, _suffix, _text in INTERFACES:  # each login method's login step
                steps = await walk(
                    client,
                    [{"country_code": country}, {"bank_code": first_bank}, {"interface": method}],
                )
                table.append((f"login {first_bank} {method}", steps[3], credentials))
        start = [{"country_code": "DE"}, {"bank_code": "88888888"}, {"interface": "PSD2"}]
        steps = await walk(client, [*start, {"LOGINNAME": "embedded", "USER_PASSWORD": "12345"}])
        table.append(("OTP", steps[4], Reading(StepKind.OTP, frozenset({"TAN"}))))
        steps = await walk(client, [*start, {"LOGINNAME": "decoupled", "USER_PASSWORD": "12345"}])
        table.append(("decoupled", steps[4], Reading(StepKind.DECOUPLED, frozenset())))
    return table


async def test_command_and_wizard_read_every_demo_bank_step_alike(demo_portal: Any) -> None:
    table = await demo_bank_steps(demo_portal.url)
    banks = sum(len(b) for b in BANKS.values())
    assert len(table) == 1 + len(COUNTRIES) + banks + 2 * len(COUNTRIES) + 2
    async with Host().run_test(size=SIZE) as pilot:
        for what, step, expected in table:
            view = describe(step)
            assert view.kind == expected.kind, what
            assert {f.key for f in view.fields if f.secret} == expected.secret, what
            assert cli_reading(step).agrees(expected), f"kosma-tui link: {what}"
            assert await tui_reading(pilot.app, step) == expected, f"Link wizard: {what}"


def _step(*elements: Any) -> Step:
    return Step(CONSUMER_INPUT_NEEDED, Form("other-bank", [TextElement("Log in."), *elements]))


@pytest.mark.parametrize(
    ("what", "step", "expected"),
    [
        # an OTP the bank forgot to flag as a password is masked by both
        (
            "unflagged OTP",
            _step(InputElement("otp_code", "One-time password (TAN)")),
            Reading(StepKind.OTP, frozenset({"otp_code"})),
        ),
        (
            "unflagged PIN",
            _step(InputElement("user", "User"), InputElement("pin", "PIN")),
            Reading(StepKind.CREDENTIALS, frozenset({"pin"})),
        ),
        # "instance" holds the letters of TAN, but not the word: a login, nothing masked
        (
            "no OTP inside a word",
            _step(InputElement("INSTANCE", "Instance")),
            Reading(StepKind.CREDENTIALS, frozenset()),
        ),
        # another portal's keys: the choice is read by its words
        (
            "a country by another key",
            _step(ChoiceElement("land", "Country of the bank", [Option("DE", "Deutschland")])),
            Reading(StepKind.COUNTRY, frozenset()),
        ),
    ],
)
async def test_other_portals_steps_are_read_alike(what: str, step: Step, expected: Reading) -> None:
    assert cli_reading(step).agrees(expected), f"kosma-tui link: {what}"
    async with Host().run_test(size=SIZE) as pilot:
        assert await tui_reading(pilot.app, step) == expected, f"Link wizard: {what}"

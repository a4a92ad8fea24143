"""The portal's forms asked line by line, and the choice of the accounts to add.

Options answer the non-secret choices (country, bank, login method) once;
everything else is asked (secrets and OTPs without echo). What a step asks
for is read by ``core.linking.steps``, as in the TUI.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kosma_tui.commands.base import safe_text
from kosma_tui.commands.link.terminal import Terminal
from kosma_tui.core.errors import UsageError
from kosma_tui.core.forms import ChoiceElement, InputElement, Option, Step
from kosma_tui.core.identifiers import same_account
from kosma_tui.core.linking.steps import StepField, StepKind, describe

if TYPE_CHECKING:
    from kosma_tui.core.portal import LinkResult, PortalAccount

LIST_LIMIT = 40  # longer choice lists are filtered by what the admin types first


def _option_text(option: Option) -> str:
    label = safe_text(option.label)
    extra = option.description or (option.value if option.value != option.label else "")
    return f"{label} ({safe_text(extra)})" if extra else label


class FormAnswerer:
    """Renders a step's form and collects its values (options first, then the terminal)."""

    def __init__(self, term: Terminal, args: argparse.Namespace) -> None:
        self.term = term
        self.answers: dict[StepKind, str | None] = {
            StepKind.COUNTRY: args.country,
            StepKind.METHOD: args.method,
            StepKind.BANK: args.bank,
        }

    def values(self, step: Step, retry: bool) -> dict[str, str]:
        view = describe(step)
        if view.error:
            self.term.say(f"! {safe_text(view.error)}")
        if not retry:
            for text in view.texts:
                self.term.say(safe_text(text))
        values: dict[str, str] = {}
        for field in view.fields:
            values[field.key] = self.choose(field) if field.topic else self.enter(field)
        return values

    def enter(self, field: StepField) -> str:
        assert isinstance(field.element, InputElement)
        label = safe_text(field.label)
        while True:
            value = self.term.ask(f"{label}: ", secret=field.secret)
            problem = field.element.validate(value)
            if problem is None:
                return value
            if not self.term.interactive:
                raise UsageError(problem, "Give every answer on its own line of standard input.")
            self.term.say(f"! {problem}")

    def choose(self, field: StepField) -> str:
        element, topic = field.element, field.topic
        assert isinstance(element, ChoiceElement)
        label = safe_text(field.label)
        given = self.answers.get(topic) if topic else None
        if given is not None and topic is not None:
            self.answers[topic] = None  # an answer given as an option is used once
            option = _match(element, given, topic)
            if option is None:
                raise UsageError(*_no_match(element, given, label, topic))
            self.term.say(f"{label}: {_option_text(option)}")
            return option.value
        if not element.options:
            raise UsageError(f"The portal offers no choices for {label}.", "Try again later.")
        shown = element.options
        if len(shown) <= LIST_LIMIT:
            self._list(label, shown)
        else:
            self.term.say(f"{label}: {len(shown)} choices; type part of a name, code or BIC.")
        while True:
            text = self.term.ask(f"{label} (number, or text to filter): ").strip()
            if text.isdigit() and shown and 1 <= int(text) <= len(shown):
                option = shown[int(text) - 1]
                self.term.say(f"{label}: {_option_text(option)}")
                return option.value
            option = _match(element, text, topic) if text else None
            if option is not None:
                self.term.say(f"{label}: {_option_text(option)}")
                return option.value
            found = element.filter(text) if text else element.options
            if not self.term.interactive:
                raise UsageError(*_no_match(element, text, label, topic))
            if not found:
                self.term.say(f"! Nothing matches '{safe_text(text)}'.")
                continue
            shown = found
            self._list(label, shown[:LIST_LIMIT])
            if len(shown) > LIST_LIMIT:
                self.term.say(f"  … {len(shown) - LIST_LIMIT} more; type more of the name.")
                shown = shown[:LIST_LIMIT]

    def _list(self, label: str, options: list[Option]) -> None:
        self.term.say(f"{label}:")
        width = len(str(len(options)))
        for number, option in enumerate(options, 1):
            self.term.say(f"  {number:>{width}}. {_option_text(option)}")


def _match(element: ChoiceElement, text: str, topic: StepKind | None) -> Option | None:
    """The option named by ``text``: its value or label, a BIC in its description (banks),
    else the only option whose label, value or description contains it."""
    option = element.find(text)
    if option is not None:
        return option
    wanted = text.strip().casefold()
    if not wanted:
        return None
    if topic == StepKind.BANK:
        for option in element.options:
            words = option.description.replace("·", " ").casefold().split()
            if wanted in words:
                return option
    found = element.filter(text)
    return found[0] if len(found) == 1 else None


def _no_match(
    element: ChoiceElement, text: str, label: str, topic: StepKind | None
) -> tuple[str, str]:
    found = element.filter(text) if text.strip() else []
    flags = {StepKind.COUNTRY: "--country", StepKind.BANK: "--bank", StepKind.METHOD: "--method"}
    flag = flags.get(topic, "") if topic is not None else ""
    where = f" ({flag})" if flag else ""
    if len(found) > 1:
        names = ", ".join(safe_text(o.label) for o in found[:8])
        more = ", …" if len(found) > 8 else ""
        return (
            f"'{safe_text(text)}' matches several choices for {label}{where}: {names}{more}.",
            "Give the full name, the code or the BIC.",
        )
    names = ", ".join(safe_text(o.label) for o in element.options[:8])
    more = ", …" if len(element.options) > 8 else ""
    return (
        f"The portal offers no '{safe_text(text)}' for {label}{where}.",
        f"Choose one of: {names}{more}.",
    )


def choose_accounts(
    term: Terminal, result: LinkResult, store: Any, company: str, all_accounts: bool
) -> list[str] | None:
    """Ids of the returned accounts to add; None means all (the default)."""
    if all_accounts or not term.interactive or not result.accounts:
        return None
    stored = store.accounts(company=company)
    term.say("The bank returned these accounts:")
    for number, account in enumerate(result.accounts, 1):
        linked = any(
            same_account(a.iban, a.bank_account_no, account.iban, account.account_number)
            for a in stored
        )
        known = "  (already linked: kept current)" if linked else ""
        term.say(f"  {number}. {_account_line(account)}{known}")
    while True:
        text = term.ask("Accounts to add (numbers like 1,3; Enter for all): ").strip()
        if not text or text.casefold() == "all":
            return None
        try:
            numbers = {int(part) for part in text.replace(" ", ",").split(",") if part}
        except ValueError:
            numbers = set()
        if numbers and all(1 <= n <= len(result.accounts) for n in numbers):
            return [result.accounts[n - 1].id for n in sorted(numbers)]
        term.say(f"! Give numbers between 1 and {len(result.accounts)}, separated by commas.")


def _account_line(account: PortalAccount) -> str:
    alias = safe_text(account.alias) or "Account"
    holder = f" ({safe_text(account.holder_name)})" if account.holder_name else ""
    number = safe_text(account.iban or account.account_number)
    currency = f" {account.balance.currency}" if account.balance else ""
    return f"{alias}{holder}  {number}{currency}"

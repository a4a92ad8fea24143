"""``kosma-tui link``: Link Bank and Accounts from a plain terminal.

The portal's forms are rendered line by line: options answer the non-secret
choices (country, bank, login method), everything else is asked (secrets and
OTPs without echo), or read one line each from standard input when it is not
a terminal, so linking can be scripted::

    printf 'embedded\\n12345\\n12345\\n' | kosma-tui link --company "Demo Company" \\
        --country DE --bank "Demo Bank" --method "Demo Bank PSD2"

Whatever ends the flow early (Ctrl-C, end of input, a refused answer, a
portal failure) ends the portal session first.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from kosma_tui.commands.base import (
    open_store,
    print_header,
    print_json,
    report_error,
    safe_text,
)
from kosma_tui.core import validation
from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.forms import (
    CONSUMER_INPUT_NEEDED,
    FINISHED,
    PROCESSING,
    ChoiceElement,
    InputElement,
    Option,
    Step,
    TextElement,
)
from kosma_tui.core.linking import (
    LinkFlow,
    LinkSummary,
    bank_record_name,
    company_or_error,
    default_start_text,
    renewal_note,
    resolve_start_date,
)
from kosma_tui.core.text import raw_stream

if TYPE_CHECKING:
    from kosma_tui.core.portal import LinkResult, PortalAccount

LIST_LIMIT = 40  # longer choice lists are filtered by what the admin types first
TICK = 0.25  # seconds between updates of the decoupled wait


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "link",
        help="Link Bank and Accounts through the banking portal's forms",
        description="Link Bank and Accounts: every form element the options do not answer "
        "is asked on the terminal (secrets without echo), or read line by line from standard "
        "input when it is not a terminal.",
    )
    p.add_argument("--company", required=True, help="the company that owns the accounts")
    p.add_argument(
        "--start-date",
        metavar="D",
        help="YYYY-MM-DD (default today; on a renewal with --bank the oldest Last Integration "
        "Date); an empty value means the start of the company's current fiscal year",
    )
    p.add_argument("--country", metavar="CC", help="the bank's country, by code or name")
    p.add_argument("--bank", metavar="NAME", help="the bank, by name, bank code or BIC")
    p.add_argument("--method", metavar="NAME", help="the login method, e.g. 'Demo Bank PSD2'")
    p.add_argument("--accounts", choices=["all"],
                   help="add every account the bank returns without asking")
    p.add_argument("--json", action="store_true",
                   help="print the summary as JSON on standard output (the questions and "
                   "notes go to standard error)")
    p.set_defaults(func=run)


class EndOfInput(Exception):
    """Standard input ended (or Ctrl-D) before the flow was complete."""


# ---------------------------------------------------------------- terminal


class Terminal:
    """Questions on a terminal, or answers read one per line from piped input."""

    def __init__(self, stdin: TextIO, out: TextIO) -> None:
        self.stdin = stdin
        self.out = out
        self.interactive = stdin.isatty()
        self.live = out.isatty()

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, prompt: str, *, secret: bool = False) -> str:
        if self.interactive:
            try:
                if secret:
                    return getpass.getpass(prompt, stream=self.out)
                self.out.write(prompt)
                self.out.flush()
                line = self.stdin.readline()
            except EOFError:
                line = ""
            if not line:
                self.say()  # Ctrl-D leaves the cursor after the prompt
                raise EndOfInput()
            return line.rstrip("\r\n")
        line = self.stdin.readline()
        if not line:
            raise EndOfInput()
        value = line.rstrip("\r\n")
        self.say(f"{prompt}{'(hidden)' if secret else safe_text(value)}")
        return value


# ---------------------------------------------------------------- forms


def _is_secret(element: InputElement) -> bool:
    """Passwords, and OTPs/TANs even when the bank forgot to flag them."""
    words = f"{element.key} {element.label}".replace("_", " ").casefold().split()
    return element.password or bool({"otp", "tan", "pin"} & set(words))


def _describe(option: Option) -> str:
    label = safe_text(option.label)
    extra = option.description or (option.value if option.value != option.label else "")
    return f"{label} ({safe_text(extra)})" if extra else label


class FormAnswerer:
    """Renders a step's form and collects its values (options first, then the terminal)."""

    def __init__(self, term: Terminal, args: argparse.Namespace) -> None:
        self.term = term
        self.answers: dict[str, str | None] = {
            "country": args.country,
            "method": args.method,
            "bank": args.bank,
        }

    @staticmethod
    def _topic(element: ChoiceElement) -> str | None:
        text = f"{element.key} {element.label}".replace("_", " ").casefold()
        if "country" in text:
            return "country"
        if "interface" in text or "method" in text:
            return "method"
        if "bank" in text:
            return "bank"
        return None

    def values(self, step: Step, retry: bool) -> dict[str, str]:
        assert step.form is not None
        if step.error_message:
            self.term.say(f"! {safe_text(step.error_message)}")
        if not retry:
            for element in step.form.elements:
                if isinstance(element, TextElement) and element.text:
                    self.term.say(safe_text(element.text))
        values: dict[str, str] = {}
        for element in step.form.inputs:
            if isinstance(element, ChoiceElement):
                values[element.key] = self.choose(element)
            else:
                values[element.key] = self.enter(element)
        return values

    def enter(self, element: InputElement) -> str:
        label = safe_text(element.label or element.key)
        while True:
            value = self.term.ask(f"{label}: ", secret=_is_secret(element))
            problem = element.validate(value)
            if problem is None:
                return value
            if not self.term.interactive:
                raise UsageError(problem, "Give every answer on its own line of standard input.")
            self.term.say(f"! {problem}")

    def choose(self, element: ChoiceElement) -> str:
        label = safe_text(element.label or element.key)
        topic = self._topic(element)
        given = self.answers.get(topic) if topic else None
        if given is not None:
            self.answers[topic] = None  # an answer given as an option is used once
            option = _match(element, given, topic)
            if option is None:
                raise UsageError(*_no_match(element, given, label, topic))
            self.term.say(f"{label}: {_describe(option)}")
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
                self.term.say(f"{label}: {_describe(option)}")
                return option.value
            option = _match(element, text, topic) if text else None
            if option is not None:
                self.term.say(f"{label}: {_describe(option)}")
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
            self.term.say(f"  {number:>{width}}. {_describe(option)}")


def _match(element: ChoiceElement, text: str, topic: str | None) -> Option | None:
    """The option named by ``text``: its value or label, a BIC in its description (banks),
    else the only option whose label, value or description contains it."""
    option = element.find(text)
    if option is not None:
        return option
    wanted = text.strip().casefold()
    if not wanted:
        return None
    if topic == "bank":
        for option in element.options:
            words = option.description.replace("·", " ").casefold().split()
            if wanted in words:
                return option
    found = element.filter(text)
    return found[0] if len(found) == 1 else None


def _no_match(element: ChoiceElement, text: str, label: str, topic: str | None) -> tuple[str, str]:
    found = element.filter(text) if text.strip() else []
    flag = {"country": "--country", "bank": "--bank", "method": "--method"}.get(topic or "", "")
    where = f" ({flag})" if flag else ""
    if len(found) > 1:
        names = ", ".join(safe_text(o.label) for o in found[:8])
        more = ", …" if len(found) > 8 else ""
        return (f"'{safe_text(text)}' matches several choices for {label}{where}: "
                f"{names}{more}.", "Give the full name, the code or the BIC.")
    names = ", ".join(safe_text(o.label) for o in element.options[:8])
    more = ", …" if len(element.options) > 8 else ""
    return (f"The portal offers no '{safe_text(text)}' for {label}{where}.",
            f"Choose one of: {names}{more}.")


# ---------------------------------------------------------------- accounts


def choose_accounts(term: Terminal, result: LinkResult, store: Any, company: str,
                    all_accounts: bool) -> list[str] | None:
    """Ids of the returned accounts to add; None means all (the default)."""
    if all_accounts or not term.interactive or not result.accounts:
        return None
    stored = {a.iban for a in store.accounts(company=company) if a.iban}
    term.say("The bank returned these accounts:")
    for number, account in enumerate(result.accounts, 1):
        known = "  (already linked: kept current)" if _compact(account.iban) in stored else ""
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


def _compact(iban: str) -> str:
    return "".join(iban.split()).upper()


def _account_line(account: PortalAccount) -> str:
    alias = safe_text(account.alias) or "Account"
    holder = f" ({safe_text(account.holder_name)})" if account.holder_name else ""
    number = safe_text(account.iban or account.account_number)
    currency = f" {account.balance.currency}" if account.balance else ""
    return f"{alias}{holder}  {number}{currency}"


# ---------------------------------------------------------------- the run


def _stored_bank(store: Any, text: str | None) -> str | None:
    """The stored Bank named by ``text`` (name, bank code or BIC): a renewal."""
    if not text:
        return None
    wanted = text.strip().casefold()
    for bank in store.banks():
        if wanted in (bank.name.casefold(), bank.bank_code.casefold(),
                      bank.swift_number.casefold()):
            return str(bank.name)
    return None


def _check_country(text: str | None) -> None:
    """A two-letter --country must be an ISO code (checked before the portal is asked)."""
    if text is None:
        return
    value = text.strip()
    if not value:
        raise UsageError("--country is empty.", "Give a country code such as DE, or its name.")
    if len(value) == 2 and value.isalpha():
        validation.country(value)


async def _wait_for_approval(flow: LinkFlow, step: Step, term: Terminal) -> Step:
    """Poll a decoupled approval, showing the seconds waited; cancelling ends the session."""
    term.say("Approve the login in your banking app… (Ctrl-C cancels)")
    began = time.monotonic()
    last_line = 0.0
    while step.state == PROCESSING:
        task = asyncio.ensure_future(flow.poll())
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=TICK)
                waited = time.monotonic() - began
                if term.live:
                    raw_stream(term.out).write(f"\r  waiting for approval: {waited:.0f} s ")
                    term.out.flush()
                elif waited - last_line >= 5:
                    last_line = waited
                    term.say(f"  waiting for approval: {waited:.0f} s")
        except asyncio.CancelledError:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, KosmaError):
                pass
            await flow.cancel()
            raise
        step = task.result()
    if term.live:
        term.out.write("\n")
    term.say(f"Approved after {time.monotonic() - began:.0f} s.")
    return step


def _drive(runner: asyncio.Runner, flow: LinkFlow, term: Terminal,
           answerer: FormAnswerer) -> Step:
    """Walk the steps until FINISHED (terminal steps raise from the flow)."""
    step = runner.run(flow.start())
    retry_form: str | None = None
    while step.state != FINISHED:
        if step.state == CONSUMER_INPUT_NEEDED:
            assert step.form is not None
            retry = step.error is not None and retry_form == step.form.form_identifier
            values = answerer.values(step, retry)
            retry_form = step.form.form_identifier
            step = runner.run(flow.submit(values))
        elif step.state == PROCESSING:
            step = runner.run(_wait_for_approval(flow, step, term))
        else:  # the flow raises on terminal steps; anything else is a portal fault
            raise UsageError(f"The portal sent an unexpected step ({step.state}).")
    return step


def print_summary(term: Terminal, summary: LinkSummary, note: str | None) -> None:
    bank = summary.bank
    codes = ", ".join(x for x in (f"BIC {bank.swift_number}" if bank.swift_number else "",
                                  f"code {bank.bank_code}" if bank.bank_code else "") if x)
    state = "created" if summary.bank_created else "already known"
    term.say(f"Bank: {safe_text(bank.name)}{f' ({codes})' if codes else ''}, {state}.")
    for title, accounts, mark in (("Added", summary.added, "+"),
                                  ("Updated", summary.updated, "~")):
        if accounts:
            noun = "Bank Account" if len(accounts) == 1 else "Bank Accounts"
            term.say(f"{title} {len(accounts)} {noun}:")
            for a in accounts:
                term.say(f"  {mark} {safe_text(a.name)}  {safe_text(a.iban or a.bank_account_no)}"
                         f"  {a.currency}")
    if not summary.added and not summary.updated:
        term.say("The bank returned no account for this login, so none was added; the Bank "
                 "Consent is kept. Link again with a login that has accounts, or revoke it "
                 "with 'kosma-tui consent revoke'.")
    consent = summary.consent
    expiry = consent.consent_expiry[:10]
    days = "day" if summary.days_left == 1 else "days"
    term.say(f"Bank Consent {safe_text(consent.name)}: from {consent.consent_start}, "
             f"expires {expiry} ({summary.days_left} {days} left).")
    for warning in ([note] if note else []) + summary.warnings:
        term.say(f"Note: {safe_text(warning)}")
    if summary.added or summary.updated:
        which = "new" if summary.added else "updated"
        term.say(f"Sync the {which} accounts with 'kosma-tui sync --all' (or from the TUI).")


def summary_json(summary: LinkSummary, notes: list[str]) -> dict[str, Any]:
    """``link --json`` (DESIGN 8): what was linked; no secret."""
    def accounts(items: list[Any]) -> list[dict[str, Any]]:
        return [{"name": a.name, "iban": a.iban, "currency": a.currency} for a in items]

    consent = summary.consent
    return {
        "bank": {"name": summary.bank.name, "bic": summary.bank.swift_number,
                 "bank_code": summary.bank.bank_code, "created": summary.bank_created},
        "company": consent.company,
        "added": accounts(summary.added),
        "updated": accounts(summary.updated),
        "consent": {"name": consent.name, "consent_start": consent.consent_start,
                    "consent_expiry": consent.consent_expiry, "days_left": summary.days_left},
        "notes": notes,
    }


def run(args: argparse.Namespace, stdin: TextIO | None = None,
        out: TextIO | None = None) -> int:
    from kosma_tui.core.connection import PortalConnection

    # with --json, standard output carries only the summary: questions go to stderr
    term = Terminal(stdin or sys.stdin, out or (sys.stderr if args.json else sys.stdout))
    store = open_store()
    company = company_or_error(store, " ".join(args.company.split())).name
    renewing = _stored_bank(store, args.bank)
    text = args.start_date
    if text is None:
        text = default_start_text(store, company, renewing)
    start = resolve_start_date(store, company, text)
    _check_country(args.country)

    print_header(store, "Link Bank and Accounts", term.out)
    term.say(f"Company: {safe_text(company)}  ·  Start Date: {start.date.isoformat()}")
    if start.warning:
        term.say(f"Note: {start.warning}")
    note = renewal_note(store, company, renewing, start.date) if renewing else None
    if note:
        term.say(f"Note: {note}")

    connection = PortalConnection(store, attended=True)
    with asyncio.Runner() as runner:
        client = runner.run(connection.__aenter__())
        try:
            if start.warning:
                _say_usage(runner, store, client, term)
            flow = LinkFlow(store, client, company, start)
            return _link(runner, flow, term, FormAnswerer(term, args), args, note)
        finally:
            runner.run(connection.__aexit__(None, None, None))


def _say_usage(runner: asyncio.Runner, store: Any, client: Any, term: Terminal) -> None:
    """How much of the plan is left, after the warning that older transactions count."""
    from kosma_tui.core import subscription

    try:
        note = subscription.usage_note(runner.run(subscription.fetch(store, client)))
    except KosmaError:
        return  # the warning stands; linking itself reports a portal that does not answer
    if note:
        term.say(f"Note: {note}")


def _link(runner: asyncio.Runner, flow: LinkFlow, term: Terminal, answerer: FormAnswerer,
          args: argparse.Namespace, note: str | None) -> int:
    def ended(make: Callable[[], BaseException]) -> BaseException:
        runner.run(flow.cancel())
        return make()

    try:
        _drive(runner, flow, term, answerer)
        result = runner.run(flow.fetch_result())
        chosen = choose_accounts(term, result, flow.store, flow.company, args.accounts == "all")
    except KeyboardInterrupt:
        runner.run(flow.cancel())
        term.say("")
        report_error(KosmaError("Linking was cancelled; the portal session was ended and "
                                "nothing was saved.", code="CANCELLED"),
                     bool(getattr(args, "json", False)))
        return 130
    except EndOfInput:
        raise ended(lambda: UsageError(
            "Standard input ended before linking was complete; the portal session was ended "
            "and nothing was saved.",
            "Give every answer the forms ask for on its own line.",
        )) from None
    except BaseException:
        runner.run(flow.cancel())
        raise
    if note is None:
        note = renewal_note(flow.store, flow.company, bank_record_name(result.bank),
                            flow.start_date.date)
    summary = flow.save(result, chosen)
    if getattr(args, "json", False):
        print_json(summary_json(summary, ([note] if note else []) + summary.warnings))
        return 0
    print_summary(term, summary, note)
    return 0

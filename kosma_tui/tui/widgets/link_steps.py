"""The Link wizard's own steps: Company and Start Date, the decoupled wait, accounts, summary."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from kosma_tui.core import clock
from kosma_tui.core.errors import KosmaError
from kosma_tui.tui.text import clean, money, short_iban
from kosma_tui.tui.work import in_thread

if TYPE_CHECKING:
    from kosma_tui.core.linking import LinkSummary
    from kosma_tui.core.portal import PortalAccount
    from kosma_tui.core.store import Store

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def assess(
    store: Store, company: str, text: str, bank: str | None, usage: dict[str, Any] | None
) -> tuple[str, str]:
    """The Start Date's error (or "") and its note, by the core's rules. They read the
    store (fiscal years, consents): call from a thread worker."""
    from kosma_tui.core.linking import renewal_note, resolve_start_date

    try:
        start = resolve_start_date(store, company, text)
    except KosmaError as exc:
        return f"✗ {clean(exc.sentence())}", ""
    lines = [f"From {start.date.isoformat()}."]
    if start.warning:
        from kosma_tui.core.subscription import usage_note

        lines.append(start.warning)
        lines.append(usage_note(usage) or "")
    if bank:
        gap = renewal_note(store, company, bank, start.date)
        if gap:
            lines.append(gap)
    return "", " ".join(clean(line) for line in lines if line)


class StartStep(Vertical):
    """Company and Start Date, checked as you type by the core's start date rules (in a
    thread worker: they read the store). ``companies`` and the remembered subscription
    ``usage`` come read by the Link screen, off the event loop."""

    class Continue(Message):
        def __init__(self, company: str, start_text: str) -> None:
            super().__init__()
            self.company, self.start_text = company, start_text

    def __init__(
        self,
        store: Store,
        company: str,
        start_text: str,
        bank: str | None,
        *,
        companies: list[str],
        usage: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(id="start-step")
        self.store, self.company, self.start_text, self.bank = store, company, start_text, bank
        self.companies = companies
        self.usage = usage  # the subscription remembered, refreshed from the portal

    def compose(self) -> ComposeResult:
        names = self.companies
        yield Static(
            "Select the Company who owns the bank account and the Start Date of the "
            "transactions to read. Left empty, the Start Date is the start of the "
            "company's fiscal year.",
            classes="hint",
            markup=False,
        )
        with Horizontal(classes="field-row"):
            yield Label("Company", classes="field-label")
            yield Select(
                [(Text(clean(n)), n) for n in names],
                id="company",
                compact=True,
                allow_blank=False,
                value=self.company if self.company in names else names[0],
            )
        with Horizontal(classes="field-row"):
            yield Label("Start Date", classes="field-label")
            yield Input(
                self.start_text,
                placeholder="YYYY-MM-DD (empty: fiscal year start)",
                id="start-date",
                compact=True,
            )
        yield Static("", id="start-note", classes="warning", markup=False)
        yield Static("", id="start-error", classes="error", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Continue", id="continue", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#start-date", Input).focus()
        self.check()
        self.fetch_usage()

    @work(exclusive=True, group="link-usage")
    async def fetch_usage(self) -> None:
        """How much of the plan is left, for the limit warning of an earlier Start Date."""
        import asyncio

        from kosma_tui.core.subscription import remember

        app: Any = self.app
        try:
            async with app.portal() as client:
                details = await client.fetch_subscription_details()
            if details:  # remembered (a file write) off the event loop
                self.usage = await asyncio.to_thread(remember, self.store, details[0])
        except KosmaError:
            return  # the warning stands without the figures; linking itself will say more
        self.check()

    def chosen(self) -> tuple[str, str]:
        company = self.query_one("#company", Select).value
        return str(company), self.query_one("#start-date", Input).value

    def check(self, then: Any = None) -> None:
        """Check the Start Date in a thread worker; the note and error follow, then
        ``then()`` when it is valid."""
        company, text = self.chosen()
        store, bank, usage = self.store, self.bank, self.usage

        def show(result: tuple[str, str]) -> None:
            error, note = result
            if not self.is_attached:
                return
            self.query_one("#start-error", Static).update(Text(error))
            self.query_one("#start-note", Static).update(Text(note))
            if then is not None and not error:
                then()

        in_thread(
            self.app,
            lambda: assess(store, company, text, bank, usage),
            show,
            name="link-start-check",
            latest=True,
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.check()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.go()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.go()

    def go(self) -> None:
        chosen = self.chosen()
        self.check(then=lambda: self.post_message(self.Continue(*chosen)))


class WaitStep(Vertical):
    """A decoupled approval: spinner, seconds waited, Cancel."""

    def __init__(self, text: str, *, animate: bool = True) -> None:
        super().__init__(id="wait-step")
        self.text = text
        self.started = time.monotonic()
        # Not `self.animate`: that would hide Textual's Widget.animate() method.
        self.spinning = animate

    def compose(self) -> ComposeResult:
        yield Static(clean(self.text), markup=False)
        yield Static("", id="wait-line", classes="wait", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Cancel", id="cancel-wait", variant="error", compact=True)

    def on_mount(self) -> None:
        self.tick()
        if self.spinning:
            self.set_interval(0.1, self.tick)

    def tick(self) -> None:
        waited = time.monotonic() - self.started
        frame = SPINNER[int(waited * 10) % len(SPINNER)] if self.spinning else SPINNER[0]
        self.query_one("#wait-line", Static).update(
            f"{frame} Waiting for your approval… {int(waited)} s waited"
        )


class AccountChoice(SelectionList[str]):
    """Space toggles an account, Enter adds the selected ones."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "add",
            "Add selected",
            id="accounts-add",
            tooltip="Add the ticked accounts and save the Bank Consent",
        ),
        Binding(
            "space",
            "select",
            "Toggle",
            id="accounts-toggle",
            tooltip="Tick or untick the highlighted account",
        ),
    ]

    class Add(Message):
        pass

    def action_add(self) -> None:
        self.post_message(self.Add())


class AccountsStep(Vertical):
    class Chosen(Message):
        def __init__(self, ids: list[str]) -> None:
            super().__init__()
            self.ids = ids

    def __init__(self, accounts: list[PortalAccount]) -> None:
        super().__init__(id="accounts-step")
        self.accounts = accounts

    def compose(self) -> ComposeResult:
        if not self.accounts:
            yield Static(
                "The bank returned no account for this login. Enter keeps the Bank "
                "Consent without accounts; Escape goes back to log in with another "
                "user.",
                classes="hint",
                markup=False,
            )
        else:
            yield Static(
                f"The bank returned {len(self.accounts)} account(s). All are added "
                "unless you untick them (space); Enter adds.",
                classes="hint",
                markup=False,
            )
        items: list[Any] = []
        for account in self.accounts:
            label = Text(f"{clean(account.alias or account.account_type or 'Account')[:24]:<25}")
            label.append(f"{short_iban(account.iban or account.account_number):<12}")
            if account.balance is not None:
                label.append(
                    money(account.balance.amount, account.balance.currency)
                    + " "
                    + clean(account.balance.currency)
                )
            items.append((label, account.id, True))
        yield AccountChoice(*items, id="account-choice")
        with Horizontal(classes="buttons"):
            yield Button(
                "Add the selected accounts" if self.accounts else "Continue",
                id="add-accounts",
                variant="primary",
                compact=True,
            )

    def on_mount(self) -> None:
        # an empty list cannot take Enter: then the button has the focus
        (self.query_one(AccountChoice) if self.accounts else self.query_one(Button)).focus()

    def add(self) -> None:
        self.post_message(self.Chosen(list(self.query_one(AccountChoice).selected)))

    def on_account_choice_add(self, event: AccountChoice.Add) -> None:
        event.stop()
        self.add()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.add()


def expiry_day(expiry: str) -> str:
    """The local calendar date of a consent expiry (the time of day only adds noise)."""
    try:
        return clock.local_date(datetime.fromisoformat(expiry)).isoformat()
    except ValueError:
        return clean(expiry)


def summary_text(summary: LinkSummary, company: str) -> Text:
    consent = summary.consent
    text = Text()
    text.append(f"{clean(summary.bank.name)} is linked for {clean(company)}.\n", style="bold")
    for label, accounts in (("Added", summary.added), ("Updated", summary.updated)):
        for account in accounts:
            text.append(
                f"  {label}: {clean(account.name)} "
                f"{clean(account.iban or account.bank_account_no)}\n"
            )
    if not summary.added and not summary.updated:
        text.append(
            "  The bank returned no account for this login, so none was added. "
            "Link again with a login that has accounts, or revoke this consent on "
            "Consents (x).\n"
        )
    text.append(
        f"\nBank Consent from {clean(consent.consent_start)}, expires "
        f"{expiry_day(consent.consent_expiry)} "
    )
    text.append(f"({summary.days_left} days left)", style="bold green")
    text.append(".\nYou will be reminded before it ends.\n")
    for warning in summary.warnings:
        text.append(f"{clean(warning)}\n", style="#ffaf00")
    return text


class SummaryStep(Vertical):
    def __init__(self, summary: LinkSummary, company: str) -> None:
        super().__init__(id="summary-step")
        self.summary, self.company = summary, company

    def compose(self) -> ComposeResult:
        yield Static(summary_text(self.summary, self.company), id="summary", markup=False)
        with Horizontal(classes="buttons"):
            if self.summary.added or self.summary.updated:  # nothing to sync otherwise
                yield Button(
                    "Sync the accounts now", id="sync-linked", variant="primary", compact=True
                )
            yield Button("Done", id="done", compact=True)

    def on_mount(self) -> None:
        self.query_one(Button).focus()


class ErrorStep(Vertical):
    def __init__(self, error: KosmaError) -> None:
        super().__init__(id="error-step")
        self.error = error

    def compose(self) -> ComposeResult:
        yield Static(Text(f"✗ {clean(self.error.message)}", style="bold red"), markup=False)
        if self.error.remedy:
            yield Static(clean(self.error.remedy), markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Start again", id="restart", variant="primary", compact=True)
            yield Button("Close", id="close-link", compact=True)

    def on_mount(self) -> None:
        self.query_one("#restart", Button).focus()

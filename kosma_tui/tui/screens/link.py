"""Link Bank and Accounts: a wizard over ``core.linking.LinkFlow``.

Company and Start Date → the portal's forms (country, bank, method, login,
OTP or a decoupled wait) → choose accounts → summary with the consent expiry.
Escape goes back a step: the portal cannot undo a submission, so going back
ends the portal session and replays the earlier choices (never a password or
OTP) into a new one. Ctrl+C cancels linking and always ends the portal session.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Button, Static

from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.forms import CONSUMER_INPUT_NEEDED, FINISHED, PROCESSING, Step
from kosma_tui.core.linking.steps import StepKind, StepView, describe
from kosma_tui.tui.dialogs.confirm import ConfirmModal
from kosma_tui.tui.feedback import toast
from kosma_tui.tui.messages import SyncAccounts
from kosma_tui.tui.registry import registered
from kosma_tui.tui.screens.base import KosmaScreen
from kosma_tui.tui.text import clean
from kosma_tui.tui.widgets.link_steps import (
    AccountsStep,
    ErrorStep,
    StartStep,
    SummaryStep,
    WaitStep,
)
from kosma_tui.tui.widgets.step_form import ChoiceStep, InputStep
from kosma_tui.tui.work import LoopThread

if TYPE_CHECKING:
    from kosma_tui.core.linking import LinkFlow, LinkSummary
    from kosma_tui.core.portal import LinkResult, PortalClient

PHASES = (
    "Company and Start Date",
    "Country",
    "Bank",
    "Login method",
    "Login",
    "Confirm",
    "Accounts",
    "Summary",
)
# PHASES number (1-based) of each kind of portal step (core.linking.steps)
KIND_PHASE = {
    StepKind.COUNTRY: 2,
    StepKind.BANK: 3,
    StepKind.METHOD: 4,
    StepKind.CHOICE: 4,
    StepKind.CREDENTIALS: 5,
    StepKind.OTP: 6,
    StepKind.DECOUPLED: 6,
}


@dataclass
class Submission:
    form_identifier: str
    values: dict[str, str]
    replayable: bool  # a choice: no secret, safe to send again into a new session


def phase_of(step: Step) -> int:
    """Which of PHASES a portal step is (1-based)."""
    return KIND_PHASE.get(describe(step).kind, 6)


@registered("link")
class LinkScreen(KosmaScreen):
    TITLE = "Link Bank and Accounts"
    PURPOSE = (
        "Link a bank: choose the Company and Start Date (today by default; empty is the "
        "fiscal year start; older dates count against the plan's transaction limit), "
        "then country, bank (type to filter by name, BIC or code), login method, "
        "login and OTP or an approval in the banking app, then the accounts to add. "
        "The consent lasts 90 days; renewing starts at the oldest Last Integration Date."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back", tooltip="Go back one step"),
        Binding(
            "ctrl+c",
            "cancel_link",
            "Cancel linking",
            id="cancel-link",
            priority=True,
            tooltip="Stop linking and end the portal session",
        ),
    ]
    HELP_BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "choose",
            "Choose / Submit",
            id="link-submit",
            tooltip="Choose the highlighted option or submit the form",
        ),
        Binding(
            "space",
            "toggle",
            "Toggle account",
            id="link-toggle",
            tooltip="On the accounts step: add or leave out an account",
        ),
    ]

    def __init__(
        self,
        company: str | None = None,
        bank: str | None = None,
        start_text: str | None = None,
        country: str | None = None,
    ) -> None:
        super().__init__()
        self.company = company or ""
        self.bank = bank
        self.start_text = start_text
        self.country = country
        self.companies: list[str] = []  # read off the event loop when the screen opens
        self.flow: LinkFlow | None = None
        self.history: list[Submission] = []
        self.labels: dict[str, str] = {}
        self.phase = "start"
        self.phase_no = 1
        self.result: LinkResult | None = None
        self.summary: LinkSummary | None = None
        self.busy = False
        self._stack: AsyncExitStack | None = None
        self._client: PortalClient | None = None
        self._poller: Any = None
        # the flow and its portal client live on a loop of their own: LinkFlow writes
        # link sessions to the store between portal calls, never on the UI's loop
        self.flow_loop = LoopThread("link-flow")

    # -- layout ----------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static("", id="link-title", markup=False)
        body = Vertical(id="link-body")
        body.border_title = PHASES[0]
        yield body

    def on_mount(self) -> None:
        # in a worker: the screen's own messages (its keys) must not wait for the store
        self.run(self.open_start())

    async def open_start(self) -> None:
        store = self.store

        def read() -> tuple[list[str], str | None]:
            record = store.bank(self.bank) if self.bank and not self.country else None
            return [c.name for c in store.companies()], (
                record.country_code or None if record else None
            )

        # the store (a lock, a slow disk) is read off the event loop
        self.companies, country = await asyncio.to_thread(read)
        if not self.company:
            self.company = self.companies[0] if self.companies else ""
        self.country = self.country or country
        await self.show_start()

    def update_title(self) -> None:
        parts = [f" Link Bank and Accounts · step {self.phase_no} of {len(PHASES)}"]
        chosen = [clean(v) for k, v in self.labels.items() if k in ("bank_code", "interface")]
        if chosen:  # from the bank on, the bank and method say more than the company
            parts += chosen
        else:
            parts.append(clean(self.company))
            if self.flow is not None:
                parts.append(f"from {self.flow.start_date.date.isoformat()}")
        self.query_one("#link-title", Static).update(" · ".join(parts))

    async def show(self, widget: Widget, phase: str, phase_no: int, title: str) -> None:
        self.phase, self.phase_no = phase, phase_no
        body = self.query_one("#link-body", Vertical)
        body.border_title = Text(clean(title))
        await body.remove_children()
        await body.mount(widget)
        self.update_title()

    async def show_start(self) -> None:
        from kosma_tui.core.linking import default_start_text
        from kosma_tui.core.subscription import remembered

        self.labels = {}
        store, company, bank = self.store, self.company, self.bank

        def read() -> tuple[str, dict[str, Any] | None]:
            try:
                start = default_start_text(store, company, bank)
            except KosmaError:
                start = ""
            return start, remembered(store)

        start_text, usage = await asyncio.to_thread(read)  # off the event loop
        if self.start_text is None:
            self.start_text = start_text
        title = PHASES[0] + (f" · renewing {clean(self.bank)}" if self.bank else "")
        await self.show(
            StartStep(
                self.store,
                self.company,
                self.start_text,
                self.bank,
                companies=self.companies,
                usage=usage,
            ),
            "start",
            1,
            title,
        )

    # -- portal client ---------------------------------------------------

    async def client(self) -> PortalClient:
        if self._client is None:
            self._stack = AsyncExitStack()
            self._client = await self.flow_loop.run(
                self._stack.enter_async_context(self.kosma.portal())
            )
        return self._client

    async def close_client(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            with contextlib.suppress(Exception):
                await self.flow_loop.run(stack.aclose())

    # -- running portal work ---------------------------------------------

    def run(self, work: Any) -> None:
        self.run_worker(self._guarded(work), group="link", exclusive=True, exit_on_error=False)

    async def _guarded(self, work: Any) -> None:
        body = self.query_one("#link-body", Vertical)
        self.busy = True
        body.loading = True
        try:
            await work
        except UsageError as exc:
            self.inline_error(exc)
        except KosmaError as exc:
            await self.fail(exc)
        finally:
            self.busy = False
            body.loading = False

    def inline_error(self, exc: KosmaError) -> None:
        for widget in self.query(InputStep):
            widget.show_error(exc.sentence())
            return
        for start in self.query(StartStep):
            start.query_one("#start-error", Static).update(f"✗ {clean(exc.sentence())}")
            return
        self.app.notify(clean(exc.sentence()), severity="error", markup=False)

    async def fail(self, exc: KosmaError) -> None:
        """A failure ends the flow (LinkFlow ended the portal session): say what and what next."""
        if self.flow is not None:
            await self.flow_loop.run(self.flow.cancel())
        self.flow = None
        await self.show(ErrorStep(exc), "error", self.phase_no, "Linking stopped")

    async def new_flow(self, company: str, start_text: str) -> Step:
        from kosma_tui.core.linking import LinkFlow, resolve_start_date

        start = await asyncio.to_thread(resolve_start_date, self.store, company, start_text)
        self.company, self.start_text = company, start_text
        self.flow = LinkFlow(
            self.store, await self.client(), company, start, country_code=self.country
        )
        self.history = []
        return await self.flow_loop.run(self.flow.start())

    async def show_step(self, step: Step) -> None:
        if step.state == CONSUMER_INPUT_NEEDED and step.form is not None:
            await self.show_form(step, describe(step))
        elif step.state == PROCESSING:
            text = " ".join(describe(step).texts) or "Approve the login in your banking app."
            await self.show(
                WaitStep(text, animate=not self.kosma.frozen),
                "wait",
                6,
                "Approve in your banking app",
            )
            self._poller = self.run_worker(
                self.poll(), group="link-poll", exclusive=True, exit_on_error=False
            )
        elif step.state == FINISHED:
            assert self.flow is not None
            self.result = await self.flow_loop.run(self.flow.fetch_result())
            await self.show(
                AccountsStep(self.result.accounts),
                "accounts",
                7,
                f"Accounts at {clean(self.result.bank.bank_name)}",
            )

    async def show_form(self, step: Step, view: StepView) -> None:
        assert step.form is not None
        number = phase_of(step)
        choice = view.choice
        if choice is not None:
            query, preselect = "", None
            if view.kind == StepKind.BANK and self.bank:
                query = self.bank
            if view.kind == StepKind.COUNTRY and self.country:
                preselect = self.country
            widget: Widget = ChoiceStep(step.form, choice, query=query, preselect=preselect)
            title = choice.label or PHASES[number - 1]
            if view.kind == StepKind.BANK and "country_code" in self.labels:
                title = f"Bank in {self.labels['country_code']}"
        else:
            widget = InputStep(step.form, view.error)
            title = "Confirm with your OTP" if view.kind == StepKind.OTP else "Log in to your bank"
        await self.show(widget, "form", number, title)

    async def poll(self) -> None:
        flow = self.flow
        if flow is None or flow.step is None:
            return
        try:
            step = flow.step
            while step.state == PROCESSING:
                step = await self.flow_loop.run(flow.poll())
            await self.show_step(step)
        except KosmaError as exc:
            if self.flow is flow:
                await self.fail(exc)

    # -- messages from the steps -----------------------------------------

    def on_start_step_continue(self, message: StartStep.Continue) -> None:
        async def work() -> None:
            step = await self.new_flow(message.company, message.start_text)
            await self.show_step(step)

        self.run(work())

    def on_choice_step_chosen(self, message: ChoiceStep.Chosen) -> None:
        self.labels[message.key] = message.label
        self.submit({message.key: message.value}, replayable=True)

    def on_input_step_submitted(self, message: InputStep.Submitted) -> None:
        self.submit(message.values, replayable=False)

    def submit(self, values: dict[str, str], *, replayable: bool) -> None:
        flow = self.flow
        if flow is None or flow.step is None or flow.step.form is None:
            return
        entry = Submission(flow.step.form.form_identifier, values, replayable)

        async def work() -> None:
            step = await self.flow_loop.run(flow.submit(values))
            self.history.append(entry)
            await self.show_step(step)

        self.run(work())

    def on_accounts_step_chosen(self, message: AccountsStep.Chosen) -> None:
        if self.flow is None or self.result is None:
            return
        if not message.ids and self.result.accounts:  # none returned: the consent alone
            self.notify(
                "Tick at least one account (space), or press ctrl+c to cancel.",
                severity="warning",
                markup=False,
            )
            return
        self.run(self.save(self.flow, self.result, message.ids))

    async def save(self, flow: LinkFlow, result: LinkResult, ids: list[str]) -> None:
        """Bank, accounts and consent stored (a lock, fsync'd writes) in a thread, so the
        screen keeps drawing; a refusal ends the flow like a portal failure."""
        try:
            self.summary = await asyncio.to_thread(flow.save, result, ids)
        except KosmaError as exc:
            await self.fail(exc)
            return
        self.kosma.data_signal.publish("accounts")
        toast(
            self.app,
            f"{self.summary.bank.name} linked: {len(self.summary.added)} added, "
            f"{len(self.summary.updated)} updated.",
        )
        await self.show(SummaryStep(self.summary, self.company), "summary", 8, "Summary")

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id
        if button == "cancel-wait":
            await self.action_cancel_link()
        elif button == "restart":
            await self.show_start()
        elif button == "close-link":
            await self.leave()
        elif button == "done":
            await self.leave()
        elif button == "sync-linked" and self.summary is not None:
            names = [a.name for a in self.summary.added + self.summary.updated]
            await self.leave()
            self.app.post_message(SyncAccounts(names))  # this screen is gone: to the app

    # -- back, cancel, leave ---------------------------------------------

    async def action_back(self) -> None:
        if self.busy:
            self.app.bell()
            return
        if self.phase == "start" or self.phase == "summary":
            await self.leave()
        elif self.phase == "error":
            await self.show_start()
        elif self.phase == "accounts":

            def answer(confirmed: object) -> None:
                if confirmed:
                    self.run(self.leave())

            self.app.push_screen(
                ConfirmModal(
                    "Leave linking?",
                    "The bank login is complete, but no account or consent is "
                    "saved unless you add the accounts. Leave anyway?",
                    yes="Leave",
                ),
                answer,
            )
        else:
            self.run(self.go_back())

    async def go_back(self) -> None:
        """Show the previous form: a new portal session with the earlier choices replayed."""
        if self._poller is not None:
            self._poller.cancel()
        target = len(self.history) - 1
        replay = self.history[: max(target, 0)]
        if self.flow is not None:
            await self.flow_loop.run(self.flow.cancel())
            self.flow = None
        if target < 0:
            await self.show_start()
            return
        step = await self.new_flow(self.company, self.start_text or "")
        assert self.flow is not None
        for entry in replay:
            form = step.form
            if (
                not entry.replayable
                or step.state != CONSUMER_INPUT_NEEDED
                or form is None
                or form.form_identifier != entry.form_identifier
            ):
                break
            step = await self.flow_loop.run(self.flow.submit(entry.values))
            self.history.append(entry)
        keep = {k for e in self.history for k in e.values}
        self.labels = {k: v for k, v in self.labels.items() if k in keep}
        await self.show_step(step)

    async def action_cancel_link(self) -> None:
        for worker in self.workers:
            worker.cancel()
        flow, self.flow = self.flow, None
        if flow is not None and not flow.closed:
            await self.flow_loop.run(flow.cancel())
            toast(
                self.app,
                "Linking cancelled; the portal session was ended. Nothing was saved.",
                warning=True,
            )
        await self.leave()

    async def leave(self) -> None:
        flow, self.flow = self.flow, None
        if flow is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.flow_loop.run(flow.cancel()), 20)
        await self.close_client()
        if self.is_current:
            self.app.pop_screen()

    async def on_unmount(self) -> None:
        flow, self.flow = self.flow, None
        if flow is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.flow_loop.run(flow.cancel()), 5)
        await self.close_client()
        self.flow_loop.stop()

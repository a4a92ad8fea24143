"""The linking flow as a state machine over the portal's steps (see ``kosma_tui.core.linking``).

A terminal step (ABORTED / EXCEPTION) or any portal failure ends the portal
session and raises the typed ``PortalError``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from kosma_tui.core import clock
from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.forms import (
    CONSUMER_INPUT_NEEDED,
    FINISHED,
    PROCESSING,
    ChoiceElement,
    InputElement,
    Step,
)
from kosma_tui.core.linking.company import company_or_error
from kosma_tui.core.linking.failures import LinkCancelled, failure
from kosma_tui.core.linking.saving import LinkSummary, save_link
from kosma_tui.core.linking.sessions import (
    Liveness,
    end_abandoned_sessions,
    end_session,
    lock_path,
    mark_closed,
)
from kosma_tui.core.linking.start_date import StartDate
from kosma_tui.core.records import LinkSession

if TYPE_CHECKING:
    from kosma_tui.core.portal import LinkResult, PortalClient
    from kosma_tui.core.store import Store

log = logging.getLogger(__name__)

DEFAULT_POLL_MS = 1000


class LinkFlow:
    """One run of Link Bank and Accounts for one company (see the module docstring)."""

    failure = staticmethod(failure)

    def __init__(
        self,
        store: Store,
        client: PortalClient,
        company: str,
        start: StartDate,
        *,
        country_code: str | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.company = company
        self.start_date = start
        self.country_code = country_code
        self.step: Step | None = None
        self.session: LinkSession | None = None
        self.result: LinkResult | None = None
        self.closed = False
        self._cancelled = asyncio.Event()
        self._liveness: Liveness | None = None

    # ------------------------------------------------------------ state

    @property
    def session_id(self) -> str:
        return self.session.session_id if self.session else ""

    def _require(self, *states: str) -> Step:
        if self.closed:
            raise UsageError("This linking flow has ended.", "Start Link Bank and Accounts again.")
        if self.step is None or self.step.state not in states:
            now = self.step.state if self.step else "not started"
            raise UsageError(f"The linking flow is not waiting for this (it is {now}).")
        return self.step

    async def _advance(self, call: Any) -> Step:
        """Await a portal call that yields the next step; any failure ends the session."""
        try:
            step = await call
        except asyncio.CancelledError:
            await self.cancel()
            raise
        except KosmaError:
            await self.cancel()
            raise
        self.step = step
        error = failure(step)
        if error is not None:
            await self.cancel()
            raise error
        return step

    # ------------------------------------------------------------ calls

    async def start(self) -> Step:
        """End abandoned sessions, open a portal session for the Start Date, first step."""
        if self.session is not None:
            raise UsageError("This linking flow was already started.")
        company_or_error(self.store, self.company)
        await end_abandoned_sessions(self.store, self.client)
        token = await self.client.get_client_token(
            self.start_date.date, clock.today(), self.country_code
        )
        self._liveness = Liveness(lock_path(self.store, token.session_id))
        self._liveness.acquire()
        self.session = LinkSession(
            session_id=token.session_id,
            session_id_short=token.session_id_short,
            flow_id=token.flow_id,
            status="Running",
            started=clock.now().isoformat(timespec="seconds"),
        )
        try:
            self.store.save_link_session(self.session)
        except BaseException:
            await self.cancel()
            raise
        return await self._advance(self.client.get_flow_step(token.session_id, token.flow_id))

    def check(self, values: dict[str, str]) -> dict[str, str]:
        """The values for the current form, or UsageError naming what is wrong."""
        step = self._require(CONSUMER_INPUT_NEEDED)
        assert step.form is not None
        checked: dict[str, str] = {}
        for element in step.form.inputs:
            value = values.get(element.key, "")
            if isinstance(element, InputElement):
                problem = element.validate(value)
                if problem:
                    raise UsageError(problem)
                if value or element.required:
                    checked[element.key] = value
            elif isinstance(element, ChoiceElement):
                if not any(o.value == value for o in element.options):
                    label = element.label or element.key
                    raise UsageError(f"Choose one of the offered options for {label}.")
                checked[element.key] = value
        return checked

    async def submit(self, values: dict[str, str]) -> Step:
        """Submit the current form (checked first: UsageError leaves the flow as it was)."""
        checked = self.check(values)
        step = self._require(CONSUMER_INPUT_NEEDED)
        assert self.session is not None
        return await self._advance(
            self.client.submit_flow_step(
                self.session.session_id, self.session.flow_id, step, checked
            )
        )

    async def poll(self) -> Step:
        """Wait ``poll_after_ms`` and ask for the step again; ``cancel()`` interrupts the wait."""
        step = self._require(PROCESSING)
        assert self.session is not None
        delay = (step.poll_after_ms if step.poll_after_ms is not None else DEFAULT_POLL_MS) / 1000
        try:
            async with asyncio.timeout(delay):
                await self._cancelled.wait()
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            await self.cancel()
            raise
        if self.closed:
            raise LinkCancelled()
        return await self._advance(
            self.client.get_flow_step(self.session.session_id, self.session.flow_id)
        )

    async def fetch_result(self) -> LinkResult:
        """Accounts, bank and consent of a FINISHED flow; the portal session is ended after."""
        self._require(FINISHED)
        assert self.session is not None
        try:
            result = await self.client.fetch_accounts_and_bank(
                self.session.session_id, self.session.flow_id
            )
        except BaseException:
            await self.cancel()
            raise
        self.result = result
        await self._close()
        return result

    def save(self, result: LinkResult, account_ids: list[str] | None = None) -> LinkSummary:
        """Store Bank, Bank Accounts and Bank Consent (the session was ended by fetch_result)."""
        summary = save_link(
            self.store, self.company, result, account_ids, session_id=self.session_id
        )
        summary.start = summary.start or self.start_date.date
        return summary

    async def cancel(self) -> None:
        """End the portal session and mark the Link Session Closed; idempotent, never raises."""
        self._cancelled.set()
        await self._close()

    async def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._cancelled.set()
        try:
            if self.session is not None:
                if await end_session(self.client, self.session.session_id):
                    mark_closed(self.store, self.session)
                # else: left Running, so the next start ends it
        except Exception:  # cancel never raises: the session is then ended on the next start
            log.exception("ending a link session failed")
        finally:
            if self._liveness is not None:
                self._liveness.release()

"""The banking portal client: one async method per PROTOCOL call.

Results are dataclasses (``results``); every failure is a ``PortalError``
carrying the user's sentence. Transient failures (connection errors,
timeouts, 5xx, 429) are retried under the one retry policy (``core.retry``),
honouring ``Retry-After``; other 4xx never are, nor the embedded Demo Bank
portal's own failures. Each attempt is one bounded exchange (``transport``);
a call with its retries has a budget too: no retry starts that could end
after it.

Consent calls rotate the consent token. A failed consent call may still have
rotated it (the error body then carries the fresh one): a retry uses that
fresh token, and the error finally raised carries the newest token seen, so
the caller can persist it whatever happened. Each consent call carries a
``request_id`` and is written to the replay journal before it is sent, so a
lost answer is asked for again instead of costing the consent (``replay``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import httpx
import orjson

from kosma_tui import __version__
from kosma_tui.core.envelope import seal
from kosma_tui.core.errors import (
    PortalError,
    PortalProtocolError,
    PortalUnreachable,
    UsageError,
)
from kosma_tui.core.forms import Step, parse_step
from kosma_tui.core.portal.address import check_admin_url
from kosma_tui.core.portal.answers import error_of, message_of
from kosma_tui.core.portal.parse import (
    CONSENT_PARSERS,
    accounts,
    balances,
    consent_accounts,
    transaction_page,
)
from kosma_tui.core.portal.results import (
    Balances,
    BankData,
    ClientToken,
    ConsentData,
    LinkResult,
    NextPage,
    PortalAccount,
    Rotated,
    Subscription,
    TransactionPage,
)
from kosma_tui.core.portal.transport import (
    CALL_DEADLINE,
    MAX_ANSWER_BYTES,
    AnswerTooLarge,
    PortalTransport,
    tls_failure,
)
from kosma_tui.core.reader import Reader
from kosma_tui.core.replay import PendingCall, ReplayJournal, new_request_id, token_base
from kosma_tui.core.retry import REAL_CLOCK, Clock, RetryPolicy

log = logging.getLogger("kosma_tui.core.portal")

T = TypeVar("T")

MAX_PAGE_SIZE = 1000
# One call with its retries and their waits: no retry starts that would end later.
CALL_BUDGET = 180.0


class PortalClient:
    """``async with PortalClient(url, customer_id, token, ip_address=...) as portal: ...``

    ``ip_address=None`` marks the calls unattended (the daily job): the portal
    then allows only 4 reads per account, data type and day.
    """

    def __init__(
        self,
        admin_url: str,
        customer_id: str,
        api_token: str,
        *,
        use_test_environment: bool = False,
        ip_address: str | None,
        user_agent: str = f"kosma-tui/{__version__}",
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 60.0,
        deadline: float = CALL_DEADLINE,
        budget: float = CALL_BUDGET,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        embedded: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        journal: ReplayJournal | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.admin_url = check_admin_url(admin_url)
        self.customer_id = customer_id
        self.use_test_environment = use_test_environment
        self.ip_address = ip_address
        self.user_agent = user_agent
        self.embedded = embedded  # the built-in Demo Bank portal: its 5xx are not retried
        # consent calls are written down here before they are sent (PROTOCOL's replay)
        self.journal = journal
        self.retry = RetryPolicy(
            retries=max(0, retries),
            backoff=backoff,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            budget=budget,
            clock=clock or REAL_CLOCK,
        )
        # One client for the whole session: keep-alive matters when paging 100 pages.
        self.transport = PortalTransport(
            self.admin_url,
            api_token,
            user_agent=user_agent,
            timeout=timeout,
            connect_timeout=connect_timeout,
            deadline=deadline,
            max_answer_bytes=max_answer_bytes,
            transport=transport,
        )

    async def __aenter__(self) -> PortalClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    # ------------------------------------------------------------ one call, retried

    def _body(self, fields: dict[str, Any]) -> bytes:
        return orjson.dumps(
            {
                "customer_id": self.customer_id,
                "use_test_environment": self.use_test_environment,
                "user_agent": self.user_agent,
                "ip_address": self.ip_address,
                **fields,
            }
        )

    async def _call(
        self,
        method: str,
        fields: Callable[[str | None], dict[str, Any]],
        consent_token: str | None = None,
        *,
        retries: int | None = None,
    ) -> Any:
        """The ``message`` of a successful call; retries transient failures.

        ``fields(token)`` builds the method's fields per attempt, so a retry
        carries the newest consent token and a freshly sealed envelope.
        ``retries`` overrides the client's count (0: the caller decides).
        """
        attempts = self.retry.start(retries)
        token = consent_token
        while True:
            try:
                body = self._body(fields(token))
                response = await self.transport.exchange(method, body)
            except httpx.DecodingError:
                raise PortalProtocolError(f"{method} answered an undecodable body") from None
            except AnswerTooLarge:
                # never retried: the same request would bring the same flood
                flood = PortalProtocolError(
                    f"{method} answered more than {self.transport.max_answer_bytes // 2**20} MB; "
                    "it was not read"
                )
                if token != consent_token:
                    flood.consent_token = token
                raise flood from None
            except (httpx.TransportError, TimeoutError) as exc:
                if tls_failure(exc):
                    raise self._unreachable(
                        "its TLS certificate was not accepted", token, consent_token
                    ) from None
                delay = attempts.next_delay(then=self.transport.deadline)
                if delay is None:
                    raise self._unreachable(
                        self.transport.describe(exc), token, consent_token
                    ) from None
                log.info(
                    "%s: %s, retry %d in %.2f s",
                    method,
                    type(exc).__name__,
                    attempts.attempt + 1,
                    delay,
                )
            else:
                status = response.status_code
                if status == 200:
                    return message_of(response, method)
                error = error_of(
                    response,
                    method,
                    embedded=self.embedded,
                    retry_after=self.retry.retry_after(response.headers.get("Retry-After")),
                )
                if error.consent_token is None and token != consent_token:
                    error.consent_token = token  # a retry's rotated token is the live one
                if not (status == 429 or status >= 500) or (self.embedded and status >= 500):
                    raise error
                delay = attempts.next_delay(error.retry_after, then=self.transport.deadline)
                if delay is None:
                    raise error
                if error.consent_token is not None:
                    token = error.consent_token
                log.info(
                    "%s: HTTP %d %s, retry %d in %.2f s",
                    method,
                    status,
                    error.code,
                    attempts.attempt + 1,
                    delay,
                )
            await attempts.pause(delay)

    @staticmethod
    def _unreachable(detail: str, token: str | None, original: str | None) -> PortalUnreachable:
        error = PortalUnreachable(detail)
        if token != original:
            error.consent_token = token
        return error

    async def _consent_call(
        self,
        method: str,
        consent_id: str,
        consent_token: str,
        extra: dict[str, Any],
        parse: Callable[[Reader], T],
        request_id: str | None = None,
    ) -> Rotated[T]:
        """One consent call; ``request_id`` given replays a call sent before (PROTOCOL v1.1).

        Every token sent gets one ``request_id``: a retry after a lost answer sends the
        same token and id again (the portal answers it once more), a retry with a token
        a failure rotated gets a new id. Each is written to the journal before it leaves.
        """
        base = token_base(consent_token)
        ids: dict[str, str] = {}

        def fields(token: str | None) -> dict[str, Any]:
            assert token is not None
            rid = ids.get(token)
            if rid is None:
                rid = ids[token] = (
                    request_id if request_id and token == consent_token else new_request_id()
                )
                if self.journal is not None:
                    self.journal.write(PendingCall(consent_id, method, rid, token, extra, base))
            return {"consent_id": consent_id, "consent_token": token, "request_id": rid, **extra}

        message = await self._call(method, fields, consent_token)
        body = Reader(message, method)
        token = body.data.get("consent_token")
        if not isinstance(token, str) or not token:
            raise PortalProtocolError(f"{method} answered without a new consent_token")
        try:
            result = parse(body.obj("result"))
        except PortalProtocolError as exc:
            exc.consent_token = token  # the old token is dead: the caller must keep this one
            raise
        return Rotated(result, token)

    async def replay(self, call: PendingCall) -> Rotated[Any]:
        """Send a journalled consent call again, same token and ``request_id``."""
        parse = CONSENT_PARSERS.get(call.method)
        if parse is None:
            raise PortalProtocolError(f"the journal holds an unknown consent call {call.method}")
        return await self._consent_call(
            call.method,
            call.consent_id,
            call.consent_token,
            call.fields,
            parse,
            request_id=call.request_id,
        )

    # ------------------------------------------------------------ methods

    async def fetch_subscription_details(self) -> list[Subscription]:
        message = await self._call("fetch_subscription_details", lambda _: {})
        if not isinstance(message, list):
            raise PortalProtocolError("fetch_subscription_details answered no list")
        subscriptions = []
        for i, item in enumerate(message):
            r = Reader(item, f"subscription[{i}]")
            subscriptions.append(
                Subscription(
                    full_name=r.opt_text("full_name"),
                    subscription_status=r.opt_text("subscription_status"),
                    usage=r.opt_int("usage"),
                    transaction_limit=r.opt_int("transaction_limit"),
                    plan_end_date=r.opt_text("plan_end_date") or None,
                    last_paid_on=r.opt_text("last_paid_on") or None,
                    billing_portal=r.opt_text("billing_portal") or None,
                )
            )
        return subscriptions

    async def get_client_token(
        self, from_date: date, to_date: date, country_code: str | None = None
    ) -> ClientToken:
        fields: dict[str, Any] = {
            "current_flow": "accounts",
            "from_date": from_date.isoformat(),
            "to_date": to_date.isoformat(),
            "account": {},
        }
        if country_code:
            fields["country_code"] = country_code
        message = await self._call("get_client_token", lambda _: fields)
        r = Reader(message, "get_client_token")
        session = r.obj("session_data")
        scope = session.obj("consent_scope")
        transactions = scope.obj("transactions")
        flow = r.obj("flow_data")
        lifetime = scope.opt_int("lifetime")
        if lifetime is None:
            raise scope.fail("lifetime", "missing")
        return ClientToken(
            session_id=session.text("session_id"),
            session_id_short=session.opt_text("session_id_short"),
            lifetime=lifetime,
            from_date=transactions.date("from_date"),
            to_date=transactions.date("to_date"),
            client_token=flow.opt_text("client_token"),
            flow_id=flow.text("flow_id"),
            state=flow.opt_text("state"),
        )

    async def get_flow_step(self, session_id: str, flow_id: str) -> Step:
        message = await self._call(
            "get_flow_step", lambda _: {"session_id": session_id, "flow_id": flow_id}
        )
        return parse_step(message)

    async def submit_flow_step(
        self, session_id: str, flow_id: str, step: Step, values: dict[str, str]
    ) -> Step:
        """Submits ``values`` for ``step``'s form, sealed when the step carries a key.

        A submission is not repeated blindly: when its answer is lost (a
        timeout, a broken connection, a 5xx) the portal may have taken it and
        moved on (the login accepted, the OTP form next), and the same form
        sent again would be refused. The current step is read first, and the
        form is sent again only while the flow still stands where it was.
        """
        if step.form is None:
            raise UsageError("This linking step has no form to submit.")
        identifier = step.form.form_identifier
        data = [{"key": key, "value": value} for key, value in values.items()]

        def fields(_: str | None) -> dict[str, Any]:
            body: dict[str, Any] = {
                "session_id": session_id,
                "flow_id": flow_id,
                "form_identifier": identifier,
            }
            if step.key:
                body["envelope"] = seal(step.key, identifier, data)  # fresh key per attempt
            else:
                body["data"] = data
            return body

        # each submission has its own budget (in _call); this loop only counts them
        attempts = self.retry.start(budgeted=False)
        while True:
            try:
                return parse_step(await self._call("submit_flow_step", fields, retries=0))
            except PortalError as exc:
                delay = attempts.next_delay(exc.retry_after) if _answer_lost(exc) else None
                if delay is None:
                    raise
                log.info("submit_flow_step: %s; reading the current step", exc.code)
            current = await self.get_flow_step(session_id, flow_id)
            if not _same_step(current, step):
                return current  # the submission was taken: go on from where the flow is
            await attempts.pause(delay)

    async def fetch_accounts_and_bank(self, session_id: str, flow_id: str) -> LinkResult:
        message = await self._call(
            "fetch_accounts_and_bank", lambda _: {"session_id": session_id, "flow_id": flow_id}
        )
        r = Reader(message, "fetch_accounts_and_bank")
        result = r.obj("result")
        bank = result.obj("bank_data")
        consent = result.obj("consent_data")
        return LinkResult(
            state=r.opt_text("state"),
            session_state=r.opt_text("session_state"),
            bank=BankData(
                bank_name=bank.opt_text("bank_name"),
                bank_code=bank.opt_text("bank_code"),
                country_code=bank.opt_text("country_code"),
                bic=bank.opt_text("bic"),
            ),
            accounts=accounts(result.items("accounts"), "result.accounts"),
            consent=ConsentData(
                consent_id=consent.text("consent_id"),
                consent_token=consent.text("consent_token"),
                consent_start=consent.date("consent_start"),
                consent_expiry=consent.moment("consent_expiry"),
            ),
        )

    async def end_session(self, session_id: str) -> None:
        await self._call("end_session", lambda _: {"session_id": session_id})

    async def fetch_consent_accounts(
        self, consent_id: str, consent_token: str
    ) -> Rotated[list[PortalAccount]]:
        return await self._consent_call(
            "fetch_consent_accounts", consent_id, consent_token, {}, consent_accounts
        )

    async def fetch_consent_balances(
        self, consent_id: str, consent_token: str, account_id: str
    ) -> Rotated[Balances]:
        return await self._consent_call(
            "fetch_consent_balances",
            consent_id,
            consent_token,
            {"account_id": account_id},
            balances,
        )

    async def fetch_consent_transactions(
        self,
        consent_id: str,
        consent_token: str,
        account_id: str,
        start_date: date,
        to_date: date | None = None,
        page_size: int = MAX_PAGE_SIZE,
        page: NextPage | None = None,
    ) -> Rotated[TransactionPage]:
        """One page of transactions; pass the returned ``next`` as ``page`` for the next one."""
        extra: dict[str, Any] = {
            "account_id": account_id,
            "start_date": start_date.isoformat(),
            "preferred_pagination_size": max(1, min(page_size, MAX_PAGE_SIZE)),
        }
        if to_date is not None:
            extra["to_date"] = to_date.isoformat()
        if page is not None:
            extra["url"] = page.url
            extra["offset"] = page.offset
        return await self._consent_call(
            "fetch_consent_transactions", consent_id, consent_token, extra, transaction_page
        )

    async def revoke_consent(self, consent_id: str, consent_token: str) -> None:
        """v1.1: end the consent now; its token dies and no new one is handed out."""
        await self._call(
            "revoke_consent",
            lambda token: {"consent_id": consent_id, "consent_token": token},
            consent_token,
        )


def _answer_lost(error: PortalError) -> bool:
    """A failure after which the portal may or may not have done what was asked."""
    if isinstance(error, PortalUnreachable):
        return True
    status = error.http_status
    return status is not None and (status >= 500 or status == 429)


def _same_step(current: Step, submitted: Step) -> bool:
    """The flow still waits for the very form that was submitted (a fresh key or a new
    error would mean the portal took the submission)."""
    return (
        current.state == submitted.state
        and current.form is not None
        and submitted.form is not None
        and current.form.form_identifier == submitted.form.form_identifier
        and current.key == submitted.key
        and current.error == submitted.error
    )

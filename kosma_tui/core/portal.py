"""The banking portal client: one async method per PROTOCOL call.

Results are dataclasses; every failure is a ``PortalError`` carrying the
user's sentence. Transient failures (connection errors, timeouts, 5xx, 429)
are retried with exponential backoff and full jitter, honouring
``Retry-After``; other 4xx never are.

Every exchange is bounded: a read timeout between bytes, an overall deadline
for the whole answer (a portal trickling one byte every few seconds never
trips the read timeout), and a cap on the answer's size, read as a stream so
an oversize answer is refused without being held in memory. A call with its
retries has a budget too: no retry starts that could end after it.

Consent calls rotate the consent token. A failed consent call may still have
rotated it (the error body then carries the fresh one): a retry uses that
fresh token, and the error finally raised carries the newest token seen, so
the caller can persist it whatever happened. Each consent call carries a
``request_id`` and is written to the replay journal before it is sent, so a
lost answer is asked for again instead of costing the consent (``replay``).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import os
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson

from kosma_tui import __version__
from kosma_tui.core.envelope import seal
from kosma_tui.core.errors import (
    ConfigurationError,
    FieldError,
    PortalError,
    PortalProtocolError,
    PortalUnreachable,
    UsageError,
)
from kosma_tui.core.forms import Step, parse_step
from kosma_tui.core.replay import PendingCall, ReplayJournal, new_request_id, token_base
from kosma_tui.core.validation import is_loopback_host

log = logging.getLogger(__name__)

T = TypeVar("T")

AUTH_HEADER = "Alyf-Banking-Authorization"
METHOD_PREFIX = "/api/method/banking_admin.api."
MAX_PAGE_SIZE = 1000
# A full page of 1000 transactions is about 1 MB; 16 MB leaves room for verbose banks.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# One whole exchange (connect, send, every byte of the answer), per attempt.
CALL_DEADLINE = 60.0
# One call with its retries and their waits: no retry starts that would end later.
CALL_BUDGET = 180.0
# The documented way to trust another certificate bundle (a company's TLS proxy).
CA_FILE_ENV = "KOSMA_TUI_CA_FILE"


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Amount:
    """Integer minor units, unsigned; the direction is the transaction's type."""

    amount: int
    currency: str


@dataclass
class Subscription:
    full_name: str
    subscription_status: str
    usage: int | None
    transaction_limit: int | None
    plan_end_date: str | None
    last_paid_on: str | None
    billing_portal: str | None


@dataclass
class ClientToken:
    session_id: str
    session_id_short: str
    lifetime: int
    from_date: str
    to_date: str
    client_token: str
    flow_id: str
    state: str


@dataclass
class PortalAccount:
    """An Account of the protocol; missing texts are ``""``. ``id`` is valid for one consent."""

    id: str
    alias: str
    iban: str
    account_number: str
    holder_name: str
    bank_code: str
    bic: str
    national_branch_code: str
    bank_name: str
    account_type: str
    transfer_type: str
    balance: Amount | None
    transactions_available: bool
    raw: dict[str, Any] = field(repr=False)


@dataclass
class BankData:
    bank_name: str
    bank_code: str
    country_code: str
    bic: str


@dataclass
class ConsentData:
    consent_id: str
    consent_token: str = field(repr=False)
    consent_start: str = ""
    consent_expiry: str = ""


@dataclass
class LinkResult:
    state: str
    session_state: str
    bank: BankData
    accounts: list[PortalAccount]
    consent: ConsentData


@dataclass
class Balances:
    available: Amount | None
    booked: Amount | None
    date: str


@dataclass(frozen=True)
class NextPage:
    url: str
    offset: Any  # echoed back verbatim, whatever the portal chose (number or text)


@dataclass
class TransactionPage:
    transactions: list[dict[str, Any]]  # the protocol objects, untouched
    next: NextPage | None


@dataclass
class Rotated(Generic[T]):
    """A consent call's result and the new consent token (the old one is dead)."""

    result: T
    consent_token: str = field(repr=False)


# ---------------------------------------------------------------- helpers


def attended_ip() -> str:
    """The address of the person at the keyboard: the SSH client's, else loopback."""
    fields = os.environ.get("SSH_CLIENT", "").split()
    if fields:
        try:
            return str(ipaddress.ip_address(fields[0]))
        except ValueError:
            pass
    return "127.0.0.1"


def check_admin_url(admin_url: str) -> str:
    """The base URL without trailing slash; ConfigurationError unless https (or loopback http)."""
    url = admin_url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # an unbalanced [ or a bad port
        hostname = None
    if not url.isprintable() or hostname is None or parts.scheme not in ("http", "https"):
        raise ConfigurationError(
            "The admin URL in Banking Settings is not a URL.",
            "Set it to the portal's https:// address in Banking Settings.",
        )
    if parts.scheme == "http" and not is_loopback_host(hostname):
        raise ConfigurationError(
            "The admin URL in Banking Settings uses plain http:// for another machine; "
            "bank data would travel unencrypted.",
            "Use the portal's https:// address (http:// is allowed only for this machine).",
        )
    return url


class _Reader:
    """Typed field access on a portal object; every mismatch is a PortalProtocolError."""

    __slots__ = ("data", "where")

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise PortalProtocolError(f"{where} is not an object")
        self.data: dict[str, Any] = data
        self.where = where

    def fail(self, name: str, what: str) -> PortalProtocolError:
        return PortalProtocolError(f"{self.where}.{name} is {what}")

    def text(self, name: str) -> str:
        value = self.data.get(name)
        if not isinstance(value, str) or not value:
            raise self.fail(name, "missing or not a text")
        return value

    def opt_text(self, name: str) -> str:
        value = self.data.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(name, "not a text")
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if type(value) is not int:
            raise self.fail(name, "not a whole number")
        return value

    def date(self, name: str) -> str:
        value = self.text(name)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise self.fail(name, "not a YYYY-MM-DD date") from None
        return value

    def moment(self, name: str) -> str:
        """A date or an ISO 8601 datetime, kept as the portal wrote it."""
        value = self.text(name)
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(name, "not an ISO 8601 date or datetime") from None
        return value

    def obj(self, name: str) -> _Reader:
        return _Reader(self.data.get(name), f"{self.where}.{name}")

    def opt_obj(self, name: str) -> _Reader | None:
        value = self.data.get(name)
        return None if value is None else _Reader(value, f"{self.where}.{name}")

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if not isinstance(value, list):
            raise self.fail(name, "missing or not a list")
        return value


def _amount(reader: _Reader | None) -> Amount | None:
    if reader is None:
        return None
    value = reader.data.get("amount")
    if type(value) is not int:
        raise reader.fail("amount", "not a whole number of minor units")
    return Amount(value, reader.text("currency"))


def parse_account(raw: Any, where: str = "account") -> PortalAccount:
    r = _Reader(raw, where)
    available = True
    capabilities = r.opt_obj("capabilities")
    if capabilities is not None:
        transactions = capabilities.opt_obj("transactions")
        if transactions is not None and "available" in transactions.data:
            flag = transactions.data["available"]
            if not isinstance(flag, bool):
                raise transactions.fail("available", "not true or false")
            available = flag
    return PortalAccount(
        id=r.text("id"),
        alias=r.opt_text("alias"),
        iban=r.opt_text("iban"),
        account_number=r.opt_text("account_number"),
        holder_name=r.opt_text("holder_name"),
        bank_code=r.opt_text("bank_code"),
        bic=r.opt_text("bic"),
        national_branch_code=r.opt_text("national_branch_code"),
        bank_name=r.opt_text("bank_name"),
        account_type=r.opt_text("account_type"),
        transfer_type=r.opt_text("transfer_type"),
        balance=_amount(r.opt_obj("balance")),
        transactions_available=available,
        raw=r.data,
    )


def _accounts(items: list[Any], where: str) -> list[PortalAccount]:
    return [parse_account(item, f"{where}[{i}]") for i, item in enumerate(items)]


def _retry_after(response: _Answer) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), None when absent or bad."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_TRUST: dict[str, ssl.SSLContext] = {}  # by KOSMA_TUI_CA_FILE: loading a bundle takes ~50 ms


def trust_context() -> ssl.SSLContext:
    """The certificates a portal's TLS must chain to: the system's bundle.

    Read from OpenSSL's compiled-in locations, not from ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``, so a variable left over in a shell cannot silently
    replace whom the app trusts. ``KOSMA_TUI_CA_FILE`` (documented) names a
    PEM bundle to trust instead; without a system bundle, certifi's is used.
    """
    chosen = os.environ.get(CA_FILE_ENV, "").strip()
    context = _TRUST.get(chosen)
    if context is None:
        context = _TRUST[chosen] = _load_trust(chosen)
    return context


def _load_trust(chosen: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies hostname and chain
    if chosen:
        try:
            context.load_verify_locations(cafile=chosen)
        except (OSError, ssl.SSLError):
            raise ConfigurationError(
                f"The certificate bundle named by {CA_FILE_ENV} cannot be read.",
                f"Point {CA_FILE_ENV} at a readable PEM file, or unset it.",
            ) from None
        return context
    paths = ssl.get_default_verify_paths()
    cafile = paths.openssl_cafile if os.path.isfile(paths.openssl_cafile) else None
    capath = paths.openssl_capath if os.path.isdir(paths.openssl_capath) else None
    if cafile or capath:
        context.load_verify_locations(cafile=cafile, capath=capath)
    else:
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    return context


@dataclass
class _Answer:
    """One HTTP answer read in full (within the size cap)."""

    status_code: int
    headers: httpx.Headers
    content: bytes


class AnswerTooLarge(Exception):
    """The answer passed the size cap; it was not read further."""


def _describe(exc: httpx.TransportError, timeout: httpx.Timeout) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {timeout.connect:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout.read:g} s"
    if isinstance(exc, httpx.ConnectError):
        return "connection failed"
    return f"connection broken: {type(exc).__name__}"


# ---------------------------------------------------------------- client


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
    ) -> None:
        self.admin_url = check_admin_url(admin_url)
        self.customer_id = customer_id
        self.use_test_environment = use_test_environment
        self.ip_address = ip_address
        self.user_agent = user_agent
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.timeout = httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
        self.deadline = deadline
        self.budget = budget
        self.max_answer_bytes = max_answer_bytes
        # the built-in Demo Bank portal: its 5xx are its own (a full disk, a read-only
        # data folder), said as such and not retried
        self.embedded = embedded
        # consent calls are written down here before they are sent (PROTOCOL's replay)
        self.journal = journal
        # One client for the whole session: keep-alive matters when paging 100 pages.
        self._endpoint = self.admin_url + METHOD_PREFIX
        self._http = httpx.AsyncClient(
            headers={
                AUTH_HEADER: f"Token {api_token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": user_agent,
            },
            timeout=self.timeout,
            verify=trust_context() if transport is None else True,
            follow_redirects=False,
            transport=transport,
        )

    async def __aenter__(self) -> PortalClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------ transport

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

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))

    async def _exchange(self, method: str, body: bytes) -> _Answer:
        """One POST, bounded by the deadline and the size cap (TimeoutError, AnswerTooLarge)."""
        async with asyncio.timeout(self.deadline):
            async with self._http.stream(
                "POST", self._endpoint + method, content=body
            ) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_answer_bytes:
                    raise AnswerTooLarge
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():  # decoded: a gzip bomb counts too
                    size += len(chunk)
                    if size > self.max_answer_bytes:
                        raise AnswerTooLarge
                    chunks.append(chunk)
                return _Answer(response.status_code, response.headers, b"".join(chunks))

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
        limit = self.retries if retries is None else retries
        give_up = time.monotonic() + self.budget
        token = consent_token
        attempt = 0
        while True:
            try:
                body = self._body(fields(token))
                response = await self._exchange(method, body)
            except httpx.DecodingError:
                raise PortalProtocolError(f"{method} answered an undecodable body") from None
            except AnswerTooLarge:
                # never retried: the same request would bring the same flood
                error = PortalProtocolError(
                    f"{method} answered more than {self.max_answer_bytes // 2**20} MB; "
                    "it was not read"
                )
                if token != consent_token:
                    error.consent_token = token
                raise error from None
            except (httpx.TransportError, TimeoutError) as exc:
                if _tls_failure(exc):
                    raise self._unreachable(
                        "its TLS certificate was not accepted", token, consent_token
                    ) from None
                if isinstance(exc, TimeoutError):
                    detail = f"no complete answer within {self.deadline:g} s"
                else:
                    detail = _describe(exc, self.timeout)
                delay = self._delay(attempt, None)
                if attempt >= limit or time.monotonic() + delay + self.deadline > give_up:
                    raise self._unreachable(detail, token, consent_token) from None
                log.info(
                    "%s: %s, retry %d in %.2f s", method, type(exc).__name__, attempt + 1, delay
                )
            else:
                status = response.status_code
                if status == 200:
                    return self._message(response, method)
                error = self._error(response, method)
                if error.consent_token is None and token != consent_token:
                    error.consent_token = token  # a retry's rotated token is the live one
                delay = self._delay(attempt, error.retry_after)
                if not (status == 429 or status >= 500) or attempt >= limit or (
                        self.embedded and status >= 500) or (
                        time.monotonic() + delay + self.deadline > give_up):
                    raise error
                if error.consent_token is not None:
                    token = error.consent_token
                log.info(
                    "%s: HTTP %d %s, retry %d in %.2f s",
                    method,
                    status,
                    error.code,
                    attempt + 1,
                    delay,
                )
            attempt += 1
            await asyncio.sleep(delay)

    @staticmethod
    def _unreachable(detail: str, token: str | None, original: str | None) -> PortalUnreachable:
        error = PortalUnreachable(detail)
        if token != original:
            error.consent_token = token
        return error

    @staticmethod
    def _load(response: _Answer) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return _NOT_JSON

    def _message(self, response: _Answer, method: str) -> Any:
        body = self._load(response)
        if not isinstance(body, dict) or "message" not in body:
            raise PortalProtocolError(f"{method} answered without a JSON message")
        return body["message"]

    def _error(self, response: _Answer, method: str) -> PortalError:
        status = response.status_code
        body = self._load(response)
        message = body.get("message") if isinstance(body, dict) else None
        raw = message.get("error") if isinstance(message, dict) else None
        token = message.get("consent_token") if isinstance(message, dict) else None
        if not isinstance(token, str) or not token:
            token = None
        if not isinstance(raw, dict) or not isinstance(raw.get("code"), str) or not raw["code"]:
            what = "a redirect" if 300 <= status < 400 else "no portal error"
            error: PortalError = PortalProtocolError(f"{method} answered HTTP {status} with {what}")
            error.http_status = status
            error.consent_token = token
            error.retry_after = _retry_after(response)
            return error
        portal_message = raw.get("message")
        if not isinstance(portal_message, str):
            portal_message = ""
        if self.embedded and status >= 500 and portal_message:
            return PortalError(
                raw["code"],
                f"The built-in Demo Bank portal failed on its own side: {portal_message}",
                "Check the free disk space and the permissions of the data folder "
                "(its state lives there), then try again.",
                http_status=status, portal_message=portal_message,
            )
        return PortalError(
            raw["code"],
            http_status=status,
            portal_message=portal_message,
            errors=_field_errors(raw.get("errors")),
            consent_token=token,
            retry_after=_retry_after(response),
        )

    async def _consent_call(
        self,
        method: str,
        consent_id: str,
        consent_token: str,
        extra: dict[str, Any],
        parse: Callable[[_Reader], T],
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
                rid = ids[token] = (request_id if request_id and token == consent_token
                                    else new_request_id())
                if self.journal is not None:
                    self.journal.write(PendingCall(consent_id, method, rid, token, extra, base))
            return {"consent_id": consent_id, "consent_token": token, "request_id": rid,
                    **extra}

        message = await self._call(method, fields, consent_token)
        body = _Reader(message, method)
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
        parse = _PARSERS.get(call.method)
        if parse is None:
            raise PortalProtocolError(f"the journal holds an unknown consent call {call.method}")
        return await self._consent_call(call.method, call.consent_id, call.consent_token,
                                        call.fields, parse, request_id=call.request_id)

    # ------------------------------------------------------------ methods

    async def fetch_subscription_details(self) -> list[Subscription]:
        message = await self._call("fetch_subscription_details", lambda _: {})
        if not isinstance(message, list):
            raise PortalProtocolError("fetch_subscription_details answered no list")
        subscriptions = []
        for i, item in enumerate(message):
            r = _Reader(item, f"subscription[{i}]")
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
        r = _Reader(message, "get_client_token")
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

        attempt = 0
        while True:
            try:
                return parse_step(await self._call("submit_flow_step", fields, retries=0))
            except PortalError as exc:
                if not _answer_lost(exc) or attempt >= self.retries:
                    raise
                log.info("submit_flow_step: %s; reading the current step", exc.code)
                retry_after = exc.retry_after
            current = await self.get_flow_step(session_id, flow_id)
            if not _same_step(current, step):
                return current  # the submission was taken: go on from where the flow is
            await asyncio.sleep(self._delay(attempt, retry_after))
            attempt += 1

    async def fetch_accounts_and_bank(self, session_id: str, flow_id: str) -> LinkResult:
        message = await self._call(
            "fetch_accounts_and_bank", lambda _: {"session_id": session_id, "flow_id": flow_id}
        )
        r = _Reader(message, "fetch_accounts_and_bank")
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
            accounts=_accounts(result.items("accounts"), "result.accounts"),
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
            "fetch_consent_accounts", consent_id, consent_token, {}, _consent_accounts
        )

    async def fetch_consent_balances(
        self, consent_id: str, consent_token: str, account_id: str
    ) -> Rotated[Balances]:
        return await self._consent_call(
            "fetch_consent_balances", consent_id, consent_token, {"account_id": account_id},
            _balances,
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
            "fetch_consent_transactions", consent_id, consent_token, extra, _transaction_page
        )

    async def revoke_consent(self, consent_id: str, consent_token: str) -> None:
        """v1.1: end the consent now; its token dies and no new one is handed out."""
        await self._call(
            "revoke_consent",
            lambda token: {"consent_id": consent_id, "consent_token": token},
            consent_token,
        )


_NOT_JSON = object()


def _consent_accounts(result: _Reader) -> list[PortalAccount]:
    return _accounts(result.items("accounts"), "result.accounts")


def _balances(result: _Reader) -> Balances:
    return Balances(
        available=_amount(result.opt_obj("available")),
        booked=_amount(result.opt_obj("booked")),
        date=result.opt_text("date"),
    )


def _transaction_page(result: _Reader) -> TransactionPage:
    transactions = result.items("transactions")
    for i, item in enumerate(transactions):
        if type(item) is not dict:
            raise PortalProtocolError(f"result.transactions[{i}] is not an object")
    pagination = result.opt_obj("pagination")
    if pagination is None:
        return TransactionPage(transactions, None)
    offset = pagination.obj("next").data.get("offset")
    if offset is None or isinstance(offset, bool) or not isinstance(offset, int | str):
        raise pagination.fail("next.offset", "missing or not a number or text")
    return TransactionPage(transactions, NextPage(pagination.text("url"), offset))


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


_PARSERS: dict[str, Callable[[_Reader], Any]] = {
    "fetch_consent_accounts": _consent_accounts,
    "fetch_consent_balances": _balances,
    "fetch_consent_transactions": _transaction_page,
}


def _field_errors(raw: Any) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    errors = []
    for item in raw:
        if isinstance(item, dict):
            location, message = item.get("location"), item.get("message")
            errors.append(
                FieldError(
                    location if isinstance(location, str) else "",
                    message if isinstance(message, str) else "",
                )
            )
    return errors

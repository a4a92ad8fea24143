"""Link Bank and Accounts (DESIGN 2): the portal's linking flow as a state machine.

A caller (the TUI's Link wizard or ``kosma-tui link``) renders each Step's
form with the shared form model and hands the values back::

    start = resolve_start_date(store, company, text)
    flow = LinkFlow(store, client, company, start)
    step = await flow.start()
    while step.state != FINISHED:
        if step.state == CONSUMER_INPUT_NEEDED:   # step.error set: say it, ask again
            step = await flow.submit(values)
        else:                                     # PROCESSING: a decoupled approval
            step = await flow.poll()
    result = await flow.fetch_result()            # also ends the portal session
    summary = flow.save(result, chosen_ids)

A terminal step (ABORTED / EXCEPTION) or any portal failure ends the portal
session and raises the typed ``PortalError``. A session left ``Running`` by a
run that died is ended by the next ``start`` (a session whose run is still
alive holds a lock file and is left alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kosma_tui.core import clock, validation
from kosma_tui.core.errors import KosmaError, PortalError, PortalUnreachable, UsageError
from kosma_tui.core.forms import (
    ABORTED,
    CONSUMER_INPUT_NEEDED,
    EXCEPTION,
    FINISHED,
    PROCESSING,
    ChoiceElement,
    InputElement,
    Step,
)
from kosma_tui.core.paths import make_private_dir
from kosma_tui.core.records import Bank, BankAccount, BankConsent, Company, LinkSession

if TYPE_CHECKING:
    from kosma_tui.core.portal import BankData, LinkResult, PortalAccount, PortalClient
    from kosma_tui.core.store import Store

try:  # the liveness lock of a running flow; without fcntl every Running session is abandoned
    import fcntl
except ImportError:  # pragma: no cover - not on the platforms kosma-tui runs on
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

DEFAULT_POLL_MS = 1000
CANCEL_TIMEOUT = 15.0  # seconds an end_session may take before a cancel gives up on it

LIMIT_WARNING = (
    "Transactions from {start} to {end} will be read, and they count against the "
    "transaction limit of the current billing period."
)


# ---------------------------------------------------------------- start date


@dataclass
class StartDate:
    """The Start Date of a link after its rules (DESIGN 2)."""

    date: date
    warning: str | None = None  # set when before today: older transactions cost plan limit


def company_or_error(store: Store, name: str) -> Company:
    company = store.company(name)
    if company is None:
        raise UsageError(
            f"There is no company named '{name}'.",
            "'kosma-tui company list' shows them; 'kosma-tui company add' adds one.",
        )
    return company


def fiscal_year_start(company: Company, today: date) -> date:
    """The first day of the company's fiscal year that contains ``today``."""
    month, day = (int(part) for part in company.fiscal_year_start.split("-"))
    start = date(today.year, month, day)
    return start if start <= today else date(today.year - 1, month, day)


def resolve_start_date(store: Store, company: str, text: str | None) -> StartDate:
    """The Start Date typed as ``text``: empty means the company's current fiscal year start.

    A future date, an invalid one or an unknown company is a ``UsageError``.
    """
    record = company_or_error(store, company)
    today = clock.today()
    value = (text or "").strip()
    if not value:
        chosen = fiscal_year_start(record, today)
    elif value.casefold() == "today":
        chosen = today
    else:
        chosen = validation.iso_date(value, "Start Date")
    if chosen > today:
        raise UsageError(
            f"The Start Date {chosen.isoformat()} is in the future.",
            "Choose today or an earlier date.",
        )
    warning = None
    if chosen < today:
        warning = LIMIT_WARNING.format(
            start=chosen.isoformat(), end=(today - timedelta(days=1)).isoformat()
        )
    return StartDate(chosen, warning)


def oldest_integration_date(store: Store, company: str, bank: str) -> date | None:
    """Where the stored history of this bank's accounts of this company ends (no gap).

    The oldest Last Integration Date; when none was synced yet but a consent
    exists, its consent start (sync would have started there).
    """
    dates = [
        a.last_integration_date
        for a in store.accounts(bank=bank, company=company)
        if a.last_integration_date
    ]
    if dates:
        return date.fromisoformat(min(dates))
    consent = store.consent(BankConsent.name_for(bank, company))
    if consent is not None and consent.consent_start:
        return date.fromisoformat(consent.consent_start)
    return None


def default_start_text(store: Store, company: str, bank: str | None = None) -> str:
    """Today, or for a renewal of ``bank`` the oldest Last Integration Date (no gap)."""
    today = clock.today()
    if bank:
        oldest = oldest_integration_date(store, company, bank)
        if oldest is not None:
            return min(oldest, today).isoformat()
    return today.isoformat()


def renewal_note(store: Store, company: str, bank: str, chosen: date) -> str | None:
    """A sentence when ``chosen`` lies after the oldest Last Integration Date (a gap)."""
    oldest = oldest_integration_date(store, company, bank)
    if oldest is None or chosen <= oldest:
        return None
    return (
        f"The accounts of {bank} for {company} are synced up to {oldest.isoformat()}; with "
        f"the Start Date {chosen.isoformat()} the transactions in between can never be "
        f"synced; the gap will be recorded in the accounts' coverage. Choose "
        f"{oldest.isoformat()} to leave no gap."
    )


# ---------------------------------------------------------------- failures


class LinkCancelled(KosmaError):
    """The admin cancelled linking; the portal session was ended."""

    code = "CANCELLED"

    def __init__(self) -> None:
        super().__init__(
            "Linking was cancelled; the portal session was ended and nothing was saved.",
            "Run Link Bank and Accounts again when you are ready.",
        )


def failure(step: Step) -> PortalError | None:
    """The typed error of a terminal step (ABORTED / EXCEPTION); None otherwise."""
    if step.state not in (ABORTED, EXCEPTION):
        return None
    default = "USER.ABORTED" if step.state == ABORTED else "TECHNICAL"
    code = step.error_code or default
    return PortalError(code, portal_message=step.error_message or "")


# ---------------------------------------------------------------- saving


@dataclass
class LinkSummary:
    bank: Bank
    added: list[BankAccount]
    updated: list[BankAccount]
    consent: BankConsent
    days_left: int
    bank_created: bool = False
    start: date | None = None  # the Start Date the consent was asked for
    warnings: list[str] = field(default_factory=list)  # sentences to show with the summary
    # stored accounts of this bank and company the new consent does not cover
    not_covered: list[BankAccount] = field(default_factory=list)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    """Bank text fit for a record name: no control characters, single spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _compact(iban: str) -> str:
    return "".join(iban.split()).upper()


def bank_record_name(bank: BankData) -> str:
    """The name of the Bank record for the portal's bank data."""
    return _clean(bank.bank_name) or _clean(bank.bic) or "Bank"


def account_name(account: PortalAccount, tag: str = "") -> str:
    """``alias (holder)`` as in ERPNext; ``tag`` (set apart the same alias at another
    bank or company) goes right after the alias, where a column cut to width still shows it."""
    alias = _clean(account.alias) or _clean(account.account_type).title() or "Account"
    if tag:
        alias = f"{alias} {tag}"
    holder = _clean(account.holder_name)
    return f"{alias} ({holder})" if holder else alias


def _unique_name(account: PortalAccount, taken: set[str]) -> str:
    """The account's name; a taken one gets the end of its IBAN (what an admin tells
    accounts apart by), then a number."""
    base = account_name(account)
    if base not in taken:
        return base
    number = _clean(account.iban or account.account_number).replace(" ", "")
    if len(number) >= 4:
        tagged = account_name(account, f"…{number[-4:]}")
        if tagged not in taken:
            return tagged
    counter = 2
    while account_name(account, str(counter)) in taken:
        counter += 1
    return account_name(account, str(counter))


def _same_account(stored: BankAccount, account: PortalAccount) -> bool:
    if account.iban:
        return bool(stored.iban) and _compact(stored.iban) == _compact(account.iban)
    return bool(account.account_number) and stored.bank_account_no == account.account_number


def _account_fields(account: PortalAccount, bank: str, currency: str) -> dict[str, Any]:
    return {
        "bank": bank,
        "iban": _compact(account.iban),
        "bank_account_no": account.account_number,
        "branch_code": account.national_branch_code,
        "kosma_account_id": account.id,
        "currency": account.balance.currency if account.balance else currency,
        "account_type": account.account_type,
    }


def save_link(
    store: Store,
    company: str,
    result: LinkResult,
    account_ids: list[str] | None = None,
    *,
    session_id: str = "",
) -> LinkSummary:
    """Bank (once), Bank Accounts (matched by IBAN) and the Bank Consent of a FINISHED link.

    ``account_ids``: the returned accounts to add (None: all). Accounts already
    stored for this company are always brought up to date, chosen or not: the
    new consent replaces the old one, so their old ``kosma_account_id`` is dead.
    """
    record = company_or_error(store, company)
    bank_name = bank_record_name(result.bank)
    if not result.consent.consent_expiry:
        raise PortalError("PROTOCOL", "The banking portal sent no consent expiry.")
    chosen = None if account_ids is None else set(account_ids)
    known_ids = {a.id for a in result.accounts}
    if chosen is not None and not chosen <= known_ids:
        raise UsageError("Choose accounts among the ones the bank returned.")
    with store.locked():
        bank = store.bank(bank_name)
        created = bank is None
        if bank is None:
            bank = Bank(
                name=bank_name,
                swift_number=result.bank.bic,
                bank_code=result.bank.bank_code,
                country_code=result.bank.country_code,
            )
            store.save_bank(bank)
        stored = store.accounts(company=company)
        taken = {a.name for a in store.accounts()}
        added: list[BankAccount] = []
        updated: list[BankAccount] = []
        for account in result.accounts:
            fields = _account_fields(account, bank.name, record.default_currency)
            match = next((a for a in stored if _same_account(a, account)), None)
            if match is not None:
                for key, value in fields.items():
                    if value or key == "kosma_account_id":
                        setattr(match, key, value)
                store.save_account(match)
                updated.append(match)
            elif chosen is None or account.id in chosen:
                new = BankAccount(
                    name=_unique_name(account, taken),
                    company=company,
                    last_integration_date="",  # the first sync starts at the consent start
                    **fields,
                )
                taken.add(new.name)
                store.save_account(new)
                added.append(store.account(new.name) or new)
        seen = {a.name for a in updated}
        not_covered = [a for a in stored if a.bank == bank.name and a.name not in seen]
        consent = BankConsent(
            name=BankConsent.name_for(bank.name, company),
            bank=bank.name,
            company=company,
            consent_id=result.consent.consent_id,
            consent_start=result.consent.consent_start,
            consent_expiry=result.consent.consent_expiry,
            consent_token=result.consent.consent_token,
            session_id=session_id,
        )
        store.save_consent(consent)
    expiry = datetime.fromisoformat(consent.consent_expiry)
    warnings = []
    if not_covered:
        listed = ", ".join(a.name for a in not_covered)
        warnings.append(
            f"The bank did not return {listed} in this login, and the new Bank Consent "
            f"replaces the old one, so they cannot be synced until a login that returns "
            f"them links {bank.name} again."
        )
    return LinkSummary(
        bank=bank,
        added=added,
        updated=updated,
        consent=consent,
        days_left=clock.days_left(expiry),
        bank_created=created,
        start=date.fromisoformat(consent.consent_start) if consent.consent_start else None,
        warnings=warnings,
        not_covered=not_covered,
    )


# ---------------------------------------------------------------- sessions


def _lock_path(store: Store, session_id: str) -> Path:
    digest = hashlib.sha256(session_id.encode()).hexdigest()[:24]
    return store.paths.data_dir / "link-sessions" / f"{digest}.lock"


class _Liveness:
    """An exclusive lock held while a flow runs: its absence marks a session abandoned."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None:
            return
        try:
            make_private_dir(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            log.warning("no liveness lock for a link session: %s", exc)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return
        self.fd = fd

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self.fd)
        self.fd = None


def _session_alive(store: Store, session: LinkSession) -> bool:
    """Whether the run that started ``session`` still holds its lock (in any process)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(_lock_path(store, session.session_id), os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the lock we may just have taken
    return False


async def _end_session(client: PortalClient, session_id: str) -> bool:
    """end_session; True when the portal session is gone (or the portal refuses for good)."""
    try:
        async with asyncio.timeout(CANCEL_TIMEOUT):
            await client.end_session(session_id)
    except TimeoutError:
        log.warning("end_session timed out")
        return False
    except PortalUnreachable as exc:
        log.warning("end_session: %s", exc.message)
        return False
    except PortalError as exc:
        transient = exc.http_status is not None and (exc.http_status >= 500
                                                     or exc.http_status == 429)
        log.warning("end_session refused: %s", exc.code)
        return not transient
    return True


def _mark_closed(store: Store, session: LinkSession) -> None:
    session.status = "Closed"
    try:
        store.save_link_session(session)
    except KosmaError as exc:
        log.warning("could not mark a link session closed: %s", exc.message)


async def end_abandoned_sessions(store: Store, client: PortalClient) -> int:
    """End the portal sessions of Link Sessions left Running by runs that died; how many."""
    ended = 0
    for session in store.link_sessions(status="Running"):
        if _session_alive(store, session):
            continue
        if await _end_session(client, session.session_id):
            _mark_closed(store, session)
            ended += 1
    return ended


# ---------------------------------------------------------------- the flow


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
        self._liveness: _Liveness | None = None

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
        self._liveness = _Liveness(_lock_path(self.store, token.session_id))
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
            self.client.submit_flow_step(self.session.session_id, self.session.flow_id, step,
                                         checked)
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
        summary = save_link(self.store, self.company, result, account_ids,
                            session_id=self.session_id)
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
                if await _end_session(self.client, self.session.session_id):
                    _mark_closed(self.store, self.session)
                # else: left Running, so the next start ends it
        except Exception:  # cancel never raises: the session is then ended on the next start
            log.exception("ending a link session failed")
        finally:
            if self._liveness is not None:
                self._liveness.release()

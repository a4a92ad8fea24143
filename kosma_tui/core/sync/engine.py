"""The sync engine: one account, or every account of every consent (the daily job).

Crash safety comes from the order of writes, not from transactions:

1. every rotated consent token is on disk before its response is used: in
   the replay journal entry of the next call, written before that call is
   sent, and in the store when the sync ends (``custody``); a call cut by a
   crash or a lost answer is replayed first by the next sync (PROTOCOL
   v1.1); only one sync at a time uses a consent's token (``lock``);
2. rows are appended in batches (every ``flush_rows`` and at the end), and a
   row already stored is recognised by its ``transaction_id``;
3. the Last Integration Date advances only after the rows are on disk.

A sync killed therefore leaves a Last Integration Date no later than the
last day whose rows are on disk (it moves at every flush to the last day
read whole), and the next run reads on from there and stores only what is
missing. Its consent survives a kill at any moment, a call in flight
included. Calls are strictly sequential: no request is ever in flight while
rows are mapped or written.

The Last Integration Date follows booking dates (a value date may lie before
its booking date, even before the consent start) and never falls before the
consent start. A portal whose pages do not come to an end is stopped by
``paging.PageGuard``; every call is bounded by the client's deadlines.

Transactions the bank reports as CANCELED or FAILED the first time we see
them are not stored: they never moved money, and storing them would hand
ERPNext a reconciliation line with nothing to match. A stored Pending (or
Settled) transaction that arrives CANCELED or FAILED becomes Cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import kosma_tui.core.sync.balance_check as balance_check
import kosma_tui.core.sync.coverage as coverage
from kosma_tui.core import clock, messages
from kosma_tui.core.errors import (
    KosmaError,
    PortalError,
    PortalProtocolError,
    PortalUnreachable,
    Problem,
    StoreError,
    UsageError,
)
from kosma_tui.core.identifiers import same_account
from kosma_tui.core.records import Balance, BankAccount, BankConsent, LastSync, SyncRun
from kosma_tui.core.sync.custody import TokenCustody
from kosma_tui.core.sync.dedup import KnownIds
from kosma_tui.core.sync.hooks import AfterSync, RowMatcher, StandardHooks
from kosma_tui.core.sync.lock import consent_lock
from kosma_tui.core.sync.paging import PageGuard
from kosma_tui.core.sync.result import (
    SyncCancelled,
    SyncProgress,
    SyncResult,
    page_fraction,
    read_through,
    stop_note,
)
from kosma_tui.core.sync.rows import STATUS_BY_STATE, TRANSITIONS, booked_on, to_row
from kosma_tui.core.sync.rules import (
    consent_of,
    consent_refusal,
    refusal,
    start_date,
)

if TYPE_CHECKING:
    from kosma_tui.core.portal import PortalClient
    from kosma_tui.core.store import Store

log = logging.getLogger("kosma_tui.sync")

T = TypeVar("T")

# The portal's largest page; fewer round trips and token rotations.
PAGE_SIZE = 1000
# Rows buffered before they are written: big enough that 100,000 rows are a
# handful of appends, small enough to bound memory and the re-read after a kill.
FLUSH_ROWS = 10_000
# Refreshing accounts falls back to the stored ones on these (DESIGN 2).
FALLBACK_CODES = ("CONSENT.LIMIT_EXCEEDED", "RATE_LIMITED")


@dataclass
class _Batch:
    """What one sync has read but not yet written."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    fresh: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> buffered row
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> fields
    settled_delta: int = 0  # what ``changes`` move the settled total by

    def __len__(self) -> int:
        return len(self.rows) + len(self.changes)


class SyncEngine:
    """Sync Bank Accounts through one PortalClient (attended or not).

    ``hooks`` run after the rows are read (party matching) and after a successful
    sync (the ERPNext push); the standard ones unless given. ``attended`` is recorded
    on the Sync Runs; by default what the client says (an ``ip_address`` is sent only
    when a person is at the keyboard).
    """

    def __init__(
        self,
        store: Store,
        client: PortalClient,
        *,
        hooks: AfterSync | None = None,
        attended: bool | None = None,
        on_progress: Callable[[SyncProgress], None] | None = None,
        page_size: int = PAGE_SIZE,
        flush_rows: int = FLUSH_ROWS,
        dry_run: bool = False,
    ) -> None:
        self.store = store
        self.client = client
        self.hooks: AfterSync = hooks if hooks is not None else StandardHooks()
        self.on_progress = on_progress
        self.unattended = not (client.ip_address is not None if attended is None else attended)
        self.page_size = page_size
        self.flush_rows = flush_rows
        # read and count like a sync, store nothing but the rotated tokens (sync --dry-run)
        self.dry_run = dry_run
        self.custody = TokenCustody(store, client.journal)
        # rows a replayed page stored, per account: pushed with that account's sync
        self._replayed: dict[str, list[str]] = {}

    # -- public API -------------------------------------------------------

    async def sync_account(
        self, name: str, cancel: asyncio.Event | None = None, *, push: bool = True
    ) -> SyncResult:
        """Sync one account; refusals and failures come back as the result, recorded."""
        account = self.store.account(name)
        if account is None:
            raise messages.no_bank_account(name, [a.name for a in self.store.accounts()])
        started = clock.now()
        refused = refusal(self.store, account)
        if refused is not None:
            result = SyncResult(name, "refused", error=Problem.from_error(refused))
        else:
            result = SyncResult(name, "ok")
            try:
                await self._sync(account, result, cancel)
            except KosmaError as exc:
                result.status, result.error = "failed", Problem.from_error(exc)
            except Exception as exc:  # never let one account take down the daily job
                log.exception("sync of %s failed unexpectedly", name)
                result.status, result.error = "failed", _unexpected(exc)
            if result.error is not None and result.read_through:
                result.stopped = stop_note(result.last_integration_date, result.error.code)
        if not self.dry_run:
            self._record(result, started)
        log.info(
            "sync %s: %s fetched=%d new=%d updated=%d skipped=%d%s",
            name,
            result.status,
            result.fetched,
            result.new,
            result.updated,
            result.skipped,
            f" error={result.error.code}" if result.error else "",
        )
        if push and result.ok and not self.dry_run:
            await self.push_after([result])
        return result

    async def refresh_accounts(self, consent_name: str) -> list[BankAccount]:
        """Refresh ``kosma_account_id`` of the consent's stored accounts (matched by IBAN)."""
        async with consent_lock(self.store, consent_name):
            consent = self.store.consent(consent_name)  # the token, read under the lock
            if consent is None:
                raise messages.no_bank_consent(consent_name)
            consent = await self.recover(consent)
            self.custody.begin(consent)
            try:
                rotated = await self._call(
                    consent,
                    self.client.fetch_consent_accounts(consent.consent_id, consent.consent_token),
                )
            finally:
                self.custody.settle(consent)
            fresh = list(rotated.result)
            with self.store.locked():
                for account in self.store.accounts(bank=consent.bank, company=consent.company):
                    match = _match(account, fresh)
                    if match is not None and match.id and match.id != account.kosma_account_id:
                        self.store.update_account(account.name, kosma_account_id=match.id)
        return self.store.accounts(bank=consent.bank, company=consent.company)

    async def sync_all(self, cancel: asyncio.Event | None = None) -> list[SyncResult]:
        """The daily job: per consent refresh its accounts, then sync each; fully isolated."""
        results: list[SyncResult] = []
        consents = {c.name: c for c in self.store.consents()}
        grouped: dict[str, list[BankAccount]] = {}
        orphans: list[BankAccount] = []
        for account in self.store.accounts():
            if not account.enabled:  # switched off by the admin (DESIGN 8)
                continue
            key = BankConsent.name_for(account.bank, account.company)
            (grouped.setdefault(key, []) if key in consents else orphans).append(account)
        for consent_name in sorted(grouped):
            if cancel is not None and cancel.is_set():
                break
            failure = await self._refresh_for_job(consents[consent_name])
            for account in grouped[consent_name]:
                if cancel is not None and cancel.is_set():
                    break
                if failure is not None:
                    started = clock.now()
                    result = SyncResult(account.name, "failed", error=failure)
                    if not self.dry_run:
                        self._record(result, started)
                else:
                    result = await self._isolated(account.name, cancel)
                results.append(result)
        for account in orphans:  # refused with "no consent", recorded like the others
            results.append(await self._isolated(account.name, cancel))
        if not self.dry_run:
            await self.push_after(results)
        return results

    async def push_after(self, results: list[SyncResult]) -> Problem | None:
        """One ERPNext push for the accounts that synced well, handed the ids each
        stored; its problem goes on each of them. Its errors never fail the sync."""
        synced = [r for r in results if r.ok]
        if not synced or self.dry_run:
            return None
        stored: dict[str, list[str] | None] = {}
        for r in synced:
            replayed = self._replayed.pop(r.name, [])  # handed over either way
            stored[r.name] = None if r.stored_ids is None else [*replayed, *r.stored_ids]
        try:
            problem = await self.hooks.push(self.store, stored)
        except KosmaError as exc:
            log.info("ERPNext auto-push failed: %s %s", exc.code, exc.message)
            problem = Problem.from_error(exc)
        except Exception as exc:
            log.exception("ERPNext auto-push failed unexpectedly")
            problem = _unexpected(exc)
        for r in synced:
            r.push_error = problem
        return problem

    # -- one account ------------------------------------------------------

    async def _sync(
        self, account: BankAccount, result: SyncResult, cancel: asyncio.Event | None
    ) -> None:
        async with consent_lock(self.store, BankConsent.name_for(account.bank, account.company)):
            await self._sync_locked(account, result, cancel)

    async def _sync_locked(
        self, account: BankAccount, result: SyncResult, cancel: asyncio.Event | None
    ) -> None:
        consent = consent_of(self.store, account)  # the token, read under the lock
        if consent is None:  # removed since refusal() looked
            raise UsageError(f"'{account.name}' no longer has a Bank Consent.")
        consent = await self.recover(consent)
        self.custody.begin(consent)
        try:
            await self._read(consent, account, result, cancel)
        finally:
            self.custody.settle(consent)  # the live token to the store, unless in doubt

    async def _read(
        self,
        consent: BankConsent,
        account: BankAccount,
        result: SyncResult,
        cancel: asyncio.Event | None,
    ) -> None:
        account = self.store.account(account.name) or account  # and the freshest LID
        _check_history(self.store, account, consent)
        settings = self.store.settings()
        start = start_date(
            consent.consent_start, account.last_integration_date, settings.lookback_days
        )
        name = account.name
        token = consent.consent_token

        self._progress(SyncProgress(name, "balances"))
        balances = await self._call(
            consent,
            self.client.fetch_consent_balances(consent.consent_id, token, account.kosma_account_id),
        )
        token = balances.consent_token
        balance = _balance(balances.result, account.currency)

        book = self.store.book(account)
        book_before = book.tally()  # [ids, settled] from the index: not the history
        matcher = self.hooks.party_matcher(self.store)
        batch = _Batch()
        known = KnownIds(book, batch)  # the months the pages reach, not the whole history
        page: Any = None
        today = clock.today()
        fraction: float | None = None
        guard = PageGuard(name, start, today)
        booked: str = ""  # the newest booking date read
        result.read_from = start.isoformat()
        through = ""  # the last day whose transactions were all read (pages come oldest first)
        with _gc_paused():
            try:
                while True:
                    if cancel is not None and cancel.is_set():
                        raise SyncCancelled(name)
                    rotated = await self._call(
                        consent,
                        self.client.fetch_consent_transactions(
                            consent.consent_id,
                            token,
                            account.kosma_account_id,
                            start,
                            page_size=self.page_size,
                            page=page,
                        ),
                    )
                    token = rotated.consent_token
                    result.pages += 1
                    known.cover(rotated.result.transactions)
                    self._absorb(rotated.result.transactions, name, known, batch, result)
                    booked = _newest_booking(rotated.result.transactions, booked)
                    through = (
                        today.isoformat()
                        if rotated.result.next is None
                        else max(through, read_through(rotated.result.transactions))
                    )
                    # a page leaves cyclic garbage (HTTP and asyncio objects) that the
                    # paused collector would keep for the whole sync: 500 MB at a million.
                    # The young generations only: the long-lived heap is not rescanned.
                    gc.collect(1)
                    reached = page_fraction(rotated.result.transactions, start, today)
                    if reached is not None:  # never backwards, even on an odd page
                        fraction = reached if fraction is None else max(fraction, reached)
                    self._progress(
                        SyncProgress(
                            name, "transactions", result.pages, result.fetched, result.new, fraction
                        )
                    )
                    if len(batch) >= self.flush_rows:
                        self._flush(book, batch, matcher, result, fraction)
                        self._advance(account, start, through, result)  # survives a kill
                    guard.check(rotated.result.transactions, rotated.result.next)
                    page = rotated.result.next
                    if page is None:
                        break
                self._flush(book, batch, matcher, result, fraction)
            except BaseException:
                # keep what was read before the failure: it is correct, the next run skips
                # it, and continues after the last day read whole (DESIGN 2)
                try:
                    self._flush(book, batch, matcher, result)
                    self._advance(account, start, through, result)
                except Exception:
                    log.exception("could not keep the rows read before the failure")
                raise

        if self.dry_run:  # nothing was stored: no date, balance or check moves
            result.last_integration_date = account.last_integration_date
            self._progress(
                SyncProgress(name, "done", result.pages, result.fetched, result.new, 1.0)
            )
            return
        # only now that the rows are on disk may the Last Integration Date move: to the
        # newest booking date (a value date may lie before it, even before the consent
        # could read), never past today and never before the consent start
        fields: dict[str, Any] = {"balance": balance}
        lid = account.last_integration_date
        if booked:
            newest = max(min(booked, clock.today().isoformat()), consent.consent_start)
            if newest > lid:
                lid = newest
                fields["last_integration_date"] = lid
        result.last_integration_date = lid
        # a complete read: the days it covered, and whether the numbers add up
        gap = coverage.leaves_gap(account.coverage, start)
        fields["coverage"] = coverage.extend(account.coverage, start, today)
        settled = balance_check.settled_after(
            account,
            book_before if result.settled_exact else [-1, -1],
            book.tally(),
            result.settled_delta,
            lambda: book.rows(raw=False),
        )
        fields["settled"] = settled
        fields.update(balance_check.assess(account, balance, settled["total"], reanchor=gap))
        result.read_through = today.isoformat()
        self.store.update_account(name, **fields)
        self._progress(SyncProgress(name, "done", result.pages, result.fetched, result.new, 1.0))

    def _absorb(
        self,
        transactions: list[dict[str, Any]],
        account: str,
        known: dict[str, str],
        batch: _Batch,
        result: SyncResult,
    ) -> None:
        """Sort one page into new rows, status changes and skips."""
        result.fetched += len(transactions)
        rows, fresh = batch.rows, batch.fresh
        for tx in transactions:
            state = tx.get("state")
            status = STATUS_BY_STATE.get(state) if type(state) is str else None
            tid = tx.get("transaction_id")
            if not tid:
                # PENDING without id: cannot be recognised next time (DESIGN 2). Other
                # states always carry one (PROTOCOL); without, they cannot be deduplicated.
                if status != "Pending":
                    log.warning(
                        "%s: a %s transaction without transaction_id was skipped", account, state
                    )
                result.skipped_pending += 1
                continue
            if type(tid) is not str:
                tid = str(tid)
            stored = known.get(tid)
            if stored is None:
                if status == "Cancelled":  # never moved money: nothing to reconcile
                    result.skipped_cancelled += 1
                    continue
                row = to_row(tx, account, status)  # validates; raises PortalProtocolError
                rows.append(row)
                fresh[tid] = row
                known[tid] = row["status"]
                result.new += 1
            elif status is not None and (stored, status) in TRANSITIONS:
                known[tid] = status
                buffered = fresh.get(tid)
                if buffered is not None:  # read earlier in this run, not yet written
                    buffered["status"], buffered["raw"] = status, tx
                else:
                    batch.changes[tid] = {"status": status}
                    batch.settled_delta += balance_check.status_delta(stored, status, tx)
                    result.updated += 1
            else:
                result.skipped_duplicate += 1
        result.skipped = (
            result.skipped_pending + result.skipped_cancelled + result.skipped_duplicate
        )

    def _flush(
        self,
        book: Any,
        batch: _Batch,
        matcher: RowMatcher | None,
        result: SyncResult,
        fraction: float | None = None,
    ) -> None:
        if not len(batch):
            return
        self._progress(
            SyncProgress(
                batch.rows[0]["bank_account"] if batch.rows else "",
                "saving",
                result.pages,
                result.fetched,
                result.new,
                fraction,
            )
        )
        rows, changes, delta = batch.rows, batch.changes, batch.settled_delta
        batch.rows, batch.fresh, batch.changes, batch.settled_delta = [], {}, {}, 0
        if rows and matcher is not None:
            result.matched += matcher(rows)
        if self.dry_run:  # counted, not stored; ``known`` still deduplicates later pages
            return
        if rows:
            if book.append(rows) != len(rows):  # some were stored meanwhile: sum them all
                result.settled_exact = False
            delta += balance_check.settled_total(rows)
        if changes:
            book.update(changes)
        result.settled_delta += delta
        result.add_stored(row["transaction_id"] for row in rows)
        result.add_stored(changes)

    def _advance(self, account: BankAccount, start: date, through: str, result: SyncResult) -> None:
        """Move the Last Integration Date to ``through`` (rows on disk), never backwards."""
        if not through or through < start.isoformat():
            return  # not one whole day read yet
        result.read_through = through
        stored = self.store.account(account.name) or account
        current = stored.last_integration_date
        if self.dry_run:  # nothing was stored: nothing moves
            result.last_integration_date = current
            return
        fields: dict[str, Any] = {
            "coverage": coverage.extend(stored.coverage, start, date.fromisoformat(through))
        }
        if through > current:
            fields["last_integration_date"] = through
        self.store.update_account(account.name, **fields)
        result.last_integration_date = max(through, current)

    # -- the daily job ----------------------------------------------------

    async def _refresh_for_job(self, consent: BankConsent) -> Problem | None:
        """Refresh one consent's accounts; the Problem that fails them all, or None."""
        if consent_refusal(self.store, consent) is not None:
            return None  # each account is refused (and recorded) by sync_account
        try:
            await self.refresh_accounts(consent.name)
        except PortalError as exc:
            if exc.code.startswith(FALLBACK_CODES):
                log.info(
                    "accounts of %s not refreshed (%s); using the stored ones",
                    consent.name,
                    exc.code,
                )
                return None
            return Problem.from_error(exc)
        except KosmaError as exc:
            return Problem.from_error(exc)
        except Exception as exc:
            log.exception("refreshing the accounts of %s failed unexpectedly", consent.name)
            return _unexpected(exc)
        return None

    async def _isolated(self, name: str, cancel: asyncio.Event | None) -> SyncResult:
        try:
            return await self.sync_account(name, cancel, push=False)
        except KosmaError as exc:
            return SyncResult(name, "failed", error=Problem.from_error(exc))
        except Exception as exc:
            log.exception("sync of %s failed unexpectedly", name)
            return SyncResult(name, "failed", error=_unexpected(exc))

    # -- helpers ----------------------------------------------------------

    async def _call(self, consent: BankConsent, call: Coroutine[Any, Any, T]) -> T:
        """Await a consent call; its rotated token goes into custody before anything else
        is done with the answer (DESIGN 2, PROTOCOL's replay)."""
        try:
            rotated = await call
        except PortalError as exc:
            if exc.consent_token:
                self.custody.persist(consent, exc.consent_token)
            elif isinstance(exc, PortalUnreachable | PortalProtocolError):
                self.custody.uncertain(consent)  # the answer may be lost: replay it next
            raise
        except BaseException:  # a kill of the task, the journal unwritable: outcome unknown
            self.custody.uncertain(consent)
            raise
        self.custody.rotated(consent, rotated.consent_token)  # type: ignore[attr-defined]
        return rotated

    async def recover(self, consent: BankConsent) -> BankConsent:
        """Replay the consent call a crash or a lost answer left pending, and store its
        outcome (a page's transactions included), before anything else (PROTOCOL v1.1).
        The consent as stored afterwards; call it holding the consent's lock."""
        journal = self.custody.journal
        if journal is None:
            return consent
        self.custody.begin(consent)
        pending = journal.pending(consent.consent_id)
        if pending is None:
            return consent
        if not pending.belongs_to(consent.consent_token):
            journal.clear(consent.consent_id)  # its outcome was stored before the crash
            return consent
        log.info(
            "%s: replaying the %s call left pending on %s",
            consent.name,
            pending.method,
            pending.written or "an earlier run",
        )
        try:
            rotated = await self._call(consent, self.client.replay(pending))
        except PortalError as exc:
            if not exc.consent_token:
                self.custody.settle(consent)
                raise
            # the replayed call failed, the consent lives on: the sync goes on from here
            log.info("%s: the replayed call answered %s", consent.name, exc.code)
        else:
            self.custody.settle(consent)  # its token is stored before its page is used
            if pending.method == "fetch_consent_transactions":
                self._keep_page(
                    consent, pending.fields.get("account_id"), rotated.result.transactions
                )
        return self.store.consent(consent.name) or consent

    def _keep_page(
        self, consent: BankConsent, account_id: Any, transactions: list[dict[str, Any]]
    ) -> None:
        """Store what new a replayed page brought (the sync's own rules; LID unchanged)."""
        for account in self.store.accounts(bank=consent.bank, company=consent.company):
            if account.kosma_account_id and account.kosma_account_id == account_id:
                book = self.store.book(account)
                batch, result = _Batch(), SyncResult(account.name, "ok")
                known = KnownIds(book, batch)  # the page's months, not the history
                known.cover(transactions)
                self._absorb(transactions, account.name, known, batch, result)
                self._flush(book, batch, self.hooks.party_matcher(self.store), result)
                self._replayed.setdefault(account.name, []).extend(
                    result.stored_ids or ()
                )  # one page: never past the cap
                log.info("%s: %d new from the replayed page", account.name, result.new)
                return

    def _progress(self, progress: SyncProgress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)

    def _record(self, result: SyncResult, started: datetime) -> None:
        finished = clock.now().isoformat(timespec="seconds")
        lost: KosmaError | None
        try:
            lost = self.store.lost_sync_runs()
        except KosmaError as exc:
            lost = exc
        if lost is not None and result.error is None:
            # the sync went well, its history did not: say so once, on this account
            result.status, result.error = "failed", Problem.from_error(lost)
        error = result.error.as_json() if result.error else None
        last = LastSync(
            when=finished,
            outcome=result.status,
            fetched=result.fetched,
            new=result.new,
            updated=result.updated,
            skipped=result.skipped,
            matched=result.matched,
            error=error,
            unattended=self.unattended,
            read_through=result.read_through,
            stopped=result.stopped,
        )
        run = SyncRun.from_dict(
            {
                "account": result.name,
                "started": started.isoformat(timespec="seconds"),
                "finished": finished,
                "fetched": result.fetched,
                "new": result.new,
                "updated": result.updated,
                "skipped_duplicate": result.skipped_duplicate,
                "skipped_pending": result.skipped_pending,
                "skipped_cancelled": result.skipped_cancelled,
                "matched": result.matched,
                "status": result.status,
                "error": error,
                "unattended": self.unattended,
                "read_from": result.read_from,
                "read_through": result.read_through,
                "last_integration_date": result.last_integration_date,
                "stopped": result.stopped,
            }
        )
        try:
            self.store.add_sync_run(run)
        except KosmaError as exc:
            log.warning("could not record the sync of %s: %s", result.name, exc.message)
            if result.error is None:
                result.status, result.error = "failed", Problem.from_error(exc)
                last.outcome, last.error = "failed", result.error.as_json()
        try:
            self.store.update_account(result.name, last_sync=last)
        except KosmaError as exc:
            log.warning("could not record the sync of %s: %s", result.name, exc.message)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while pages are absorbed.

    A first sync creates some 100,000 long-lived rows; each generation-2 pass
    rescans the whole growing heap, which cost a third of the sync's time.
    Reference counting frees the rows of every page; the little cyclic garbage
    a page leaves is collected young, page by page (``gc.collect(1)``).
    Nesting-safe: the outermost one restores.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_history(store: Store, account: BankAccount, consent: BankConsent) -> None:
    """Refuse to sync an account whose stored transactions were deleted: re-reading
    from the Last Integration Date would hide the loss for good."""
    folder = store.missing_history(account)
    if folder is None:
        return
    raise StoreError(
        f"The transactions of '{account.name}' are missing: their folder {folder} is gone "
        "although earlier syncs stored transactions there.",
        "Restore that folder from a backup. To start the account's history afresh instead, "
        "create the folder empty and set the Last Integration Date to the Consent Start Date "
        f'(\'kosma-tui account set-last-integration-date "{account.name}" '
        f"{consent.consent_start}').",
    )


def _balance(balances: Any, fallback_currency: str) -> Balance:
    available = getattr(balances, "available", None)
    booked = getattr(balances, "booked", None)
    either = available or booked
    currency = either.currency if either is not None else fallback_currency
    return Balance(
        available=available.amount if available is not None else None,
        booked=booked.amount if booked is not None else None,
        currency=currency,
        date=getattr(balances, "date", "") or "",
    )


def _newest_booking(transactions: list[dict[str, Any]], newest: str) -> str:
    """``newest`` or a later booking date of a stored-kind transaction on the page."""
    for tx in transactions:
        booked = tx.get("booking_date") or tx.get("date")
        # compare the text first: the full check only for a candidate (a few per page)
        if type(booked) is str and booked[:10] > newest and tx.get("transaction_id"):
            day = booked_on(tx)
            if day is not None and day > newest:
                newest = day
    return newest


def _match(account: BankAccount, fresh: list[Any]) -> Any:
    """The portal account that is ``account`` (``identifiers.same_account``)."""
    for candidate in fresh:
        if same_account(
            account.iban,
            account.bank_account_no,
            getattr(candidate, "iban", ""),
            getattr(candidate, "account_number", ""),
        ):
            return candidate
    return None


_unexpected = messages.unexpected

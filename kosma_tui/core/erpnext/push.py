"""Settled transactions out to ERPNext as submitted Bank Transactions.

Exactly once, even when a push is killed or a request dies unanswered:
ERPNext accepts duplicate ``transaction_id``s, so before every insert the ids
of the batch are looked up for that Bank Account (``frappe.client.get_list``
as a POST, so no id list can outgrow a request line) and only the missing
ones are inserted; after the insert the same lookup returns the document
names, which are recorded on our rows batch by batch. A batch is written to
the push journal before it is sent; one whose answer was lost is settled
(``journal``) before anything else is pushed, in this run or the next.
``frappe.client.insert_many`` takes at most 200 documents and runs in one
transaction, so a batch ERPNext refuses (417) is retried one document at a
time to isolate the bad one, whose ERPNext message is reported while the
others go in. A party ERPNext does not know is left off the document (and
named in the report) rather than blocking it. After each account one more
lookup of every pushed id reports a ``transaction_id`` ERPNext holds twice
(``erpnext dedupe`` removes the later copies). Two pushes never run at once
(a file lock), so the lookup cannot race another process's insert.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager
from itertools import islice
from typing import Any

import kosma_tui.core.erpnext.journal as journal  # the module, not the package: no cycle
from kosma_tui.core import locks, messages
from kosma_tui.core.erpnext.client import (
    ErpnextClient,
    ErpnextError,
    ErpnextRejected,
    ErpnextTransient,
)
from kosma_tui.core.erpnext.documents import (
    DOCTYPE,
    PARTY_TYPES,
    attention_message,
    bank_transaction,
    party_label,
    reconciled,
)
from kosma_tui.core.erpnext.mapping import BankAccounts, unmapped_remedy
from kosma_tui.core.erpnext.report import (
    AccountPush,
    PushProgress,
    PushReport,
    item,
    record_push,
)
from kosma_tui.core.erpnext.work import (
    ATTENTION_MARK,
    CANCELLED_MARK,
    Work,
    collect,
    full_scan,
)
from kosma_tui.core.errors import KosmaError, Problem, UsageError
from kosma_tui.core.records import BankAccount

log = logging.getLogger("kosma_tui.erpnext")

INSERT_BATCH = 200  # frappe.client.insert_many refuses more
LOOKUP_IDS = 1000  # ids per lookup (a POST body: no request-line limit)
CANCEL_BATCH = 100
# A push of a first sync (100,000 rows) takes minutes; one waiting longer than this
# behind another is told who holds it instead of hanging the daily job.
PUSH_WAIT_SECONDS = 900.0
SETTLE_POLL = 1.0  # seconds between lookups while an abandoned batch may still commit


def chunks(rows: list[Any], size: int) -> Iterator[list[Any]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def push_lock(store: Any) -> AbstractContextManager[None]:
    """One push at a time across processes (the TUI and the daily job)."""
    return locks.held(
        store.paths.data_dir / "erpnext-push.lock",
        "The ERPNext push",
        "a push to ERPNext",
        PUSH_WAIT_SECONDS,
    )


class Pusher:
    """``Pusher(store, client).run(["Main (ACME)"], strict=True) -> PushReport``."""

    def __init__(
        self,
        store: Any,
        client: ErpnextClient,
        *,
        dry_run: bool = False,
        on_progress: Callable[[PushProgress], None] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.dry_run = dry_run
        self.on_progress = on_progress
        self.wrote = False  # whether any insert or cancel was sent
        self.settled = 0  # rows of an abandoned batch found in ERPNext and recorded
        self._parties: dict[str, set[str]] = {}  # party type -> the names ERPNext has

    def run(
        self,
        names: list[str] | None = None,
        *,
        strict: bool = True,
        stored: Mapping[str, Collection[str] | None] | None = None,
    ) -> PushReport:
        """Push the named accounts (all when ``names`` is empty).

        ``strict``: an unknown or unmapped account refuses the whole push with a
        UsageError before anything changes (the commands); otherwise it is
        recorded on that account and the others go ahead (the automatic push).
        ``stored``: account -> the ids a sync just stored; only those rows are
        looked at, unless there were too many to list (None) or ``full_scan`` says the
        account's whole history must be.
        """
        started = time.monotonic()
        report = PushReport(self.dry_run)
        accounts, unknown = self._accounts(names, strict)
        lock = contextlib.nullcontext() if self.dry_run else push_lock(self.store)
        with lock:
            recovered = False if self.dry_run else self.settle_journal()
            works = [
                collect(self.store, account, None if recovered else self._ids(account, stored))
                for account in accounts
            ]
            mappings = {}
            if any(w.waiting for w in works):
                # The first request: an unreachable ERPNext or a refused key stops here.
                known = BankAccounts(self.client)
                mappings = {w.account.name: known.resolve(w.account) for w in works if w.waiting}
                unmapped = [m for m in mappings.values() if not m.bank_account]
                if unmapped and strict:
                    raise UsageError(
                        f"{unmapped[0].problem}; nothing was pushed.",
                        unmapped_remedy([unmapped[0].account]),
                    )
            local = [a.name for a in self.store.accounts()]
            report.accounts = [
                AccountPush(
                    name, error=Problem("USAGE", messages.no_bank_account(name, local).message)
                )
                for name in unknown
            ]
            stopped: KosmaError | None = None
            for work in works:
                result = AccountPush(
                    work.account.name,
                    work.account.erpnext_bank_account,
                    pending=work.pending,
                    without_id=work.without_id,
                )
                report.accounts.append(result)
                if not work.waiting:
                    continue
                mapping = mappings[work.account.name]
                if not mapping.bank_account:
                    result.error = Problem(
                        "ERPNEXT.UNMAPPED",
                        mapping.problem + ".",
                        unmapped_remedy([work.account.name]),
                    )
                    continue
                if stopped is not None:
                    result.error = Problem.from_error(stopped)
                    continue
                result.bank_account = mapping.bank_account
                if mapping.how == "iban" and not self.dry_run:
                    self.store.update_account(
                        work.account.name, erpnext_bank_account=mapping.bank_account
                    )
                try:
                    self._push_account(work, result)
                except ErpnextError as exc:
                    # ERPNext went away or refused the user: the same for every account.
                    if strict and not self.wrote:
                        raise  # nothing was sent to ERPNext yet: a plain refusal (exit 2)
                    log.warning("push of %s stopped: %s", work.account.name, exc.message)
                    result.error = Problem.from_error(exc)
                    stopped = exc
        report.requests = self.client.requests
        report.settled = self.settled
        report.seconds = time.monotonic() - started
        return report

    def _ids(
        self, account: BankAccount, stored: Mapping[str, Collection[str] | None] | None
    ) -> Collection[str] | None:
        """The ids of ``account`` to look at, or None for its whole history: no ids were
        handed over, there were too many to list, or ``full_scan`` says so."""
        ids = None if stored is None else stored.get(account.name, ())
        if ids is None or full_scan(self.store, account.name):
            return None
        return ids

    def _accounts(
        self, names: list[str] | None, strict: bool
    ) -> tuple[list[BankAccount], list[str]]:
        if not names:
            return list(self.store.accounts()), []
        accounts, unknown = [], []
        for name in dict.fromkeys(names):
            account = self.store.account(name)
            if account is not None:
                accounts.append(account)
            elif strict:
                raise messages.no_bank_account(name, [a.name for a in self.store.accounts()])
            else:
                unknown.append(name)
        return accounts, unknown

    # -- the journal -----------------------------------------------------------------

    def settle_journal(self) -> bool:
        """Settle the batch a previous run (or request) left in flight, before anything
        else; whether there was one."""
        entry = journal.current(self.store)
        if entry is None:
            return False
        found = self.settle(entry)
        account = self.store.account(entry.account)
        if account is not None and found:
            self.settled += len(found)
            self.store.book(account).update(
                {tid: {"erpnext_name": name} for tid, name in found.items()}
            )
        journal.clear(self.store)
        log.info("settled an abandoned batch of %d: %d were in ERPNext", len(entry.ids), len(found))
        return True

    def settle(self, entry: journal.InFlight) -> dict[str, str]:
        """What of an abandoned batch is in ERPNext once it can no longer change."""
        while True:
            found = self.lookup(entry.bank_account, entry.ids)
            left = entry.deadline - time.time()
            if len(found) >= len(set(entry.ids)) or left <= 0:
                return found
            # ERPNext may still be running the request its client gave up on.
            time.sleep(min(SETTLE_POLL, left))

    # -- one account ---------------------------------------------------------------

    def _push_account(self, work: Work, result: AccountPush) -> None:
        book = self.store.book(work.account)
        total, done = len(work.create), 0
        self._progress(result.name, 0, total)
        for chunk in chunks(work.create, INSERT_BATCH):
            self._push_chunk(book, result, chunk)
            done += len(chunk)
            self._progress(result.name, done, total)
        if work.cancel:
            self._cancel(book, result, work.cancel)
        if not self.dry_run and work.create:
            self._check_duplicates(result, [row["transaction_id"] for row in work.create])

    def _progress(self, account: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(PushProgress(account, done, total))

    def _push_chunk(self, book: Any, result: AccountPush, chunk: list[dict[str, Any]]) -> None:
        ids = [row["transaction_id"] for row in chunk]
        failures: dict[str, str] = {}
        existing = self.lookup(result.bank_account, ids)
        before = dict(existing)
        missing = [row for row in chunk if row["transaction_id"] not in existing]
        docs = {row["transaction_id"]: self._document(row, result) for row in missing}
        attempts = self.client.retry.start()
        while missing and not self.dry_run:
            try:
                self._insert(result, missing, docs, failures)
                break
            except ErpnextTransient:
                # The answer was lost: settle() has waited until the batch can no
                # longer appear; what is still missing is sent again.
                delay = attempts.next_delay()
                if delay is None:
                    raise
                existing.update(self.lookup(result.bank_account, ids))
                missing = [row for row in missing if row["transaction_id"] not in existing]
                attempts.sleep(delay)
        if missing and not self.dry_run:
            inserted = [
                row["transaction_id"] for row in missing if row["transaction_id"] not in failures
            ]
            # insert_many's answer is not reliably in order across Frappe
            # versions: ask which name each id got.
            existing.update(self.lookup(result.bank_account, inserted))
        changes: dict[str, dict[str, Any]] = {}
        for row in chunk:
            tid = row["transaction_id"]
            if tid in failures:
                result.failed += 1
                result.items.append(item("failed", row, message=failures[tid]))
            elif tid in existing:
                name = existing[tid]
                changes[tid] = {"erpnext_name": name}
                if tid in before:
                    result.skipped += 1
                    result.items.append(item("skip", row, name))
                else:
                    result.created += 1
                    result.items.append(item("create", row, name))
            elif self.dry_run:
                result.created += 1
                result.items.append(item("create", row))
            else:
                result.failed += 1
                result.items.append(
                    item(
                        "failed",
                        row,
                        message=(
                            "ERPNext accepted it but no Bank Transaction with this id exists "
                            "afterwards"
                        ),
                    )
                )
        if changes and not self.dry_run:
            book.update(changes)

    def _document(self, row: dict[str, Any], result: AccountPush) -> dict[str, Any]:
        """The Bank Transaction, without a party ERPNext does not know (named in the report)."""
        doc = bank_transaction(row, result.bank_account)
        if doc.get("party") and not self._party_known(doc["party_type"], doc["party"]):
            label = party_label(doc.pop("party_type"), doc.pop("party"))
            result.missing_parties[label] = result.missing_parties.get(label, 0) + 1
        return doc

    def _party_known(self, party_type: str, party: str) -> bool:
        if party_type not in self._parties:
            self._parties[party_type] = self._party_names(party_type)
        return party in self._parties[party_type]

    def _party_names(self, party_type: str) -> set[str]:
        """Every name of that party type, once per push (a site has thousands at most)."""
        if party_type not in PARTY_TYPES:
            return set()
        try:
            return {str(r["name"]) for r in self.client.get_list(party_type)}
        except ErpnextTransient:
            raise
        except ErpnextError as exc:
            # e.g. Accounts Manager may not read Employee: the party is left off.
            log.info("cannot read %s from ERPNext: %s", party_type, exc.message)
            return set()

    def _insert(
        self,
        result: AccountPush,
        rows: list[dict[str, Any]],
        docs: dict[str, dict[str, Any]],
        failures: dict[str, str],
    ) -> None:
        batch = [docs[row["transaction_id"]] for row in rows]
        self.wrote = True
        try:
            self._send(result, batch, self.client.insert_many)
            return
        except ErpnextRejected as exc:
            if len(batch) == 1:
                failures[rows[0]["transaction_id"]] = exc.erpnext_message
                return
            log.info(
                "batch of %d refused (%s); inserting one by one", len(batch), exc.erpnext_message
            )
        # The refused batch was rolled back as a whole; find the bad document.
        for doc in batch:
            try:
                self._send(result, [doc], lambda one: self.client.insert(one[0]))
            except ErpnextRejected as exc:
                failures[doc["transaction_id"]] = exc.erpnext_message

    def _send(
        self,
        result: AccountPush,
        batch: list[dict[str, Any]],
        send: Callable[[list[dict[str, Any]]], Any],
    ) -> None:
        """One insert request, written to the journal first; a lost answer is settled."""
        ids = [doc["transaction_id"] for doc in batch]
        entry = journal.begin(
            self.store, result.name, result.bank_account, ids, self.client.server_timeout
        )
        try:
            send(batch)
        except ErpnextTransient:
            self.settle(entry)
            journal.clear(self.store)
            raise
        except ErpnextRejected:
            journal.clear(self.store)  # refused: rolled back, nothing in flight
            raise
        journal.clear(self.store)

    def lookup(self, bank_account: str, ids: list[str]) -> dict[str, str]:
        """transaction_id -> name of the (oldest) Bank Transaction with it in this account."""
        found: dict[str, str] = {}
        for row in self.lookup_rows(bank_account, ids):
            found.setdefault(str(row["transaction_id"]), str(row["name"]))
        return found

    def lookup_rows(
        self,
        bank_account: str,
        ids: list[str],
        fields: tuple[str, ...] = ("name", "transaction_id"),
    ) -> list[dict]:
        """The not-cancelled Bank Transactions with these ids, oldest first."""
        rows: list[dict] = []
        for batch in chunks(list(dict.fromkeys(ids)), LOOKUP_IDS):
            rows.extend(
                self.client.get_list(
                    DOCTYPE,
                    fields=fields,
                    filters=[
                        ["bank_account", "=", bank_account],
                        ["docstatus", "<", 2],
                        ["transaction_id", "in", batch],
                    ],
                    # one page unless ids are held twice: one request per lookup
                    order_by="creation asc",
                    page_length=2 * LOOKUP_IDS,
                )
            )
        return rows

    def _check_duplicates(self, result: AccountPush, ids: list[str]) -> None:
        """One lookup of the pushed ids: any held twice is reported (``erpnext dedupe``)."""
        names: dict[str, list[str]] = {}
        for row in self.lookup_rows(result.bank_account, ids):
            names.setdefault(str(row["transaction_id"]), []).append(str(row["name"]))
        result.duplicates = {tid: held for tid, held in names.items() if len(held) > 1}
        if result.duplicates:
            log.warning(
                "%d transaction ids are in ERPNext more than once for %s",
                len(result.duplicates),
                result.bank_account,
            )

    # -- cancellations -------------------------------------------------------------

    def _cancel(self, book: Any, result: AccountPush, rows: list[dict[str, Any]]) -> None:
        for batch in chunks(rows, CANCEL_BATCH):
            names = [row["erpnext_name"] for row in batch]
            state = self._state(names)
            marks: dict[str, dict[str, Any]] = {}
            for row in batch:
                name = row["erpnext_name"]
                doc = state.get(name)
                status = None if doc is None else int(doc.get("docstatus") or 0)
                if status == 0:
                    result.failed += 1
                    result.items.append(
                        item(
                            "failed",
                            row,
                            name,
                            (
                                f"{name} is a draft in ERPNext, not a submitted Bank Transaction; "
                                "delete it there"
                            ),
                        )
                    )
                    continue
                if status == 1 and doc is not None and reconciled(doc):
                    # Cancelling would silently undo the admin's reconciliation.
                    result.attention += 1
                    result.items.append(item("attention", row, name, attention_message(name)))
                    if not row.get(ATTENTION_MARK):
                        marks[row["transaction_id"]] = {ATTENTION_MARK: name}
                    continue
                if status == 1:
                    if not self.dry_run:
                        try:
                            self._cancel_one(name)
                        except ErpnextRejected as exc:
                            result.failed += 1
                            result.items.append(item("failed", row, name, exc.erpnext_message))
                            continue
                    result.cancelled += 1
                    result.items.append(item("cancel", row, name))
                # cancelled already (2) or deleted in ERPNext (None): nothing left to do
                marks[row["transaction_id"]] = {CANCELLED_MARK: True, ATTENTION_MARK: ""}
            if marks and not self.dry_run:
                book.update(marks)

    def _state(self, names: list[str]) -> dict[str, dict[str, Any]]:
        rows = self.client.get_list(
            DOCTYPE,
            fields=("name", "docstatus", "status", "allocated_amount"),
            filters=[["name", "in", names]],
        )
        return {str(row["name"]): row for row in rows}

    def _cancel_one(self, name: str) -> None:
        self.wrote = True
        attempts = self.client.retry.start()
        while True:
            try:
                self.client.cancel(DOCTYPE, name)
                return
            except ErpnextRejected:
                # A retry may meet the abandoned first cancel, committed meanwhile.
                if (
                    attempts.attempt
                    and int((self._state([name]).get(name) or {}).get("docstatus") or 0) == 2
                ):
                    return
                raise
            except ErpnextTransient:
                doc = self._state([name]).get(name) or {}
                if int(doc.get("docstatus") or 0) != 1:
                    return  # the lost answer's cancel went through
                delay = attempts.next_delay()
                if delay is None:
                    raise
                attempts.sleep(delay)


def push(
    store: Any,
    client: ErpnextClient,
    names: list[str] | None = None,
    *,
    dry_run: bool = False,
    strict: bool = True,
    on_progress: Callable[[PushProgress], None] | None = None,
) -> PushReport:
    report = Pusher(store, client, dry_run=dry_run, on_progress=on_progress).run(
        names, strict=strict
    )
    if not dry_run:
        record_push(store, report)
    return report


# -- the last push, for status (``core.push_record``) ---------------------------------


def auto_push(
    store: Any, account_names: list[str], stored: Mapping[str, Collection[str] | None] | None = None
) -> PushReport | None:
    """After a successful sync: push those accounts' new transactions. Never raises.

    None when automatic push is off; otherwise the report, whose ``problem``
    says what went wrong (also recorded for ``status`` and ``erpnext status``,
    which exit 1 until a push succeeds). An unmapped account is skipped, the
    others still go.
    """
    try:
        if not store.settings().erpnext_auto_push:
            return None
        if not store.erpnext().url:
            return _failed(
                store,
                Problem(
                    "CONFIGURATION",
                    "ERPNext auto push is on, but ERPNext is not connected.",
                    "Run 'kosma-tui erpnext connect', or turn it off with "
                    "'kosma-tui settings --no-erpnext-auto-push'.",
                ),
            )
        with ErpnextClient.for_store(store) as client:
            report = Pusher(store, client).run(list(account_names), strict=False, stored=stored)
        record_push(store, report, unattended=True)
        log.info(
            "auto push: %d created, %d cancelled, %d failed",
            report.total("created"),
            report.total("cancelled"),
            report.total("failed"),
        )
        return report
    except KosmaError as exc:
        log.warning("auto push failed: %s", exc.message)
        return _failed(store, Problem.from_error(exc))
    except Exception as exc:  # the sync's outcome must not depend on ERPNext
        log.exception("auto push failed unexpectedly")
        return _failed(store, Problem("ERPNEXT", f"The automatic push failed ({exc!r})."))


def _failed(store: Any, problem: Problem) -> PushReport:
    _record_quietly(store, problem)
    report = PushReport(False)
    report.error = problem
    return report


def _record_quietly(store: Any, problem: Problem) -> None:
    with contextlib.suppress(Exception):
        record_push(store, None, unattended=True, problem=problem)

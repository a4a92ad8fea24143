"""Settled transactions out to ERPNext as submitted Bank Transactions.

Exactly once, even when a push is killed or a request dies unanswered:
ERPNext accepts duplicate ``transaction_id``s, so before every insert the ids
of the batch are looked up for that Bank Account (``filters`` with ``in``)
and only the missing ones are inserted; after the insert the same lookup
returns the document names, which are recorded on our rows batch by batch.
A batch whose request died without an answer is never re-sent blindly: the
lookup runs again first. ``frappe.client.insert_many`` takes at most 200
documents and runs in one transaction, so a batch ERPNext refuses (417) is
retried one document at a time to isolate the bad one, whose ERPNext message
is reported while the others go in. Two pushes never run at once (a file
lock), so the lookup cannot race another process's insert.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count, islice
from typing import Any
from urllib.parse import quote

import orjson

from kosma_tui.core import clock
from kosma_tui.core.erpnext.client import (
    ErpnextClient,
    ErpnextError,
    ErpnextRejected,
    ErpnextTransient,
)
from kosma_tui.core.erpnext.mapping import BankAccounts, unmapped_remedy
from kosma_tui.core.errors import KosmaError, Problem, UsageError
from kosma_tui.core.money import to_major
from kosma_tui.core.paths import make_private_dir
from kosma_tui.core.records import BankAccount

log = logging.getLogger("kosma_tui.erpnext")

INSERT_BATCH = 200  # frappe.client.insert_many refuses more
LOOKUP_MAX_IDS = 200
LOOKUP_MAX_CHARS = 6000  # keeps the GET's URL inside nginx's default 8 KB request line
CANCEL_BATCH = 100
DOCTYPE = "Bank Transaction"
# Set on a row once its Bank Transaction is cancelled in ERPNext as well.
CANCELLED_MARK = "erpnext_cancelled"


@dataclass
class PushItem:
    action: str  # "create" | "skip" | "cancel" | "failed"
    transaction_id: str
    date: str
    amount: int  # signed minor units
    currency: str
    erpnext_name: str = ""
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "transaction_id": self.transaction_id,
                "date": self.date, "amount": self.amount, "currency": self.currency,
                "erpnext_name": self.erpnext_name or None, "message": self.message or None}


@dataclass
class AccountPush:
    name: str
    bank_account: str = ""  # the ERPNext Bank Account
    created: int = 0
    skipped: int = 0  # already in ERPNext
    cancelled: int = 0
    failed: int = 0
    pending: int = 0  # waiting until they settle
    without_id: int = 0  # settled without a transaction id: cannot be pushed safely
    items: list[PushItem] = field(default_factory=list)
    error: Problem | None = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "erpnext_bank_account": self.bank_account or None,
                "created": self.created, "skipped": self.skipped,
                "cancelled": self.cancelled, "failed": self.failed, "pending": self.pending,
                "without_id": self.without_id,
                "error": self.error.as_json() if self.error else None,
                "items": [item.as_json() for item in self.items]}


@dataclass
class PushReport:
    dry_run: bool
    accounts: list[AccountPush] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def total(self, what: str) -> int:
        return sum(getattr(a, what) for a in self.accounts)

    @property
    def ok(self) -> bool:
        return not any(a.failed or a.error for a in self.accounts)

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run,
                "totals": {k: self.total(k) for k in ("created", "skipped", "cancelled",
                                                       "failed", "pending", "without_id")},
                "requests": self.requests, "seconds": round(self.seconds, 3),
                "accounts": [a.as_json() for a in self.accounts]}


@dataclass
class PushProgress:
    account: str
    done: int
    total: int


@dataclass
class Work:
    """What one account has for ERPNext (collected from its rows)."""

    account: BankAccount
    create: list[dict[str, Any]] = field(default_factory=list)
    cancel: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0
    without_id: int = 0

    @property
    def waiting(self) -> int:
        return len(self.create) + len(self.cancel)


def collect(store: Any, account: BankAccount) -> Work:
    work = Work(account)
    for row in store.book(account).rows(newest_first=False, raw=False):
        status = row.get("status")
        if status == "Settled" and not row.get("erpnext_name"):
            if row.get("transaction_id"):
                work.create.append(row)
            else:
                work.without_id += 1
        elif status == "Cancelled" and row.get("erpnext_name") and not row.get(CANCELLED_MARK):
            work.cancel.append(row)
        elif status == "Pending":
            work.pending += 1
    return work


def bank_transaction(row: dict[str, Any], bank_account: str) -> dict[str, Any]:
    """The submitted Bank Transaction for one of our rows (amounts in major units)."""
    currency = str(row.get("currency") or "")
    doc: dict[str, Any] = {
        "doctype": DOCTYPE,
        "docstatus": 1,
        "date": row["date"],
        "deposit": float(to_major(int(row.get("deposit") or 0), currency)),
        "withdrawal": float(to_major(int(row.get("withdrawal") or 0), currency)),
        "currency": currency,
        "bank_account": bank_account,
        "transaction_id": row["transaction_id"],
    }
    for name in ("reference_number", "description", "bank_party_name", "bank_party_iban",
                 "bank_party_account_number"):
        if row.get(name):
            doc[name] = row[name]
    if row.get("party_type") and row.get("party"):
        doc["party_type"], doc["party"] = row["party_type"], row["party"]
    return doc


def item(action: str, row: dict[str, Any], name: str = "", message: str = "") -> PushItem:
    amount = int(row.get("deposit") or 0) - int(row.get("withdrawal") or 0)
    return PushItem(action, str(row.get("transaction_id") or ""), str(row.get("date") or ""),
                    amount, str(row.get("currency") or ""), name, message)


def plain_id(tid: str) -> bool:
    """Frappe splits an ``in`` value given as text on commas and strips each part."""
    return "," not in tid and tid == tid.strip()


def in_value(batch: list[str]) -> str | list[str]:
    """``"a,b,c"`` (a third shorter in the URL than a JSON list) when every id allows it."""
    return ",".join(batch) if all(plain_id(t) for t in batch) else batch


def id_batches(ids: list[str]) -> Iterator[list[str]]:
    """Ids in groups that keep the lookup's URL short."""
    batch: list[str] = []
    size = 0
    for tid in ids:
        cost = len(quote(tid, safe="")) + 1 if plain_id(tid) else \
            len(quote(orjson.dumps(tid).decode(), safe="")) + 3
        if batch and (len(batch) >= LOOKUP_MAX_IDS or size + cost > LOOKUP_MAX_CHARS):
            yield batch
            batch, size = [], 0
        batch.append(tid)
        size += cost
    if batch:
        yield batch


def chunks(rows: list[Any], size: int) -> Iterator[list[Any]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


@contextlib.contextmanager
def push_lock(store: Any) -> Iterator[None]:
    """One push at a time across processes (the TUI and the daily job)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    path = store.paths.data_dir / "erpnext-push.lock"
    make_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Pusher:
    """``Pusher(store, client).run(["Main (ACME)"], strict=True) -> PushReport``."""

    def __init__(self, store: Any, client: ErpnextClient, *, dry_run: bool = False,
                 on_progress: Callable[[PushProgress], None] | None = None) -> None:
        self.store = store
        self.client = client
        self.dry_run = dry_run
        self.on_progress = on_progress
        self.wrote = False  # whether any insert or cancel was sent

    def run(self, names: list[str] | None = None, *, strict: bool = True) -> PushReport:
        """Push the named accounts (all when ``names`` is empty).

        ``strict``: an unknown or unmapped account refuses the whole push with a
        UsageError before anything changes (the commands); otherwise it is
        recorded on that account and the others go ahead (the automatic push).
        """
        started = time.monotonic()
        report = PushReport(self.dry_run)
        accounts, unknown = self._accounts(names, strict)
        lock = contextlib.nullcontext() if self.dry_run else push_lock(self.store)
        with lock:
            works = [collect(self.store, account) for account in accounts]
            mappings = {}
            if any(w.waiting for w in works):
                # The first request: an unreachable ERPNext or a refused key stops here.
                known = BankAccounts(self.client)
                mappings = {w.account.name: known.resolve(w.account) for w in works if w.waiting}
                unmapped = [m for m in mappings.values() if not m.bank_account]
                if unmapped and strict:
                    raise UsageError(f"{unmapped[0].problem}; nothing was pushed.",
                                     unmapped_remedy([unmapped[0].account]))
            report.accounts = [AccountPush(name, error=Problem(
                "USAGE", f"There is no Bank Account named '{name}'.")) for name in unknown]
            stopped: KosmaError | None = None
            for work in works:
                result = AccountPush(work.account.name, work.account.erpnext_bank_account,
                                     pending=work.pending, without_id=work.without_id)
                report.accounts.append(result)
                if not work.waiting:
                    continue
                mapping = mappings[work.account.name]
                if not mapping.bank_account:
                    result.error = Problem("ERPNEXT.UNMAPPED", mapping.problem + ".",
                                           unmapped_remedy([work.account.name]))
                    continue
                if stopped is not None:
                    result.error = Problem.from_error(stopped)
                    continue
                result.bank_account = mapping.bank_account
                if mapping.how == "iban" and not self.dry_run:
                    self.store.update_account(work.account.name,
                                              erpnext_bank_account=mapping.bank_account)
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
        report.seconds = time.monotonic() - started
        return report

    def _accounts(self, names: list[str] | None, strict: bool) -> tuple[list[BankAccount],
                                                                         list[str]]:
        if not names:
            return list(self.store.accounts()), []
        accounts, unknown = [], []
        for name in dict.fromkeys(names):
            account = self.store.account(name)
            if account is not None:
                accounts.append(account)
            elif strict:
                raise UsageError(f"There is no Bank Account named '{name}'; nothing was "
                                 "pushed.", "'kosma-tui erpnext status' lists the accounts.")
            else:
                unknown.append(name)
        return accounts, unknown

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

    def _progress(self, account: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(PushProgress(account, done, total))

    def _push_chunk(self, book: Any, result: AccountPush, chunk: list[dict[str, Any]]) -> None:
        ids = [row["transaction_id"] for row in chunk]
        before: dict[str, str] | None = None
        for attempt in count():
            failures: dict[str, str] = {}
            try:
                existing = self.lookup(result.bank_account, ids)
                if before is None:
                    before = dict(existing)
                missing = [row for row in chunk if row["transaction_id"] not in existing]
                if missing and not self.dry_run:
                    self._insert(result.bank_account, missing, failures)
                    inserted = [row["transaction_id"] for row in missing
                                if row["transaction_id"] not in failures]
                    # insert_many's answer is not reliably in order across Frappe
                    # versions: ask which name each id got.
                    existing.update(self.lookup(result.bank_account, inserted))
                break
            except ErpnextTransient:
                # The answer was lost; what was committed shows up in the next lookup.
                if attempt >= self.client.retries:
                    raise
                time.sleep(self.client.backoff * (2 ** attempt))
        changes: dict[str, dict[str, Any]] = {}
        for row in chunk:
            tid = row["transaction_id"]
            if tid in failures:
                result.failed += 1
                result.items.append(item("failed", row, message=failures[tid]))
            elif tid in existing:
                name = existing[tid]
                changes[tid] = {"erpnext_name": name}
                if tid in (before or {}):
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
                result.items.append(item("failed", row, message=(
                    "ERPNext accepted it but no Bank Transaction with this id exists "
                    "afterwards")))
        if changes and not self.dry_run:
            book.update(changes)

    def _insert(self, bank_account: str, rows: list[dict[str, Any]],
                failures: dict[str, str]) -> None:
        docs = [bank_transaction(row, bank_account) for row in rows]
        self.wrote = True
        try:
            self.client.insert_many(docs)
            return
        except ErpnextRejected as exc:
            if len(docs) == 1:
                failures[rows[0]["transaction_id"]] = exc.erpnext_message
                return
            log.info("batch of %d refused (%s); inserting one by one", len(docs),
                     exc.erpnext_message)
        # The refused batch was rolled back as a whole; find the bad document.
        present = self.lookup(bank_account, [row["transaction_id"] for row in rows])
        for row, doc in zip(rows, docs, strict=True):
            if row["transaction_id"] in present:
                continue
            try:
                self.client.insert(doc)
            except ErpnextRejected as exc:
                failures[row["transaction_id"]] = exc.erpnext_message

    def lookup(self, bank_account: str, ids: list[str]) -> dict[str, str]:
        """transaction_id -> name of the (oldest) Bank Transaction with it in this account."""
        found: dict[str, str] = {}
        for batch in id_batches(ids):
            rows = self.client.get_list(
                DOCTYPE, fields=("name", "transaction_id"),
                filters=[["bank_account", "=", bank_account],
                         ["transaction_id", "in", in_value(batch)]],
                order_by="creation asc")
            for row in rows:
                found.setdefault(str(row["transaction_id"]), str(row["name"]))
        return found

    # -- cancellations -------------------------------------------------------------

    def _cancel(self, book: Any, result: AccountPush, rows: list[dict[str, Any]]) -> None:
        for batch in chunks(rows, CANCEL_BATCH):
            names = [row["erpnext_name"] for row in batch]
            docstatus = self._docstatus(names)
            marks: dict[str, dict[str, Any]] = {}
            for row in batch:
                name = row["erpnext_name"]
                status = docstatus.get(name)
                if status == 0:
                    result.failed += 1
                    result.items.append(item("failed", row, name, (
                        f"{name} is a draft in ERPNext, not a submitted Bank Transaction; "
                        "delete it there")))
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
                marks[row["transaction_id"]] = {CANCELLED_MARK: True}
            if marks and not self.dry_run:
                book.update(marks)

    def _docstatus(self, names: list[str]) -> dict[str, int]:
        rows = self.client.get_list(DOCTYPE, fields=("name", "docstatus"),
                                    filters=[["name", "in", names]])
        return {str(row["name"]): int(row["docstatus"]) for row in rows}

    def _cancel_one(self, name: str) -> None:
        self.wrote = True
        for attempt in count():
            try:
                self.client.cancel(DOCTYPE, name)
                return
            except ErpnextTransient:
                if self._docstatus([name]).get(name) != 1:
                    return  # the lost answer's cancel went through
                if attempt >= self.client.retries:
                    raise
                time.sleep(self.client.backoff * (2 ** attempt))


def push(store: Any, client: ErpnextClient, names: list[str] | None = None, *,
         dry_run: bool = False, strict: bool = True,
         on_progress: Callable[[PushProgress], None] | None = None) -> PushReport:
    report = Pusher(store, client, dry_run=dry_run, on_progress=on_progress).run(
        names, strict=strict)
    if not dry_run:
        record_push(store, report)
    return report


# -- the last push, for status (kept beside the store, written atomically) ---------------

def last_push_path(store: Any) -> Any:
    return store.paths.data_dir / "erpnext-last-push.json"


def record_push(store: Any, report: PushReport | None, *, unattended: bool = False,
                problem: Problem | None = None) -> None:
    data: dict[str, Any] = {"when": clock.now().isoformat(timespec="seconds"),
                            "unattended": unattended}
    if report is not None:
        summary = report.as_json()
        data["totals"] = summary["totals"]
        data["accounts"] = [{k: a[k] for k in ("name", "created", "skipped", "cancelled",
                                               "failed", "error")}
                            for a in summary["accounts"]]
        errors = [a.error for a in report.accounts if a.error]
        problem = problem or (errors[0] if errors else None)
    data["error"] = problem.as_json() if problem else None
    path = last_push_path(store)
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not record the ERPNext push: %s", exc)


def last_push(store: Any) -> dict[str, Any] | None:
    try:
        data = orjson.loads(last_push_path(store).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def auto_push(store: Any, account_names: list[str]) -> PushReport | None:
    """After a successful sync: push those accounts' new transactions. Never raises.

    Problems are logged and recorded (``erpnext status`` shows the last push);
    an unmapped account is skipped, the others still go.
    """
    try:
        if not store.settings().erpnext_auto_push:
            return None
        if not store.erpnext().url:
            record_push(store, None, unattended=True, problem=Problem(
                "CONFIGURATION", "ERPNext auto push is on, but ERPNext is not connected.",
                "Run 'kosma-tui erpnext connect', or turn it off with "
                "'kosma-tui settings --no-erpnext-auto-push'."))
            return None
        with ErpnextClient.for_store(store) as client:
            report = Pusher(store, client).run(list(account_names), strict=False)
        record_push(store, report, unattended=True)
        log.info("auto push: %d created, %d cancelled, %d failed", report.total("created"),
                 report.total("cancelled"), report.total("failed"))
        return report
    except KosmaError as exc:
        log.warning("auto push failed: %s", exc.message)
        _record_quietly(store, Problem.from_error(exc))
    except Exception as exc:  # the sync's outcome must not depend on ERPNext
        log.exception("auto push failed unexpectedly")
        _record_quietly(store, Problem("ERPNEXT", f"The automatic push failed ({exc!r})."))
    return None


def _record_quietly(store: Any, problem: Problem) -> None:
    with contextlib.suppress(Exception):
        record_push(store, None, unattended=True, problem=problem)

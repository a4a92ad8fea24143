"""The store: every record of DESIGN section 1 behind one small API.

``store/meta.json`` holds the small records (one TinyDB table per record
type) and is all that launching reads; Sync Runs live in
``store/sync_runs.json``; transactions live per account under
``store/transactions/<account.key>/`` (see ``book``). Every mutation is:
lock -> fresh read -> change -> one atomic write -> unlock.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from tinydb import Query, TinyDB
from tinydb.table import Document, Table

from kosma_tui.core import messages
from kosma_tui.core.errors import StoreError
from kosma_tui.core.locks import FileLock
from kosma_tui.core.paths import Paths, resolve_paths
from kosma_tui.core.records import (
    DEMO_COMPANY,
    Bank,
    BankAccount,
    BankConsent,
    BankingSettings,
    Company,
    ErpnextConnection,
    LinkSession,
    Party,
    Record,
    RecordValueError,
    SyncRun,
)
from kosma_tui.core.secrets import Secrets
from kosma_tui.core.store.book import TransactionBook
from kosma_tui.core.store.files import AtomicJSONStorage, corrupt, remove_temp_files

SCHEMA_VERSION = 1
SYNC_RUNS_KEPT = 200  # per account
CLOSED_LINK_SESSIONS_KEPT = 20

R = TypeVar("R", bound=Record)
Q = Query()


def _check_schema(path: Path, tables: dict[str, Any]) -> None:
    """Every meta.json kosma-tui writes starts with its schema version."""
    schema: dict[str, Any] = tables.get("schema") or {}
    first: dict[str, Any] = next(iter(schema.values()), {})
    version = first.get("version")
    if not isinstance(version, int):
        raise corrupt(path, "it has no schema version")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The store {path} was written by a newer kosma-tui (store schema {version}; "
            f"this version reads schema {SCHEMA_VERSION} at most), so it was left untouched.",
            "Upgrade kosma-tui (pip install --upgrade kosma-tui).",
        )


def _has_secrets(tables: dict[str, Any] | None) -> bool:
    for table in (tables or {}).values():
        for document in table.values():
            if any(Secrets.is_encrypted(v) for v in document.values()):
                return True
    return False


def _slug(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:32] or "account"


class Store:
    """Open with ``Store.open()``; records are returned with secrets in clear."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.meta_file = paths.store_dir / "meta.json"
        self.sync_runs_file = paths.store_dir / "sync_runs.json"
        self.transactions_dir = paths.store_dir / "transactions"
        self._lock = FileLock.for_path(paths.store_dir / "store.lock")
        self.secrets = Secrets(paths.key_file, may_create=self._may_create_key)
        self._books: dict[str, TransactionBook] = {}

    @classmethod
    def open(cls, paths: Paths | None = None) -> Store:
        """The store of ``paths`` (default: this run's folders), created on first run
        with default Banking Settings, the Demo Company and the key file."""
        paths = paths or resolve_paths()
        try:
            paths.ensure()
        except OSError as exc:
            raise StoreError(
                f"Could not create the folders of the store under {paths.data_dir} "
                f"({exc.strerror}).",
                "Check the permissions, or set KOSMA_TUI_HOME to a writable folder.",
            ) from exc
        store = cls(paths)
        store._initialise()
        return store

    def _initialise(self) -> None:
        with self.locked():
            remove_temp_files(self.paths.store_dir)
            remove_temp_files(self.paths.config_dir)
            first_run = not self.meta_file.exists()
            with self._meta(write=True) as db:
                if first_run:
                    db.table("schema", cache_size=0).insert({"version": SCHEMA_VERSION})
                    self._put_single(db, "settings", BankingSettings())
                companies = db.table("companies", cache_size=0)
                for document in companies.all():
                    self._decode(Company, document)  # a damaged store stops here, unchanged
                if not companies.all():
                    companies.insert(Company(DEMO_COMPANY, "DE", "01-01", "EUR").to_dict())
            self.secrets.ensure_key()

    def locked(self) -> AbstractContextManager[None]:
        """Hold the store lock (other processes and threads wait); re-entrant."""
        return self._lock.hold()

    # -- plumbing ------------------------------------------------------------

    @contextmanager
    def _meta(self, *, write: bool, file: Path | None = None) -> Iterator[TinyDB]:
        """TinyDB over one fresh read of the file; with ``write`` under the lock
        and written once at the end (nothing is written if the body raises)."""
        path = file or self.meta_file
        with self.locked() if write else nullcontext():
            db = TinyDB(
                path, _check_schema if path == self.meta_file else None, storage=AtomicJSONStorage
            )
            storage: AtomicJSONStorage = db.storage  # type: ignore[assignment]
            with storage.batch():
                yield db

    def _may_create_key(self) -> bool:
        with self._meta(write=False) as db:
            return not _has_secrets(db.storage.read())

    def _encode(self, record: Record) -> dict[str, Any]:
        data = record.to_dict()
        for name in record.SECRET_FIELDS:
            if data.get(name):
                data[name] = self.secrets.encrypt(data[name])
        return data

    def _decode(self, cls: type[R], document: dict[str, Any], file: Path | None = None) -> R:
        data = dict(document)
        for name in cls.SECRET_FIELDS:
            if data.get(name):
                data[name] = self.secrets.decrypt(data[name])
        try:
            return cls.from_dict(data)
        except RecordValueError as exc:  # a value of the wrong kind, edited by hand
            problem = f"a {cls.__name__} record's {exc}"
            raise corrupt(file or self.meta_file, problem) from exc
        except (TypeError, ValueError) as exc:
            problem = f"a {cls.__name__} record cannot be read"
            raise corrupt(file or self.meta_file, problem) from exc

    def _all(self, table: str, cls: type[R]) -> list[R]:
        with self._meta(write=False) as db:
            return [self._decode(cls, d) for d in db.table(table, cache_size=0).all()]

    def _get(self, table: str, cls: type[R], **match: Any) -> R | None:
        for record in self._all(table, cls):
            if all(getattr(record, k) == v for k, v in match.items()):
                return record
        return None

    def _upsert(self, table: str, record: Record, key: str = "name") -> None:
        with self._meta(write=True) as db:
            db.table(table, cache_size=0).upsert(
                self._encode(record), Q[key] == getattr(record, key)
            )

    def _put_single(self, db: TinyDB, table: str, record: Record) -> None:
        db.table(table, cache_size=0).upsert(Document(self._encode(record), doc_id=1))

    def _single(self, table: str, cls: type[R]) -> R:
        records = self._all(table, cls)
        return records[0] if records else cls()

    # -- Banking Settings, ERPNext Connection -----------------------------------

    def settings(self) -> BankingSettings:
        return self._single("settings", BankingSettings)

    def save_settings(self, settings: BankingSettings) -> None:
        with self._meta(write=True) as db:
            self._put_single(db, "settings", settings)

    def erpnext(self) -> ErpnextConnection:
        return self._single("erpnext", ErpnextConnection)

    def save_erpnext(self, connection: ErpnextConnection) -> None:
        with self._meta(write=True) as db:
            self._put_single(db, "erpnext", connection)

    # -- Company, Bank ------------------------------------------------------

    def companies(self) -> list[Company]:
        return self._all("companies", Company)

    def company(self, name: str) -> Company | None:
        return self._get("companies", Company, name=name)

    def save_company(self, company: Company) -> None:
        self._upsert("companies", company)

    def banks(self) -> list[Bank]:
        return self._all("banks", Bank)

    def bank(self, name: str) -> Bank | None:
        return self._get("banks", Bank, name=name)

    def save_bank(self, bank: Bank) -> None:
        self._upsert("banks", bank)

    # -- Bank Account -------------------------------------------------------

    def accounts(self, bank: str | None = None, company: str | None = None) -> list[BankAccount]:
        return [
            a
            for a in self._all("accounts", BankAccount)
            if (bank is None or a.bank == bank) and (company is None or a.company == company)
        ]

    def account(self, name: str) -> BankAccount | None:
        return self._get("accounts", BankAccount, name=name)

    def save_account(self, account: BankAccount) -> None:
        """Insert or update; a record is found by its ``key`` first (so a renamed
        account keeps its transactions), else by name. Assigns ``account.key``."""
        with self._meta(write=True) as db:
            table = db.table("accounts", cache_size=0)
            existing = table.get(Q["key"] == account.key) if account.key else None
            if existing is None:
                existing = table.get(Q["name"] == account.name)
                if existing is not None and existing.get("key"):
                    account.key = existing["key"]  # its transactions live there
            clash = table.get(Q["name"] == account.name)
            if clash is not None and existing is not None and clash.doc_id != existing.doc_id:
                raise messages.bank_account_name_taken(account.name)
            if not account.key:
                account.key = self._new_account_key(table, account.name)
            data = self._encode(account)
            if existing is None:
                table.insert(data)
            else:
                table.update(data, doc_ids=[existing.doc_id])
        book = self._books.get(account.key)
        if book is not None:
            book.account_name = account.name

    def _new_account_key(self, table: Table, name: str) -> str:
        taken = {d.get("key") for d in table.all()}
        while True:
            key = f"{_slug(name)}-{os.urandom(4).hex()}"
            if key not in taken and not (self.transactions_dir / key).exists():
                return key

    def update_account(self, name: str, **fields: Any) -> BankAccount:
        """Set some fields of one account as a read-modify-write under the lock,
        so another process's changes to other fields are kept."""
        allowed = set(BankAccount.__dataclass_fields__) - {"key"}
        unknown = set(fields) - allowed
        if unknown:
            raise TypeError(f"update_account got unknown fields: {sorted(unknown)}")
        with self.locked():
            account = self.account(name)
            if account is None:
                raise messages.no_bank_account(name, [a.name for a in self.accounts()])
            for field_name, value in fields.items():
                setattr(account, field_name, value)
            self.save_account(account)
            return account

    def delete_account(self, account: BankAccount) -> None:
        """Remove the account record, then its transaction folder (ERPNext is not touched).

        The record goes first, in one atomic write: a run killed in between leaves an
        orphaned folder under a random key that nothing reads, never an account whose
        transactions are half gone."""
        with self._meta(write=True) as db:
            table = db.table("accounts", cache_size=0)
            removed = table.remove(Q["key"] == account.key) if account.key else []
            if not removed:
                removed = table.remove(Q["name"] == account.name)
            if not removed:
                raise messages.no_bank_account(
                    account.name, [str(d.get("name", "")) for d in table.all()]
                )
        with self._meta(write=True, file=self.sync_runs_file) as db:
            db.table("sync_runs", cache_size=0).remove(Q["account"] == account.name)
        if account.key:
            self._books.pop(account.key, None)
            folder = self.transactions_dir / account.key
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)

    def rename_sync_runs(self, old: str, new: str) -> None:
        """A renamed account keeps its sync history."""
        with self._meta(write=True, file=self.sync_runs_file) as db:
            db.table("sync_runs", cache_size=0).update({"account": new}, Q["account"] == old)

    # -- Bank Consent ---------------------------------------------------------

    def consents(self) -> list[BankConsent]:
        return self._all("consents", BankConsent)

    def consent(self, name: str) -> BankConsent | None:
        return self._get("consents", BankConsent, name=name)

    def save_consent(self, consent: BankConsent) -> None:
        self._upsert("consents", consent)

    def delete_consent(self, name: str) -> bool:
        with self._meta(write=True) as db:
            return bool(db.table("consents", cache_size=0).remove(Q["name"] == name))

    def update_consent_token(self, name: str, token: str) -> None:
        """Persist a rotated consent token now (atomic write, fsynced): the old
        token is already dead at the portal."""
        with self._meta(write=True) as db:
            table = db.table("consents", cache_size=0)
            if not table.contains(Q["name"] == name):
                raise messages.no_bank_consent(name)
            table.update(
                {"consent_token": self.secrets.encrypt(token) if token else ""}, Q["name"] == name
            )

    # -- reminder mails ---------------------------------------------------------

    def reminders_lock(self) -> AbstractContextManager[None]:
        """Held while a reminder is checked, mailed and noted, so that two daily
        runs at once send one mail; apart from the store lock, which a slow mail
        server must not hold up."""
        return FileLock.for_path(
            self.paths.store_dir / "reminders.lock", "The reminder mail check"
        ).hold()

    def reminder_sent_on(self, consent: str) -> str | None:
        """The day (YYYY-MM-DD) a reminder mail for ``consent`` was last sent."""
        with self._meta(write=False) as db:
            document = db.table("reminders", cache_size=0).get(Q["consent"] == consent)
        return document.get("day") if document else None

    def note_reminder_sent(self, consent: str, day: str) -> None:
        with self._meta(write=True) as db:
            db.table("reminders", cache_size=0).upsert(
                {"consent": consent, "day": day}, Q["consent"] == consent
            )

    # -- Party ----------------------------------------------------------------

    def parties(self) -> list[Party]:
        return self._all("parties", Party)

    def save_party(self, party: Party) -> None:
        with self._meta(write=True) as db:
            db.table("parties", cache_size=0).upsert(
                party.to_dict(), (Q["party_type"] == party.party_type) & (Q["name"] == party.name)
            )

    def delete_party(self, party_type: str, name: str) -> bool:
        with self._meta(write=True) as db:
            removed = db.table("parties", cache_size=0).remove(
                (Q["party_type"] == party_type) & (Q["name"] == name)
            )
        return bool(removed)

    def replace_parties(self, parties: list[Party]) -> None:
        """All parties at once (a CSV import), in one atomic write."""
        with self._meta(write=True) as db:
            table = db.table("parties", cache_size=0)
            table.truncate()
            table.insert_multiple(p.to_dict() for p in parties)

    # -- Link Session ---------------------------------------------------------

    def link_sessions(self, status: str | None = None) -> list[LinkSession]:
        return [
            s
            for s in self._all("link_sessions", LinkSession)
            if status is None or s.status == status
        ]

    def save_link_session(self, session: LinkSession) -> None:
        """Insert or update (matched by session id); keeps the last few closed ones."""
        with self._meta(write=True) as db:
            table = db.table("link_sessions", cache_size=0)
            documents = table.all()
            match = [
                d.doc_id
                for d in documents
                if self._decode(LinkSession, d).session_id == session.session_id
            ]
            if match:
                table.update(self._encode(session), doc_ids=match)
            else:
                table.insert(self._encode(session))
            closed = [d.doc_id for d in table.all() if d.get("status") == "Closed"]
            if len(closed) > CLOSED_LINK_SESSIONS_KEPT:
                table.remove(doc_ids=closed[:-CLOSED_LINK_SESSIONS_KEPT])

    # -- Sync Run ---------------------------------------------------------------

    def add_sync_run(self, run: SyncRun) -> None:
        with self._meta(write=True, file=self.sync_runs_file) as db:
            table = db.table("sync_runs", cache_size=0)
            table.insert(run.to_dict())
            mine = [d.doc_id for d in table.search(Q["account"] == run.account)]
            if len(mine) > SYNC_RUNS_KEPT:
                table.remove(doc_ids=mine[:-SYNC_RUNS_KEPT])

    def sync_runs(self, account: str | None = None, limit: int = 50) -> list[SyncRun]:
        """Newest first."""
        with self._meta(write=False, file=self.sync_runs_file) as db:
            documents = db.table("sync_runs", cache_size=0).all()
        runs = [
            self._decode(SyncRun, d, self.sync_runs_file)
            for d in reversed(documents)
            if account is None or d.get("account") == account
        ]
        return runs[:limit]

    def missing_history(self, account: BankAccount) -> Path | None:
        """The transactions folder of ``account`` when it is gone although earlier syncs
        stored transactions there (a folder deleted by hand); else None."""
        if not account.key:
            return None
        folder = self.book(account).folder
        if folder.exists():
            return None
        if account.last_sync and account.last_sync.new:
            return folder
        runs = self.sync_runs(account.name, limit=SYNC_RUNS_KEPT)
        return folder if any(run.new for run in runs) else None

    def lost_sync_runs(self) -> StoreError | None:
        """Why the Sync Runs cannot be trusted: the file corrupt, or gone although
        accounts were synced; None when they can."""
        try:
            runs = self.sync_runs(limit=10**9)
        except StoreError as exc:
            return exc
        synced = [a.name for a in self.accounts() if a.last_sync and a.last_sync.when]
        recorded = {run.account for run in runs}
        if synced and not self.sync_runs_file.exists():
            return StoreError(
                f"The store file {self.sync_runs_file} is missing although "
                f"{len(synced)} account(s) were synced: their sync history is lost.",
                "Restore it from a backup; the next sync of each account starts a new one.",
            )
        lost = [name for name in synced if name not in recorded]
        if lost and not recorded:
            return StoreError(
                f"The store file {self.sync_runs_file} holds no Sync Run although "
                f"{len(lost)} account(s) were synced: their sync history is lost.",
                "Restore it from a backup; the next sync of each account starts a new one.",
            )
        return None

    # -- Bank Transactions --------------------------------------------------------

    def book(self, account: BankAccount) -> TransactionBook:
        """The transactions of one account (found by its stable key)."""
        key = account.key
        if not key:
            stored = self.account(account.name)
            if stored is None or not stored.key:
                raise messages.no_bank_account(account.name, [a.name for a in self.accounts()])
            key = stored.key
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = TransactionBook(
                self.transactions_dir / key, account.name, self.locked
            )
        book.account_name = account.name
        return book

"""The records of the local store, named after their ERPNext doctypes.

Records hold secrets in clear text in memory only; the store encrypts the
fields listed in ``SECRET_FIELDS`` before anything reaches a file.
Money is integer minor units plus a currency code (see ``money``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Self

DEMO_COMPANY = "Demo Company"


class RecordValueError(ValueError):
    """A stored field holds the wrong kind of value; says which and what it holds."""


# The annotations used below (strings: ``from __future__ import annotations``) and
# what a stored value must be for each; a file edited by hand must not become a
# TypeError deep inside a command.
_KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "str": ("a text", lambda v: type(v) is str),
    "bool": ("true or false", lambda v: type(v) is bool),
    "int": ("a whole number", lambda v: type(v) is int),
    "int | None": ("a whole number or null", lambda v: v is None or type(v) is int),
    "dict[str, Any]": ("an object", lambda v: type(v) is dict),
    "dict[str, Any] | None": ("an object or null", lambda v: v is None or type(v) is dict),
    "list[str]": ("a list of texts", lambda v: type(v) is list and all(type(i) is str for i in v)),
}
_MMDD = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")


class Record:
    """Dict round-trip for the dataclasses below; unknown keys are ignored, a known
    key with a value of the wrong kind is a RecordValueError."""

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ()
    # fields holding a record of their own, stored as an object ({} when there is none)
    NESTED: ClassVar[dict[str, type[Record]]] = {}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)  # type: ignore[call-overload]
        for name in self.NESTED:
            if data[name] is None:
                data[name] = {}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        values = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                continue
            value = data[f.name]
            nested = cls.NESTED.get(f.name)
            if nested is not None:
                if type(value) is not dict:
                    raise RecordValueError(f"{f.name} is {_shown(value)}, not an object")
                values[f.name] = nested.from_dict(value) if value else None
                continue
            kind = _KINDS.get(str(f.type))
            if kind is not None and not kind[1](value):
                raise RecordValueError(f"{f.name} is {_shown(value)}, not {kind[0]}")
            values[f.name] = value
        record = cls(**values)
        record.check()
        return record

    def check(self) -> None:
        """Rules beyond the kinds of the fields (a RecordValueError when broken)."""

    def public_dict(self) -> dict[str, Any]:
        """The record without its secrets, for JSON output."""
        data = self.to_dict()
        for name in self.SECRET_FIELDS:
            data.pop(name, None)
        return data


@dataclass
class BankingSettings(Record):
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_token", "smtp_password")

    enabled: bool = False
    admin_url: str = ""
    customer_id: str = ""
    api_token: str = ""
    use_test_environment: bool = False
    enable_party_matching: bool = False
    enable_fuzzy_matching: bool = False
    reminder_days: int = 7
    lookback_days: int = 7
    erpnext_auto_push: bool = False
    # reminders by mail (DESIGN 8): recipients, and SMTP or the local sendmail
    mail_to: list[str] = field(default_factory=list)
    mail_from: str = ""
    mail_transport: str = ""  # smtp | sendmail | "" (no mail)
    smtp_host: str = ""
    smtp_port: int = 0  # 0: the security's usual port (587, 465, 25)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"  # starttls | ssl | none

    def check(self) -> None:
        for name in ("reminder_days", "lookback_days"):
            if not 0 <= getattr(self, name) <= 365:
                raise RecordValueError(f"{name} is {getattr(self, name)}, not 0 to 365")

    @property
    def demo(self) -> bool:
        """No admin URL: the embedded Demo Bank portal is used."""
        return not self.admin_url

    @property
    def effectively_enabled(self) -> bool:
        """Demo mode counts as enabled (DESIGN 2)."""
        return self.demo or self.enabled

    def masked_token(self) -> str:
        if not self.api_token:
            return ""
        return "•" * 8 + self.api_token[-4:] if len(self.api_token) > 8 else "•" * 8


@dataclass
class Company(Record):
    name: str
    country: str = "DE"
    fiscal_year_start: str = "01-01"
    default_currency: str = "EUR"

    def check(self) -> None:
        if not _MMDD.fullmatch(self.fiscal_year_start):
            raise RecordValueError(
                f"fiscal_year_start of {_shown(self.name)} is "
                f"{_shown(self.fiscal_year_start)}, not MM-DD"
            )


@dataclass
class Bank(Record):
    name: str
    swift_number: str = ""
    bank_code: str = ""
    country_code: str = ""


@dataclass
class Balance(Record):
    available: int | None = None
    booked: int | None = None
    currency: str = ""
    date: str = ""

    @property
    def shown(self) -> int | None:
        """The amount to show: booked, else available (None when the bank gave neither)."""
        return self.booked if self.booked is not None else self.available


@dataclass
class LastSync(Record):
    when: str = ""
    outcome: str = ""  # ok | failed | refused
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    matched: int = 0
    error: dict[str, Any] | None = None
    unattended: bool = False
    read_through: str = ""  # the last day whose transactions were all read
    stopped: str = ""  # "stopped at D: why; the next sync continues from there"


@dataclass
class BankAccount(Record):
    NESTED: ClassVar[dict[str, type[Record]]] = {"balance": Balance, "last_sync": LastSync}

    name: str  # "alias (holder)"
    bank: str
    company: str
    iban: str = ""
    bank_account_no: str = ""
    branch_code: str = ""
    kosma_account_id: str = ""
    currency: str = "EUR"
    account_type: str = ""
    last_integration_date: str = ""  # YYYY-MM-DD
    # stored as the records' objects, {} while there is none (None here)
    balance: Balance | None = None
    last_sync: LastSync | None = None
    erpnext_bank_account: str = ""
    # a disabled account is kept but not synced by "sync all" and not counted by status
    enabled: bool = True
    # balance continuity (sync/balance_check): the anchor of the first sync, the last check
    opening_balance: dict[str, Any] = field(default_factory=dict)
    balance_check: dict[str, Any] = field(default_factory=dict)
    # the stored settled transactions' sum and the book it was taken over (incremental)
    settled: dict[str, Any] = field(default_factory=dict)
    # the days read, as merged {"from", "to"} ranges (sync/coverage)
    coverage: list[dict[str, str]] = field(default_factory=list)
    # stable key for the transaction files of this account (never renamed)
    key: str = ""


@dataclass
class BankConsent(Record):
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("consent_token", "session_id")

    name: str  # "{bank}-{company}"
    bank: str
    company: str
    consent_id: str = ""
    consent_start: str = ""  # YYYY-MM-DD
    consent_expiry: str = ""  # ISO datetime with offset
    consent_token: str = ""
    session_id: str = ""

    @staticmethod
    def name_for(bank: str, company: str) -> str:
        return f"{bank}-{company}"


@dataclass
class Party(Record):
    party_type: str  # Customer | Supplier | Employee
    name: str
    ibans: list[str] = field(default_factory=list)
    account_numbers: list[str] = field(default_factory=list)


@dataclass
class LinkSession(Record):
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("session_id",)

    session_id: str
    session_id_short: str = ""
    flow_id: str = ""
    status: str = "Running"  # Running | Closed
    started: str = ""


@dataclass
class SyncRun(Record):
    account: str
    started: str = ""
    finished: str = ""
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped_duplicate: int = 0
    skipped_pending: int = 0
    skipped_cancelled: int = 0
    matched: int = 0
    status: str = ""  # ok | failed | refused
    error: dict[str, Any] | None = None
    unattended: bool = False
    # the days this run read whole (YYYY-MM-DD, empty when none): what coverage is made of
    read_from: str = ""
    read_through: str = ""
    last_integration_date: str = ""  # after the run
    stopped: str = ""  # an early stop that kept its progress, said where and why


@dataclass
class ErpnextConnection(Record):
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_secret",)

    url: str = ""
    api_key: str = ""
    api_secret: str = ""
    site: str = ""
    # gunicorn's --timeout on the ERPNext server: how long a request may still be
    # running there after its client is gone (the push waits that long before it
    # sends again what may have been committed).
    server_timeout: int = 120
    # DESIGN's auto_push is the Banking Settings switch erpnext_auto_push (one place, read
    # by every sync); ``erpnext status --json`` reports it as "auto_push".


def _shown(value: Any) -> str:
    """A stored value named in a message: short, and quoted when text."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


# Bank Transaction rows are plain dicts (there can be 100,000 of them per
# account); these are their fields, in the order exports use.
TRANSACTION_FIELDS: tuple[str, ...] = (
    "bank_account",
    "date",
    "deposit",
    "withdrawal",
    "currency",
    "transaction_id",
    "reference_number",
    "description",
    "bank_party_name",
    "bank_party_iban",
    "bank_party_account_number",
    "status",
    "party_type",
    "party",
    "erpnext_name",
    "raw",
)
TRANSACTION_STATUSES = ("Pending", "Settled", "Cancelled")

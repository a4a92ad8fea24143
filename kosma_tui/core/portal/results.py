"""The results of the portal's calls, as typed records (PROTOCOL's objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


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

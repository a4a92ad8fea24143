"""Protocol Transaction -> Bank Transaction row (see INTERFACES "Transaction row")."""

from __future__ import annotations

from datetime import date
from typing import Any

from kosma_tui.core.errors import PortalProtocolError

STATUS_BY_STATE: dict[str, str] = {
    "PENDING": "Pending",
    "PROCESSED": "Settled",
    "CANCELED": "Cancelled",
    "FAILED": "Cancelled",
}

# A stored status may only move forward: Pending settles or is cancelled, and a
# settled transaction the bank reverses is cancelled. Never back to Pending, and
# a cancelled one never comes back to life as a new money movement.
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {("Pending", "Settled"), ("Pending", "Cancelled"), ("Settled", "Cancelled")}
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def status_of(tx: dict[str, Any]) -> str:
    state = tx.get("state")
    status = STATUS_BY_STATE.get(state) if isinstance(state, str) else None
    if status is None:
        raise PortalProtocolError(
            f"transaction {_text(tx.get('transaction_id')) or 'without id'} has state {state!r}"
        )
    return status


# Calendar days already checked (a page of 1000 rows holds a handful of dates),
# and the two "no date" values, so that a row's three dates are one lookup each.
_ABSENT_DAY: tuple[None, str] = (None, "")
_DAYS: set[str | None] = set(_ABSENT_DAY)
_DATE_FIELDS = ("value_date", "booking_date", "date")


def calendar_day(value: Any) -> str | None:
    """``YYYY-MM-DD`` of a real calendar date (or of an ISO datetime), else None.

    Exactly that shape: ``date.fromisoformat`` alone also takes ``20261101``
    and ``2026-W44-7``; ``2026-11-31`` and ``2026-11-00`` are no days at all.
    """
    if type(value) is not str or len(value) < 10:
        return None
    day = value[:10]
    if day in _DAYS:
        return day if len(value) == 10 or value[10] in "T " else None
    if day[4] != "-" or day[7] != "-" or not (day[:4] + day[5:7] + day[8:]).isdigit():
        return None
    if len(value) > 10 and value[10] not in "T ":
        return None
    try:
        date.fromisoformat(day)
    except ValueError:
        return None
    if len(_DAYS) > 100_000:
        _DAYS.clear()
        _DAYS.update(_ABSENT_DAY)
    _DAYS.add(day)
    return day


def booked_on(tx: dict[str, Any]) -> str | None:
    """The booking date of a protocol Transaction (``date`` is its old alias), if valid."""
    return calendar_day(tx.get("booking_date") or tx.get("date"))


_EMPTY: dict[str, Any] = {}
_TEXT_FIELDS = (
    "reference_number",
    "description",
    "bank_party_name",
    "bank_party_iban",
    "bank_party_account_number",
    "transaction_id",
)


def to_row(tx: dict[str, Any], account: str, status: str | None = None) -> dict[str, Any]:
    """The Bank Transaction row for one protocol Transaction of ``account``.

    Raises PortalProtocolError for a transaction that cannot be booked (no
    amount, no date, unknown type): a malformed response stops the sync.
    Written for speed (100,000 rows per first sync): exact type checks, one
    dict literal, the slow path only for unusual data.
    """
    if type(tx) is not dict:
        raise PortalProtocolError("a transaction is not an object")
    amount = tx.get("amount")
    if type(amount) is not dict:
        raise PortalProtocolError(f"transaction {_id(tx)} has no valid amount")
    minor = amount.get("amount")
    currency = amount.get("currency")
    if type(minor) is not int or minor < 0 or type(currency) is not str or not currency:
        raise PortalProtocolError(f"transaction {_id(tx)} has no valid amount")
    kind = tx.get("type")
    if kind == "CREDIT":
        deposit, withdrawal = minor, 0
    elif kind == "DEBIT":
        deposit, withdrawal = 0, minor
    else:
        raise PortalProtocolError(f"transaction {_id(tx)} has type {kind!r}")
    value_date, booking_date, alias = tx.get("value_date"), tx.get("booking_date"), tx.get("date")
    try:  # the common case: days seen before (or absent), one set lookup each
        known = value_date in _DAYS and booking_date in _DAYS and alias in _DAYS
    except TypeError:  # an unhashable value: the slow path names it
        known = False
    day = (value_date or booking_date or alias) if known else _checked_day(tx)
    if not day:
        raise PortalProtocolError(f"transaction {_id(tx)} has no date")
    refs = tx.get("bank_references") or _EMPTY
    party = tx.get("counter_party") or _EMPTY
    if type(refs) is not dict:
        refs = _EMPTY
    if type(party) is not dict:
        party = _EMPTY
    row = {
        "bank_account": account,
        "date": day,
        "deposit": deposit,
        "withdrawal": withdrawal,
        "currency": currency,
        "transaction_id": tx.get("transaction_id") or "",
        "reference_number": refs.get("end_to_end") or "",
        "description": tx.get("reference") or "",
        "bank_party_name": party.get("holder_name") or "",
        "bank_party_iban": party.get("iban") or "",
        "bank_party_account_number": party.get("account_number") or "",
        "status": status or status_of(tx),
        "party_type": "",
        "party": "",
        "erpnext_name": "",
        "raw": tx,
    }
    for name in _TEXT_FIELDS:
        if type(row[name]) is not str:
            row[name] = _text(row[name])
    return row


def _checked_day(tx: dict[str, Any]) -> str | None:
    """The row's date (value date, else booking date); every date the bank sent must
    be a real day, else PortalProtocolError naming the transaction and the field."""
    day = None
    for name in _DATE_FIELDS:
        value = tx.get(name)
        if value is None or value == "":
            continue
        checked = calendar_day(value)
        if checked is None:
            raise PortalProtocolError(
                f"transaction {_id(tx)} has {name} {_text(value)!r}, which is not a calendar "
                "date (YYYY-MM-DD)"
            )
        day = day or checked
    return day


def _id(tx: dict[str, Any]) -> str:
    return _text(tx.get("transaction_id")) or "without id"

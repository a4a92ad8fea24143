"""Protocol Transaction -> Bank Transaction row (see INTERFACES "Transaction row")."""

from __future__ import annotations

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


def to_row(tx: dict[str, Any], account: str, status: str | None = None) -> dict[str, Any]:
    """The Bank Transaction row for one protocol Transaction of ``account``.

    Raises PortalProtocolError for a transaction that cannot be booked (no
    amount, no date, unknown type): a malformed response stops the sync.
    """
    if not isinstance(tx, dict):
        raise PortalProtocolError("a transaction is not an object")
    amount = tx.get("amount")
    minor = amount.get("amount") if isinstance(amount, dict) else None
    currency = amount.get("currency") if isinstance(amount, dict) else None
    tid = _text(tx.get("transaction_id"))
    if not isinstance(minor, int) or isinstance(minor, bool) or minor < 0 \
            or not isinstance(currency, str) or not currency:
        raise PortalProtocolError(f"transaction {tid or 'without id'} has no valid amount")
    kind = tx.get("type")
    if kind not in ("CREDIT", "DEBIT"):
        raise PortalProtocolError(f"transaction {tid or 'without id'} has type {kind!r}")
    day = tx.get("value_date") or tx.get("booking_date") or tx.get("date")
    if not isinstance(day, str) or len(day) < 10:
        raise PortalProtocolError(f"transaction {tid or 'without id'} has no date")
    refs = tx.get("bank_references")
    party = tx.get("counter_party")
    refs = refs if isinstance(refs, dict) else {}
    party = party if isinstance(party, dict) else {}
    return {
        "bank_account": account,
        "date": day[:10],
        "deposit": minor if kind == "CREDIT" else 0,
        "withdrawal": minor if kind == "DEBIT" else 0,
        "currency": currency,
        "transaction_id": tid,
        "reference_number": _text(refs.get("end_to_end")),
        "description": _text(tx.get("reference")),
        "bank_party_name": _text(party.get("holder_name")),
        "bank_party_iban": _text(party.get("iban")),
        "bank_party_account_number": _text(party.get("account_number")),
        "status": status or status_of(tx),
        "party_type": "",
        "party": "",
        "erpnext_name": "",
        "raw": tx,
    }

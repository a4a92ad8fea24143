"""Balance continuity (DESIGN 8): do the stored transactions add up to the bank's balance?

The first sync of an account anchors an opening balance: the booked balance
the bank reports minus the sum of the stored settled transactions. Every
later sync expects the anchor plus the stored settled transactions to equal
the booked balance the bank reports. A transaction the bank lists late, a
lost page or a duplicate shows as a difference; it clears by itself once the
missing booking is stored (the lookback re-reads it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kosma_tui.core.records import BankAccount

OK, MISMATCH, UNKNOWN = "ok", "mismatch", "unknown"


def settled_total(rows: Iterable[dict[str, Any]]) -> int:
    """Deposits minus withdrawals of the Settled rows, in minor units."""
    total = 0
    for row in rows:
        if row.get("status") == "Settled":
            total += (row.get("deposit") or 0) - (row.get("withdrawal") or 0)
    return total


def unknown() -> dict[str, Any]:
    return {"status": UNKNOWN, "expected": None, "reported": None, "difference": None,
            "as_of": None}


def assess(account: BankAccount, balance: dict[str, Any], settled: int) -> dict[str, Any]:
    """The account fields after a complete sync: ``balance_check``, and
    ``opening_balance`` when this sync anchors it (first sync, or a currency change)."""
    booked, currency = balance.get("booked"), balance.get("currency") or account.currency
    as_of = balance.get("date") or None
    if type(booked) is not int:  # the bank reports no booked balance: nothing to check
        return {"balance_check": unknown()}
    fields: dict[str, Any] = {}
    anchor = account.opening_balance
    if not anchor or anchor.get("currency") != currency:
        anchor = {"amount": booked - settled, "currency": currency, "as_of": as_of}
        fields["opening_balance"] = anchor
    expected = anchor["amount"] + settled
    difference = booked - expected
    fields["balance_check"] = {
        "status": OK if difference == 0 else MISMATCH,
        "expected": expected,
        "reported": booked,
        "difference": difference,
        "as_of": as_of,
    }
    return fields


def as_json(account: BankAccount) -> dict[str, Any]:
    """``balance_check`` of ``status --json``: unknown until a sync has checked."""
    check = account.balance_check
    return {**unknown(), **check} if check else unknown()


def is_mismatch(account: BankAccount) -> bool:
    return (account.balance_check or {}).get("status") == MISMATCH

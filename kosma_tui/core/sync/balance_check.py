"""Balance continuity (DESIGN 8): do the stored transactions add up to the bank's balance?

The first sync of an account anchors an opening balance: the booked balance
the bank reports minus the sum of the stored settled transactions. Every
later sync expects the anchor plus the stored settled transactions to equal
the booked balance the bank reports. A transaction the bank lists late, a
lost page or a duplicate shows as a difference; it clears by itself once the
missing booking is stored (the lookback re-reads it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kosma_tui.core.records import Balance, BankAccount

OK, MISMATCH, UNKNOWN = "ok", "mismatch", "unknown"


def settled_total(rows: Iterable[dict[str, Any]]) -> int:
    """Deposits minus withdrawals of the Settled rows, in minor units."""
    total = 0
    for row in rows:
        if row.get("status") == "Settled":
            total += (row.get("deposit") or 0) - (row.get("withdrawal") or 0)
    return total


def signed(tx: dict[str, Any]) -> int:
    """A provider transaction's amount, deposits positive (0 when unreadable: a change of
    status never carries an amount the row did not already have)."""
    amount = (tx.get("amount") or {}).get("amount") if isinstance(tx, dict) else None
    if type(amount) is not int:
        return 0
    return amount if tx.get("type") == "CREDIT" else -amount


def status_delta(before: str, after: str, tx: dict[str, Any]) -> int:
    """How a stored row's change of status moves the settled total."""
    if after == "Settled" and before != "Settled":
        return signed(tx)
    if before == "Settled" and after != "Settled":
        return -signed(tx)
    return 0


def fingerprint(statuses: dict[str, str]) -> list[int]:
    """[rows, settled rows] of a book (transaction_id -> status): what a stored settled
    total was taken over. A sync killed between its writes and the account's update
    changes it, and the total is then summed again from the rows."""
    settled = 0
    for status in statuses.values():
        if status == "Settled":
            settled += 1
    return [len(statuses), settled]


def settled_after(
    account: BankAccount,
    before: list[int],
    after: list[int],
    delta: int,
    rows: Callable[[], Iterable[dict[str, Any]]],
) -> dict[str, Any]:
    """The settled total after a complete sync, as the account's ``settled`` record.

    Incremental (the total the last sync left plus what this one changed) when the
    book is still as that sync left it; summed from every row otherwise. The sum of
    100,000 rows costs half a second, the increment nothing.
    """
    kept = account.settled or {}
    if before == [0, 0]:
        base: int | None = 0  # an empty book: nothing to sum
    elif kept.get("fingerprint") == before and type(kept.get("total")) is int:
        base = kept["total"]
    else:
        base = None
    total = base + delta if base is not None else settled_total(rows())
    return {"total": total, "fingerprint": after}


def unknown() -> dict[str, Any]:
    return {
        "status": UNKNOWN,
        "expected": None,
        "reported": None,
        "difference": None,
        "as_of": None,
    }


def assess(
    account: BankAccount, balance: Balance, settled: int, *, reanchor: bool = False
) -> dict[str, Any]:
    """The account fields after a complete sync: ``balance_check``, and
    ``opening_balance`` when this sync anchors it: the first sync, a currency change,
    or ``reanchor``, a sync after an accepted gap (whose bookings can never arrive:
    the gap is recorded in the coverage instead of a mismatch that never clears)."""
    booked, currency = balance.booked, balance.currency or account.currency
    as_of = balance.date or None
    if type(booked) is not int:  # the bank reports no booked balance: nothing to check
        return {"balance_check": unknown()}
    fields: dict[str, Any] = {}
    anchor = account.opening_balance
    if reanchor or not anchor or anchor.get("currency") != currency:
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

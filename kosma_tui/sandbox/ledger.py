"""Balances consistent with the transactions, and the ``late-booking`` user's late one.

An account's booked balance on day T is its opening amount plus the sum of its
PROCESSED transactions up to T (PROTOCOL v1.1): a transaction counts once it
is no longer pending (from ``PENDING_DAYS`` after its booking date), a late
booking from its booking date on, whether it is listed yet or not. Pending
transactions move only the available balance.

"Up to T" has no beginning in a bank that has transactions on every past day,
so the opening amount is pinned in the state file the first time the portal
shows an account (its date and booked amount, per IBAN); every later balance
is that amount moved by the transactions between the two dates. Costs the
days between, not the account's whole past.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import kosma_tui.sandbox.data as data

LATE_LISTED_AFTER_DAYS = 3  # a late booking is listed from the third day after it on
OVERDRAFT = 200_000  # DEFAULT accounts: a 2,000.00 overdraft line
CARD_LIMIT = 500_000  # CREDITCARD accounts: a 5,000.00 limit
_LATE_SEARCH_DAYS = 366


@lru_cache(maxsize=65_536)
def _day_totals(account: data.DemoAccount, ordinal: int) -> tuple[int, int]:
    """(sum of the settled-as-PROCESSED amounts, sum of all amounts) of one day."""
    processed = everything = 0
    for amount, state in data.signed_amounts(account, ordinal):
        everything += amount
        if state == "PROCESSED":
            processed += amount
    return processed, everything


def late_booking(account: data.DemoAccount, first_read: date) -> tuple[int, int, int] | None:
    """(day ordinal, number, signed amount) of the first transaction that settles as
    PROCESSED booked after ``first_read``: the one the bank lists late."""
    for ordinal in range(
        first_read.toordinal() + 1, first_read.toordinal() + 1 + _LATE_SEARCH_DAYS
    ):
        for number, (amount, state) in enumerate(data.signed_amounts(account, ordinal)):
            if state == "PROCESSED":
                return ordinal, number, amount
    return None


def hidden(late: tuple[int, int, int] | None, today: date) -> tuple[int, int] | None:
    """The late booking while it is not listed yet, else None."""
    if late is None or today.toordinal() >= late[0] + LATE_LISTED_AFTER_DAYS:
        return None
    return late[0], late[1]


def _settled_through(account: data.DemoAccount, day: date) -> int:
    # the last day whose transactions are no longer pending on ``day``
    return day.toordinal() - data.PENDING_DAYS


def _early(late: tuple[int, int, int] | None, day: date) -> int:
    """The late booking's amount while the booked balance holds it before the
    normal settling would (its booking date up to its PENDING_DAYS)."""
    if late is None:
        return 0
    ordinal = day.toordinal()
    return late[2] if late[0] <= ordinal < late[0] + data.PENDING_DAYS else 0


def _moved(account: data.DemoAccount, since: date, until: date) -> int:
    """Sum of what settled after ``since`` up to ``until`` (negative backwards)."""
    low, high = _settled_through(account, since), _settled_through(account, until)
    sign = 1
    if high < low:
        low, high, sign = high, low, -1
    return sign * sum(_day_totals(account, o)[0] for o in range(low + 1, high + 1))


def booked(
    state: dict[str, Any],
    account: data.DemoAccount,
    today: date,
    late: tuple[int, int, int] | None = None,
) -> int:
    """The booked balance on ``today`` (pins the opening amount on first use)."""
    pinned = state.setdefault("balances", {}).get(account.iban)
    if pinned is None:
        pinned = state["balances"][account.iban] = {
            "date": today.isoformat(),
            "booked": data.opening_balance(account),
        }
    since = date.fromisoformat(pinned["date"])
    return pinned["booked"] + _moved(account, since, today) + _early(late, today)


def balances(
    state: dict[str, Any],
    account: data.DemoAccount,
    today: date,
    late: tuple[int, int, int] | None = None,
) -> tuple[int, int]:
    """(available, booked) on ``today``: available adds the pending transactions
    and the account's credit line."""
    booked_amount = booked(state, account, today, late)
    pending = 0
    for back in range(data.PENDING_DAYS):
        ordinal = (today - timedelta(days=back)).toordinal()
        pending += _day_totals(account, ordinal)[1]
    pending -= _early(late, today)  # already in the booked balance
    line = {"DEFAULT": OVERDRAFT, "CREDITCARD": CARD_LIMIT}.get(account.account_type, 0)
    return booked_amount + pending + line, booked_amount

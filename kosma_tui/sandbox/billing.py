"""The plan's usage: transactions delivered per customer and billing period (a month)."""

from __future__ import annotations

from datetime import date
from typing import Any


def usage(state: dict[str, Any], customer: str, today: date) -> dict[str, Any]:
    """The customer's usage record for the billing period of ``today`` (a calendar month);
    a new period starts at zero."""
    period = today.strftime("%Y-%m")
    record = state["usage"].get(customer)
    if record is None or record["period"] != period:
        record = {"period": period, "count": 0}
        state["usage"][customer] = record
    return record

"""The app's notion of "now".

Everything that depends on the date (days left of a consent, the default
Start Date, the daily job) asks this module, so tests, screenshots and time
travel against the Demo Bank portal can move the clock with
``KOSMA_TUI_NOW=2026-11-26T09:00:00+01:00`` (or a plain ``YYYY-MM-DD``).
"""

from __future__ import annotations

import os
from datetime import date, datetime, time

NOW_ENV = "KOSMA_TUI_NOW"


def now() -> datetime:
    """Timezone-aware local now (or the frozen instant from ``KOSMA_TUI_NOW``)."""
    frozen = os.environ.get(NOW_ENV)
    if frozen:
        try:
            if len(frozen) == 10:
                value = datetime.combine(date.fromisoformat(frozen), time(9, 0))
            else:
                value = datetime.fromisoformat(frozen)
        except ValueError:
            value = None
        if value is not None:
            return value if value.tzinfo else value.astimezone()
    return datetime.now().astimezone()


def today() -> date:
    return now().date()


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the machine's local time zone."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(now().tzinfo).date()


def days_left(expiry: datetime, on: date | None = None) -> int:
    """Calendar days from today to the expiry's date, in local time (DESIGN 2)."""
    return (local_date(expiry) - (on or today())).days

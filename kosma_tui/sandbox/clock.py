"""The portal's "now", movable for time travel.

With ``today`` set, the portal lives on that date while its clock keeps the
real local time of day: consent expiry, session timeouts, new transactions,
pending -> settled and the unattended-call day all follow it. With ``today``
None the real local date is read on every request.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


class PortalClock:
    def __init__(self, today: date | None = None) -> None:
        self.fixed_today = today

    def now(self) -> datetime:
        """Timezone-aware local now on the portal's date."""
        real = datetime.now()
        if self.fixed_today is None:
            return real.astimezone()
        return datetime.combine(self.fixed_today, real.time()).astimezone()

    def today(self) -> date:
        return self.fixed_today if self.fixed_today is not None else date.today()

    def utc_day(self) -> str:
        """The UTC day the unattended-call limit counts in."""
        return self.now().astimezone(UTC).date().isoformat()


def parse_moment(text: str) -> datetime:
    return datetime.fromisoformat(text)

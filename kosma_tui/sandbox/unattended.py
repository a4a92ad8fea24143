"""The unattended limit: at most 4 unattended calls per account, data type and UTC day.

An attended call (the admin is present: an ``ip_address`` sent) is never
counted. The counters live in the state file and are dropped on a new UTC day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kosma_tui.sandbox.call import Call
from kosma_tui.sandbox.errors import PortalFailure

UNATTENDED_LIMIT = 4


class Unattended:
    """The counters of one call, for the UTC day ``day``."""

    def __init__(self, state: dict[str, Any], call: Call, day: str) -> None:
        self.counters: dict[str, int] = state["unattended"]
        self.attended = call.attended
        self.day = day
        for key in [k for k in self.counters if not k.startswith(self.day)]:
            del self.counters[key]

    def check(self, consent_id: str, account: str, kind: str) -> Callable[[], None]:
        """Refuses an over-limit call; returns the function that counts a successful one."""
        if self.attended:
            return lambda: None
        key = f"{self.day}|{consent_id}|{account}|{kind}"
        if self.counters.get(key, 0) >= UNATTENDED_LIMIT:
            raise PortalFailure(
                "CONSENT.LIMIT_EXCEEDED",
                f"More than {UNATTENDED_LIMIT} unattended {kind} calls for this account today "
                "(UTC); try again tomorrow or from an attended session.",
            )

        def count() -> None:
            self.counters[key] = self.counters.get(key, 0) + 1

        return count

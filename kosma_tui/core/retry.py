"""One retry policy for every remote call: the banking portal, ERPNext, the push.

A failed attempt is tried again after a wait drawn with full jitter: uniformly
between 0 and ``backoff * 2**attempt`` (capped at ``max_backoff``), so clients
that failed together do not come back together. A server's ``Retry-After``
(delta-seconds or an HTTP-date) replaces the draw, capped at
``max_retry_after`` so a header cannot park the app for an hour. A policy may
carry a ``budget`` for a call with its retries: no retry starts that could end
after it.

Which failures are worth retrying is the caller's knowledge (a lost POST is
not, a 429 is); this module only says whether another attempt is left and how
long to wait first. The clocks, the sleeps and the jitter draw come from a
``Clock``, so tests run every wait on a fake clock without sleeping.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC


@dataclass(frozen=True)
class Clock:
    """Where time comes from and how it passes (sync and async)."""

    monotonic: Callable[[], float] = time.monotonic  # budgets
    wall: Callable[[], float] = time.time  # an HTTP-date Retry-After
    sleep: Callable[[float], None] = time.sleep
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep
    draw: Callable[[float, float], float] = random.uniform  # the jitter


REAL_CLOCK = Clock()


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` in seconds from ``now`` (a wall-clock timestamp).

    Delta-seconds or an HTTP-date; a date in the past is 0; None when the
    header is absent or unreadable (the backoff then decides).
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # nan and inf parse as floats but say nothing about when to come back
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": RFC 9110 dates are GMT whatever they say
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` attempts after the first, their waits, and the optional budget."""

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0
    budget: float | None = None
    clock: Clock = field(default=REAL_CLOCK, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait after failed attempt number ``attempt`` (0 for the first)."""
        if retry_after is not None:
            return min(max(0.0, retry_after), self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * 2 ** min(attempt, 64))
        return self.clock.draw(0.0, ceiling)

    def retry_after(self, header: str | None) -> float | None:
        """A ``Retry-After`` header read against this policy's wall clock."""
        return parse_retry_after(header, self.clock.wall())

    def start(self, retries: int | None = None, *, budgeted: bool = True) -> Attempts:
        """The attempts of one call; ``retries`` overrides the policy's count."""
        return Attempts(self, self.retries if retries is None else retries, budgeted)


class Attempts:
    """One call's attempts under a policy: ask ``next_delay`` after each failure."""

    def __init__(self, policy: RetryPolicy, retries: int, budgeted: bool) -> None:
        self.policy = policy
        self.limit = max(0, retries)
        self.attempt = 0  # failed attempts so far
        budget = policy.budget if budgeted else None
        self.give_up = None if budget is None else policy.clock.monotonic() + budget

    def next_delay(self, retry_after: float | None = None, *, then: float = 0.0) -> float | None:
        """The wait before the next attempt, or None to give up.

        None when no retry is left, or when the wait and ``then`` more seconds
        (the longest the next attempt may take) would end after the budget.
        """
        if self.attempt >= self.limit:
            return None
        delay = self.policy.delay(self.attempt, retry_after)
        if self.give_up is not None and self.policy.clock.monotonic() + delay + then > self.give_up:
            return None
        return delay

    def sleep(self, delay: float) -> None:
        self.attempt += 1
        self.policy.clock.sleep(delay)

    async def pause(self, delay: float) -> None:
        self.attempt += 1
        await self.policy.clock.pause(delay)

"""A fake clock for the retry policy (``kosma_tui.core.retry.Clock``).

Time passes only when the code under test waits, and every wait is recorded,
so retry tests assert the waits themselves instead of sleeping through them.
The jitter draw returns ``fraction`` of its upper bound (the whole of it
unless told), so a backoff sequence is exact.
"""

from __future__ import annotations

import asyncio

from kosma_tui.core.retry import Clock

# 2026-11-26 08:00:00 UTC: an HTTP-date Retry-After is read against this
WALL_START = 1_795_680_000.0


class FakeClock:
    def __init__(self, *, fraction: float = 1.0) -> None:
        self.now = 100.0  # monotonic seconds
        self.waits: list[float] = []
        self.draws: list[tuple[float, float]] = []
        self.fraction = fraction

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return WALL_START + self.now

    def advance(self, seconds: float) -> None:
        """Time spent doing something other than waiting (an exchange, say)."""
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    async def pause(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # still a suspension point, as the real one is

    def draw(self, low: float, high: float) -> float:
        self.draws.append((low, high))
        return low + (high - low) * self.fraction

    @property
    def clock(self) -> Clock:
        return Clock(
            monotonic=self.monotonic,
            wall=self.wall,
            sleep=self.sleep,
            pause=self.pause,
            draw=self.draw,
        )

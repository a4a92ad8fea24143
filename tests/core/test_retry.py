"""The one retry policy, on a fake clock: nothing here sleeps."""

from __future__ import annotations

import email.utils

import pytest
from clock_support import WALL_START, FakeClock

from kosma_tui.core.retry import RetryPolicy, parse_retry_after


def policy(fake: FakeClock, **options: float | int | None) -> RetryPolicy:
    return RetryPolicy(clock=fake.clock, **options)  # type: ignore[arg-type]


def test_the_backoff_doubles_per_attempt_up_to_its_cap_then_gives_up() -> None:
    fake = FakeClock()
    attempts = policy(fake, retries=6, backoff=0.5, max_backoff=3.0).start()
    while (delay := attempts.next_delay()) is not None:
        attempts.sleep(delay)
    assert fake.waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert attempts.attempt == 6  # six retries: seven attempts in all
    assert fake.now == 100.0 + sum(fake.waits)


def test_the_jitter_is_full_between_zero_and_the_backoff() -> None:
    real_draw = RetryPolicy(backoff=0.5, max_backoff=30.0)
    for attempt, ceiling in [(0, 0.5), (2, 2.0), (9, 30.0)]:
        delays = [real_draw.delay(attempt) for _ in range(2000)]
        assert all(0.0 <= d <= ceiling for d in delays)
        # spread over the whole range, not bunched at the top ("base + jitter")
        assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9


def test_a_huge_attempt_number_stays_at_the_cap() -> None:
    fake = FakeClock()
    assert policy(fake, max_backoff=30.0).delay(10_000) == 30.0


def test_retries_zero_means_one_attempt() -> None:
    fake = FakeClock()
    assert policy(fake, retries=3).start(retries=0).next_delay() is None
    assert policy(fake, retries=-2).start().next_delay() is None
    assert fake.draws == []


def test_no_retry_starts_that_could_end_after_the_budget() -> None:
    fake = FakeClock()
    attempts = policy(fake, retries=10, backoff=1.0, budget=20.0).start()
    tried = 0
    while True:
        tried += 1
        fake.advance(5.0)  # each attempt takes 5 s
        delay = attempts.next_delay(then=5.0)
        if delay is None:
            break
        attempts.sleep(delay)
    # 5 + 1 | 5 + 2 | 5: the next would wait 4 and run 5, ending at 27 > 20
    assert tried == 3 and fake.waits == [1.0, 2.0]
    assert fake.now - 100.0 == 18.0


def test_an_unbudgeted_start_ignores_the_budget() -> None:
    fake = FakeClock()
    attempts = policy(fake, retries=2, budget=0.0).start(budgeted=False)
    assert attempts.next_delay(then=100.0) == 0.5


async def test_the_async_pause_waits_on_the_same_clock() -> None:
    fake = FakeClock()
    attempts = policy(fake, retries=2).start()
    while (delay := attempts.next_delay()) is not None:
        await attempts.pause(delay)
    assert fake.waits == [0.5, 1.0] and attempts.attempt == 2


def test_retry_after_replaces_the_backoff_and_is_capped() -> None:
    fake = FakeClock()
    rules = policy(fake, max_retry_after=60.0)
    assert rules.delay(3, retry_after=7.0) == 7.0
    assert rules.delay(0, retry_after=3600.0) == 60.0
    assert rules.delay(0, retry_after=-5.0) == 0.0
    assert fake.draws == []  # no jitter drawn when the server said when


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0.4", 0.4), (" 120 ", 120.0), ("0", 0.0), ("-5", 0.0)],
)
def test_retry_after_in_seconds(header: str, seconds: float) -> None:
    assert parse_retry_after(header, WALL_START) == seconds


def test_retry_after_as_an_http_date() -> None:
    fake = FakeClock()
    in_90_s = email.utils.formatdate(fake.wall() + 90, usegmt=True)  # "..., 08:01:40 GMT"
    assert policy(fake).retry_after(in_90_s) == pytest.approx(90.0, abs=1.0)
    fake.advance(60.0)  # read later, the same date is a shorter wait
    assert policy(fake).retry_after(in_90_s) == pytest.approx(30.0, abs=1.0)
    assert parse_retry_after("Thu, 26 Nov 2026 08:00:30 GMT", WALL_START) == 30.0
    assert parse_retry_after("Thu, 26 Nov 2026 09:00:30 +0100", WALL_START) == 30.0
    assert parse_retry_after("Thu, 26 Nov 2026 08:00:30 -0000", WALL_START) == 30.0


def test_an_http_date_in_the_past_is_no_wait() -> None:
    assert parse_retry_after("Wed, 25 Nov 2026 08:00:00 GMT", WALL_START) == 0.0


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "soon",
        "nan",
        "inf",
        "-inf",
        "1e400",
        "Thu, 99 Nov 2026 25:00:00 GMT",
        "Funday, 26 Nov 2026",
        "3 seconds",
    ],
)
def test_a_garbage_retry_after_leaves_the_backoff_to_decide(header: str | None) -> None:
    assert parse_retry_after(header, WALL_START) is None

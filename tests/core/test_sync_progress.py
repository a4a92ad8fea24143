"""Determinate sync progress: the share of the days from the start date to today read so far
(transactions arrive oldest first), never going back, 1.0 when done."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sync_support import client_for, link

from kosma_tui.core.sync import SyncEngine, SyncProgress
from kosma_tui.core.sync.result import page_fraction

TODAY = date(2026, 11, 26)


@pytest.fixture
def portal_url(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from kosma_tui.sandbox import start_portal

    monkeypatch.setenv("KOSMA_TUI_NOW", f"{TODAY.isoformat()}T09:00:00")
    running = start_portal(tmp_path / "portal" / "state.json", today=TODAY)
    try:
        yield str(running.url)
    finally:
        running.stop()


def test_page_fraction() -> None:
    start = TODAY - timedelta(days=100)
    page = [
        {"value_date": (start + timedelta(days=10)).isoformat()},
        {"booking_date": (start + timedelta(days=25)).isoformat()},
    ]
    assert page_fraction(page, start, TODAY) == 0.25
    assert page_fraction([{"value_date": "2030-01-01"}], start, TODAY) == 1.0
    assert page_fraction([{"value_date": "2000-01-01"}], start, TODAY) == 0.0
    assert page_fraction([{"value_date": "not a date"}], start, TODAY) is None
    assert page_fraction([], start, TODAY) is None
    assert page_fraction(page, TODAY, TODAY) == 1.0


async def test_fractions_grow_and_end_at_one(portal_url: str) -> None:
    from kosma_tui.core.store import Store

    store = Store.open()
    async with client_for(portal_url) as client:
        await link(store, client, "many-transactions10000", start=TODAY - timedelta(days=60))
        account = sorted(store.accounts(), key=lambda a: a.name)[0]
        seen: list[SyncProgress] = []
        engine = SyncEngine(store, client, on_progress=seen.append, page_size=100)
        result = await engine.sync_account(account.name)
    assert result.status == "ok", result.error
    assert result.pages > 5
    fractions = [p.fraction for p in seen if p.fraction is not None]
    assert [p.fraction for p in seen if p.phase == "balances"] == [None]
    assert len(fractions) >= result.pages
    assert fractions == sorted(fractions)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions[0] < 0.2  # the first page holds the oldest days
    assert seen[-1].phase == "done" and seen[-1].fraction == 1.0
    # exactly 10 a day: the share of the days read is the share of the transactions fetched
    for p in seen:
        if p.phase == "transactions":
            assert p.fraction == pytest.approx(p.fetched / result.fetched, abs=0.05)

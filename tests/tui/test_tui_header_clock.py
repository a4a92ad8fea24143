"""The header clock is redrawn on the minute, but never while the clock is frozen
(KOSMA_TUI_NOW), so snapshots stay the same."""

from __future__ import annotations

from typing import Any

import pytest
from tui_support import SIZE, make_app, settled

from kosma_tui.core import clock
from kosma_tui.core.store import Store
from kosma_tui.tui.widgets.header import KosmaHeader


async def test_frozen_clock_is_not_redrawn(store: Store, portal: Any) -> None:
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        header = app.screen.query_one(KosmaHeader)
        assert "09:00" in str(header.render())
        assert not header._timers


async def test_live_clock_is_redrawn_every_minute(
    store: Store, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(clock.NOW_ENV)
    app = make_app(store, portal)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)  # the screen's rows are read
        await pilot.pause()
        header = app.screen.query_one(KosmaHeader)
        assert len(header._timers) == 1
        header.tick()  # what the minute timer does
        await pilot.pause()
        assert f"{clock.now():%H:%M}" in str(header.render())
        assert len(header._timers) == 2  # and from now on every minute

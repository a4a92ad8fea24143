"""Fixtures of the TUI tests: frozen clock, a real store, the real Demo Bank portal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tui_support import NOW, TODAY

from kosma_tui.core.store import Store


class Portal:
    """The Demo Bank portal on loopback; ``move_to(day)`` restarts it on another date."""

    def __init__(self, state: Path, today: date) -> None:
        from kosma_tui.sandbox import start_portal

        self._start = start_portal
        self.state = state
        self.running: Any = start_portal(state, today=today)

    @property
    def url(self) -> str:
        return str(self.running.url)

    def move_to(self, today: date) -> None:
        self.running.stop()
        self.running = self._start(self.state, today=today)

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture
def frozen(home: Path, monkeypatch: pytest.MonkeyPatch) -> date:
    """KOSMA_TUI_NOW at 2026-11-26 09:00 and a fixed host name."""
    monkeypatch.setenv("KOSMA_TUI_NOW", NOW)
    monkeypatch.setenv("KOSMA_TUI_HOSTNAME", "erp01")
    return TODAY


@pytest.fixture
def portal(tmp_path: Path, frozen: date) -> Iterator[Portal]:
    running = Portal(tmp_path / "portal" / "state.json", frozen)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def store(frozen: date) -> Store:
    return Store.open()

"""Fixtures: the Demo Bank portal on a loopback port with a temporary state file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sandbox_wire import Wire

from kosma_tui.sandbox import RunningPortal, start_portal

TODAY = date(2026, 11, 26)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "portal" / "state.json"


@pytest.fixture
def portal(state_path: Path) -> Iterator[RunningPortal]:
    with start_portal(state_path, today=TODAY, slow_seconds=0.3) as running:
        yield running


@pytest.fixture
def wire(portal: RunningPortal) -> Iterator[Wire]:
    client = Wire(portal.url)
    yield client
    client.close()

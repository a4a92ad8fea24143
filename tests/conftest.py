"""Shared fixtures: a real temporary store and the real Demo Bank portal on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh KOSMA_TUI_HOME for one test."""
    folder = tmp_path / "home"
    monkeypatch.setenv("KOSMA_TUI_HOME", str(folder))
    monkeypatch.delenv("KOSMA_TUI_NOW", raising=False)
    return folder


@pytest.fixture
def demo_portal(tmp_path: Path) -> Iterator[object]:
    """The Demo Bank portal on a free loopback port, with its own state file."""
    from kosma_tui.sandbox import start_portal

    portal = start_portal(tmp_path / "portal" / "state.json")
    try:
        yield portal
    finally:
        portal.stop()

"""Shared fixtures: a real temporary store and the real Demo Bank portal on loopback.

The suite runs in parallel (pytest-xdist, ``-n`` and ``--dist loadgroup`` in
pyproject's ``addopts``). Every test has its own ``tmp_path`` store, Demo Bank
state file and free loopback port, so tests may run side by side, except those
that share something outside: the live ERPNext tests all talk to one ERPNext
site (and may reset it), so they run one after another in a single worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
LIVE_ERPNEXT_GROUP = "live-erpnext"


def is_live_erpnext(item: pytest.Item) -> bool:
    """A test against the one real ERPNext site: marked ``live_erpnext``, or a test under
    tests/erpnext with "live" in its module's or its own name."""
    if item.get_closest_marker("live_erpnext") is not None:
        return True
    path = Path(str(item.path))
    return TESTS / "erpnext" in path.parents and ("live" in path.stem or "live" in item.name)


@pytest.hookimpl(tryfirst=True)  # before xdist names the groups in the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put every live ERPNext test into one xdist group: ``--dist loadgroup`` sends a
    group to a single worker, which runs its tests one at a time. The group goes
    first: it is the longest unit of work (a 10,000-row push alone takes over a
    minute), and a worker that starts it last would keep the whole run waiting."""
    for item in items:
        if is_live_erpnext(item):
            item.add_marker(pytest.mark.xdist_group(LIVE_ERPNEXT_GROUP))
    items.sort(key=lambda item: not is_live_erpnext(item))  # stable: otherwise as collected


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

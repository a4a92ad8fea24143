"""Fixtures for the ERPNext bridge: the Frappe double on loopback with a seeded site,
and a real temporary store (helpers live in ``erpnext_support``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from erpnext_support import connect_store, seed_site
from frappe_double import FrappeDouble


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff in milliseconds: the retry tests wait for nothing."""
    from kosma_tui.core.erpnext import client

    monkeypatch.setattr(client, "DEFAULT_BACKOFF", 0.001)


@pytest.fixture(autouse=True)
def short_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lost answer is settled in a fraction of a second: the double's "server" lets a
    request run for 1 s (the connection's server_timeout) and looks every 50 ms."""
    import importlib

    monkeypatch.setattr(importlib.import_module("kosma_tui.core.erpnext.journal"), "MARGIN", 0.0)
    monkeypatch.setattr(importlib.import_module("kosma_tui.core.erpnext.push"), "SETTLE_POLL", 0.05)


@pytest.fixture
def erp() -> Iterator[FrappeDouble]:
    """An ERPNext site with one company, its fiscal year, Bank GL accounts and a
    company Bank Account whose IBAN was typed with spaces."""
    with FrappeDouble() as double:
        seed_site(double)
        yield double


@pytest.fixture
def store(home: Path) -> Any:
    from kosma_tui.core.store import Store

    return Store.open()


@pytest.fixture
def connected(store: Any, erp: FrappeDouble) -> Any:
    connect_store(store, erp)
    return store

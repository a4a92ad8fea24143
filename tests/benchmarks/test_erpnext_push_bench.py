"""10,000 transactions in one push to a real ERPNext, each there exactly once.

Needs the lab's site (``eval "$(bash ../shared/erpnext-lab/lab.sh env)"``); skipped
otherwise. The normal suite pushes 2,000 (tests/erpnext/test_erpnext_live.py); this
is the full-size run, with the rate printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "erpnext"))

from live_support import push_many, site_from_env


@pytest.mark.timeout(900)  # ERPNext submits about 50-150 Bank Transactions a second
def test_ten_thousand_transactions_in_one_push(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = site_from_env()
    monkeypatch.setenv("KOSMA_TUI_HOME", str(tmp_path / "home"))
    from kosma_tui.core.store import Store

    report = push_many(site, Store.open(), 10_000)
    assert report.requests >= 50

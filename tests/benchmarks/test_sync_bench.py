"""Sync performance (DESIGN 6) against the Demo Bank portal on loopback.

Run (about a minute):

    python -m pytest tests/benchmarks/test_sync_bench.py -q -s -p no:cacheprovider \
        --override-ini addopts=

The portal runs in its own process (``kosma-tui sandbox``), as a real portal
would; every sync runs in a fresh child process so its peak memory (``VmHWM``,
the resident high-water mark; ``ru_maxrss`` elsewhere) is its own. Figures are
printed; the targets are asserted:

- first sync of 100,000 transactions (``many-transactions100000`` linked
  999 days back; best of two runs into two accounts): at most 5 s, and at most
  3x ``json.loads`` + ``json.dumps`` of the same transactions measured in this
  run (best of three);
- peak memory of that sync: at most 300 MB;
- 100 new transactions (the portal's today moved one day) into those 100,000:
  at most 0.5 s;
- ``kosma-tui status`` with that store: at most 0.5 s wall.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import PortalProcess, child_sync
from sync_support import client_for, link

N = 100_000
DAYS_BACK = 999
FIGURES: dict[str, float] = {}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("sync-bench")
    home = root / "home"
    os.environ["KOSMA_TUI_HOME"] = str(home)
    today = date.today()
    os.environ["KOSMA_TUI_NOW"] = today.isoformat()
    portal = PortalProcess(root / "portal.json")
    portal.start(today)
    try:
        from kosma_tui.core.records import Company
        from kosma_tui.core.store import Store

        store = Store.open()
        store.save_company(Company("Baseline GmbH", "DE"))

        async def setup() -> tuple[str, list[dict[str, Any]]]:
            start = today - timedelta(days=DAYS_BACK)
            async with client_for(portal.url) as client:
                await link(store, client, f"many-transactions{N}", start=start)
                baseline = await link(
                    store, client, f"many-transactions{N}", start=start, company="Baseline GmbH"
                )
                name = next(a.name for a in store.accounts() if a.company != "Baseline GmbH")
                other = next(a for a in store.accounts() if a.company == "Baseline GmbH")
                # the same 100,000 transactions, read raw for the json baseline
                raw: list[dict[str, Any]] = []
                token, page = baseline.consent_token, None
                while True:
                    rotated = await client.fetch_consent_transactions(
                        baseline.consent_id, token, other.kosma_account_id, start, page=page
                    )
                    token = rotated.consent_token
                    store.update_consent_token(baseline.name, token)
                    raw.extend(rotated.result.transactions)
                    page = rotated.result.next
                    if page is None:
                        break
            return name, other.name, raw

        name, second, raw = asyncio.run(setup())
        yield {
            "home": home,
            "portal": portal,
            "account": name,
            "second": second,
            "raw": raw,
            "today": today,
            "store": store,
        }
    finally:
        portal.stop()
        os.environ.pop("KOSMA_TUI_HOME", None)
        os.environ.pop("KOSMA_TUI_NOW", None)
        if FIGURES:
            print("\nsync benchmark figures:")
            for key, value in FIGURES.items():
                print(f"  {key:<44} {value:10.3f}")


def json_baseline(raw: list[dict[str, Any]]) -> float:
    text = json.dumps(raw)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        json.dumps(json.loads(text))
        best = min(best, time.perf_counter() - start)
    return best


def test_first_sync_of_100000(bench: dict[str, Any]) -> None:
    raw = bench["raw"]
    assert len(raw) == N
    baseline = json_baseline(raw)
    # best of two first syncs (two accounts holding the same 100,000): a benchmark
    # measures the code, not a neighbour's burst on a shared 2-core machine
    runs = [
        child_sync(bench["home"], bench["portal"].url, bench[key], bench["today"])
        for key in ("second", "account")
    ]
    for figures in runs:
        assert figures["status"] == "ok", figures["error"]
        assert figures["fetched"] == N
    figures = min(runs, key=lambda f: f["seconds"])
    ratio = figures["seconds"] / baseline
    FIGURES["json.loads+json.dumps of 100,000 (s)"] = baseline
    FIGURES["first sync of 100,000 (s, best of 2)"] = figures["seconds"]
    FIGURES["first sync, the other run (s)"] = max(f["seconds"] for f in runs)
    FIGURES["first sync / json baseline (ratio)"] = ratio
    FIGURES["first sync peak memory (MB, worst of 2)"] = max(f["peak_mb"] for f in runs)
    print(
        f"\nfirst sync: {figures['seconds']:.2f} s (other run "
        f"{FIGURES['first sync, the other run (s)']:.2f} s) for {figures['fetched']:,} "
        f"fetched ({figures['new']:,} new, {figures['pages']} pages); json baseline "
        f"{baseline:.2f} s; ratio {ratio:.2f}; peak {max(f['peak_mb'] for f in runs):.0f} MB"
    )
    assert figures["seconds"] <= 5.0
    assert ratio <= 3.0
    assert max(f["peak_mb"] for f in runs) <= 300


def test_100_new_into_100000(bench: dict[str, Any]) -> None:
    tomorrow = bench["today"] + timedelta(days=1)
    bench["portal"].start(tomorrow)
    figures = child_sync(bench["home"], bench["portal"].url, bench["account"], tomorrow)
    assert figures["status"] == "ok", figures["error"]
    assert figures["new"] >= 100 - 40  # a new day of 100, some still pending without id
    FIGURES["100 new into 100,000 (s)"] = figures["seconds"]
    print(
        f"\n100 new into 100,000: {figures['seconds']:.3f} s ({figures['fetched']:,} fetched, "
        f"{figures['new']} new, {figures['updated']} updated)"
    )
    assert figures["seconds"] <= 0.5


def test_status_command(bench: dict[str, Any]) -> None:
    env = {**os.environ, "KOSMA_TUI_HOME": str(bench["home"])}
    env.pop("KOSMA_TUI_NOW", None)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "kosma_tui", "status"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        best = min(best, time.perf_counter() - start)
        assert result.returncode in (0, 1), result.stderr
    FIGURES["kosma-tui status (s)"] = best
    print(f"\nkosma-tui status: {best:.3f} s")
    assert best <= 0.5

"""SIGKILL at random moments of a first sync (DESIGN 7): after every kill the consent
can still be used (its stored token is live, or the call the kill cut is written down
and the portal will answer its replay), and the sync that finally runs through holds
exactly the rows of an uninterrupted one, none twice.

Scaled for CI: 20 kills over a 20,000-transaction first sync, each kill at a random
moment of the run's first seconds (the seed is printed; set KOSMA_TEST_SEED to repeat
one). The 100,000-transaction version is tests/benchmarks/test_kill_bench.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from sync_support import client_for, kill_during_syncs, kosma, link, reference_ids

KILLS = 20
WINDOW = 1.5  # seconds: about one uninterrupted run of this size on a 2-core machine


def open_store(home: Path) -> Any:
    from kosma_tui.core.paths import resolve_paths
    from kosma_tui.core.store import Store

    return Store.open(resolve_paths(home))


def consent_usable(store: Any, state_file: Path) -> bool:
    """True when the next sync can go on with the consent, read from both sides."""
    from kosma_tui.core.replay import ReplayJournal

    def sha(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    (consent,) = store.consents()
    kept = orjson.loads(state_file.read_bytes())["consents"][consent.consent_id]
    if sha(consent.consent_token) == kept["token_hash"]:
        return True
    pending = ReplayJournal.of(store).pending(consent.consent_id)
    if pending is None or not pending.belongs_to(consent.consent_token):
        return False
    if sha(pending.consent_token) == kept["token_hash"]:
        return True  # the cut call never reached the portal
    replay = kept.get("replay") or {}
    return (replay.get("consumed") == sha(pending.consent_token)
            and replay.get("request_id") == pending.request_id)


def run_kills(home: Path, tmp_path: Path, *, username: str, days: int, kills: int,
              window: float) -> None:
    from kosma_tui.core.paths import resolve_paths
    from kosma_tui.core.store import Store
    from kosma_tui.sandbox import start_portal

    seed = int(os.environ.get("KOSMA_TEST_SEED") or random.randrange(2**32))
    print(f"kill test seed {seed} (KOSMA_TEST_SEED={seed} repeats it)")
    start = date.today() - timedelta(days=days - 1)
    state_file = tmp_path / "portal.json"
    with start_portal(state_file) as portal:
        setup = kosma(home, "settings", "--enable", "--admin-url", portal.url,
                      "--customer-id", "C-1", "--api-token-stdin", stdin="token\n")
        assert setup.returncode == 0, setup.stderr

        async def go() -> Any:
            async with client_for(portal.url, customer_id="C-1", api_token="token") as c:
                return await link(open_store(home), c, username, start=start)

        asyncio.run(go())
        rng = random.Random(seed)
        for i in range(kills):
            kill_during_syncs(home, kills=1, seed=rng.randrange(2**32), window=window)
            assert consent_usable(open_store(home), state_file), f"consent lost at kill {i + 1}"

        final = kosma(home, "sync", "--all", "--json")
        assert final.returncode == 0, final.stdout + final.stderr
        store = open_store(home)
        (account,) = store.accounts()
        ids = store.book(account).ids()
        assert store.book(account).count() == len(ids)  # none twice
        reference = Store.open(resolve_paths(tmp_path / "reference"))
        expected = asyncio.run(reference_ids(reference, portal.url, username, start,
                                             customer_id="C-1", api_token="token"))
        assert set(ids) == expected  # exactly the rows of an uninterrupted run


def test_twenty_kills_during_a_first_sync_lose_no_consent_and_no_row(
    home: Path, tmp_path: Path
) -> None:
    run_kills(home, tmp_path, username="many-transactions100000", days=200, kills=KILLS,
              window=WINDOW)

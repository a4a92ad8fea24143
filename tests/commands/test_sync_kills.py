"""SIGKILL at random moments of a first sync (DESIGN 7): after every kill the consent
can still be used (its stored token is live, or the call the kill cut is written down
and the portal will answer its replay), and the sync that finally runs through holds
exactly the rows of an uninterrupted one, none twice.

Scaled for CI: 20 kills over a 20,000-transaction first sync, each kill at a random
moment of the run's first seconds (the seed is printed; set KOSMA_TEST_SEED to repeat
one). The 100,000-transaction version is tests/benchmarks/test_kill_bench.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from sync_support import run_kills

KILLS = 20
WINDOW = 1.5  # seconds after start-up: about one uninterrupted run of this size


def test_twenty_kills_during_a_first_sync_lose_no_consent_and_no_row(
    home: Path, tmp_path: Path
) -> None:
    run_kills(
        home, tmp_path, username="many-transactions100000", days=200, kills=KILLS, window=WINDOW
    )

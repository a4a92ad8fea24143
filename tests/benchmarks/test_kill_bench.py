"""The full acceptance of DESIGN 7: 20 SIGKILLs at random moments of a
100,000-transaction first sync, each followed by a sync; 0 consents lost, the
same rows as an uninterrupted run, none twice. About two minutes, so it runs
only when asked (the CI version, 20,000 transactions, is
tests/commands/test_sync_kills.py):

    python -m pytest tests/benchmarks/test_kill_bench.py -q -s -p no:cacheprovider \\
        --override-ini addopts=

The seed is printed; KOSMA_TEST_SEED=<seed> repeats a run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from sync_support import run_kills


def test_twenty_kills_during_a_first_sync_of_100000(home: Path, tmp_path: Path) -> None:
    run_kills(home, tmp_path, username="many-transactions100000", days=1000, kills=20, window=5.0)

"""The suite's parallel run: the live ERPNext tests stay in one worker, one at a time, and
no snapshot is left behind although syrupy cannot see them all from a worker.

A small suite in a temporary folder, with this suite's ``conftest.py`` and
``pyproject.toml`` settings, runs in the configured workers: every live test
records its worker and when it ran, and they must all have run in one worker
without overlapping; the other tests spread out.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
REPO = TESTS.parent

RECORDER = """
import json, os, time
from pathlib import Path

def record(name):
    started = time.monotonic()
    time.sleep(0.1)
    line = {"name": name, "worker": os.environ.get("PYTEST_XDIST_WORKER"),
            "start": started, "end": time.monotonic()}
    with open(os.environ["RUNS_FILE"], "a") as out:
        out.write(json.dumps(line) + "\\n")
"""


def test_live_erpnext_tests_run_in_one_worker_one_at_a_time(tmp_path: Path) -> None:
    suite = tmp_path / "tests"
    (suite / "erpnext").mkdir(parents=True)
    (suite / "core").mkdir()
    shutil.copy(TESTS / "conftest.py", suite / "conftest.py")
    (suite / "recorder.py").write_text(RECORDER, encoding="utf-8")
    (suite / "erpnext" / "test_erpnext_live.py").write_text(
        "from recorder import record\n"
        + "".join(f"def test_push_{n}():\n    record('module {n}')\n\n" for n in range(4)),
        encoding="utf-8",
    )
    (suite / "erpnext" / "test_erpnext_push.py").write_text(
        "from recorder import record\n"
        + "".join(f"def test_live_reset_{n}():\n    record('name {n}')\n\n" for n in range(2))
        + "".join(f"def test_double_{n}():\n    record('double {n}')\n\n" for n in range(4)),
        encoding="utf-8",
    )
    (suite / "core" / "test_marked.py").write_text(
        "import pytest\nfrom recorder import record\n\n"
        "@pytest.mark.live_erpnext\ndef test_marked():\n    record('marker')\n\n"
        + "".join(f"def test_local_{n}():\n    record('local {n}')\n\n" for n in range(6)),
        encoding="utf-8",
    )
    runs = tmp_path / "runs.jsonl"
    env = {
        **os.environ,
        "RUNS_FILE": str(runs),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(suite), os.environ.get("PYTHONPATH")])),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(REPO / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:textual-snapshot",
            "-p",
            "no:syrupy",
            "-p",
            "no:anyio",
            str(suite),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    lines = [json.loads(line) for line in runs.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 17
    live = sorted(
        (line for line in lines if line["name"].split()[0] in ("module", "name", "marker")),
        key=lambda line: line["start"],
    )
    assert len(live) == 7
    assert len({line["worker"] for line in live}) == 1, live
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(live)), live
    # the pyproject's addopts ran it parallel: the other tests spread over the workers
    assert len({line["worker"] for line in lines}) > 1  # the others spread out


def test_every_stored_snapshot_belongs_to_a_test() -> None:
    """Run without workers, syrupy fails on a snapshot no test uses; with workers it cannot
    tell, so this does: each ``__snapshots__/<module>/<test>.svg`` has its test."""
    stored = sorted(TESTS.rglob("__snapshots__/*/*.svg"))
    assert stored
    for svg in stored:
        module = svg.parents[2] / f"{svg.parent.name}.py"
        name = svg.stem.split("[")[0]  # a parametrized test's snapshots carry [ids]
        assert module.is_file(), f"{svg.relative_to(TESTS)}: no {module.name}"
        assert f"def {name}(" in module.read_text(encoding="utf-8"), (
            f"{svg.relative_to(TESTS)}: no test {name} in {module.name}; "
            "remove it with: pytest -n0 --snapshot-update"
        )

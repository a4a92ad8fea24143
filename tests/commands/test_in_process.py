"""``main()`` run twice in one process, as the command tests do: each run works on its own
data folder, with its own embedded Demo Bank portal and its own log file."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import DEMO_BANK_LINK, kosma

from kosma_tui.core.paths import resolve_paths

DEMO = [
    "link",
    *DEMO_BANK_LINK,
    "--accounts",
    "all",
]
ANSWERS = "embedded\n12345\n12345\n"


def test_two_homes_in_one_process_each_get_their_own_portal_and_log(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for home in (first, second):
        done = kosma(home, *DEMO, stdin=ANSWERS)
        assert done.returncode == 0, done.stderr
        # the Demo Bank portal of this run kept its consent in this run's data folder
        assert resolve_paths(home).sandbox_state.is_file()
        listed = json.loads(kosma(home, "account", "list", "--json").stdout)["accounts"]
        assert len(listed) == 3

    refused = kosma(second, "account", "disable", "No Such Account")
    assert refused.returncode == 2
    assert "No Such Account" in resolve_paths(second).log_file.read_text(encoding="utf-8")
    assert "No Such Account" not in resolve_paths(first).log_file.read_text(encoding="utf-8")


def test_the_captured_run_reads_like_a_process(home: Path) -> None:
    """Usage errors exit through argparse (SystemExit): a status and a sentence, as a
    process would show them; --version likewise on stdout."""
    usage = kosma(home, "sync", "--no-such-flag")
    assert usage.returncode == 2 and usage.stdout == ""
    assert usage.stderr.startswith("kosma-tui: Unrecognized arguments: --no-such-flag.")
    version = kosma(home, "--version")
    assert version.returncode == 0 and version.stdout.startswith("kosma-tui ")

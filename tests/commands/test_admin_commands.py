"""``kosma-tui account`` and ``consent`` administration (DESIGN 8), ``--json`` failures and
``link --json``, run as people and cron run them."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from cli_support import DEMO_BANK_LINK
from sync_support import kosma
from test_sync_commands import link_demo, open_store, snapshot

TODAY = date.today()


@pytest.fixture
def linked(home: Path) -> Path:
    link_demo(home, "embedded", TODAY - timedelta(days=10))
    return home


def on_terminal(home: Path, *args: str, answer: str) -> subprocess.CompletedProcess[str]:
    """Run with standard input a real terminal that has ``answer`` typed ahead."""
    main, other = pty.openpty()
    try:
        os.write(main, answer.encode())
        env = {**os.environ, "KOSMA_TUI_HOME": str(home)}
        return subprocess.run(
            [sys.executable, "-m", "kosma_tui", *args],
            stdin=other,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        os.close(main)
        os.close(other)


def error_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data = json.loads(result.stdout)
    assert set(data) == {"error"} and set(data["error"]) == {"code", "message", "remedy"}
    return data["error"]


def test_account_list_json_and_text(linked: Path) -> None:
    listed = kosma(linked, "account", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    accounts = json.loads(listed.stdout)["accounts"]
    assert len(accounts) == 3
    for item in accounts:
        assert set(item) == {
            "name",
            "bank",
            "company",
            "iban",
            "currency",
            "enabled",
            "consent",
            "last_integration_date",
        }
        assert item["enabled"] is True and item["consent"] == "Demo Bank-Demo Company"
    text = kosma(linked, "account", "list")
    assert "Girokonto (Max Mustermann)" in text.stdout and "enabled" in text.stdout


def test_rename_disable_enable_by_prefix_and_iban(linked: Path) -> None:
    renamed = kosma(linked, "account", "rename", "GIRO", "Main")
    assert renamed.returncode == 0, renamed.stderr
    assert "Renamed 'Girokonto (Max Mustermann)' to 'Main'." in renamed.stdout
    iban = open_store(linked).account("Main").iban
    off = kosma(linked, "account", "disable", iban, "--json")
    assert json.loads(off.stdout) == {"name": "Main", "enabled": False}
    synced = kosma(linked, "sync", "--all", "--json")
    assert synced.returncode == 0, synced.stderr
    assert "Main" not in {a["name"] for a in json.loads(synced.stdout)["accounts"]}
    refused = kosma(linked, "sync", "--account", "main")
    assert refused.returncode == 1 and "is disabled" in refused.stdout
    status = kosma(linked, "status")
    assert "(disabled" in status.stdout
    assert kosma(linked, "account", "enable", "ma").returncode == 0
    assert open_store(linked).account("Main").enabled is True


def test_unknown_and_ambiguous_names_exit_2_listing_candidates(linked: Path) -> None:
    before = snapshot(linked)
    unknown = kosma(linked, "account", "disable", "nope")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "no bank account named 'nope'" in unknown.stderr
    assert "'Tagesgeld (Max Mustermann)'" in unknown.stderr and "Traceback" not in unknown.stderr
    kosma(linked, "account", "rename", "tages", "Konto Tag")
    kosma(linked, "account", "rename", "kredit", "Konto Karte")
    before = snapshot(linked)
    ambiguous = kosma(linked, "transactions", "--account", "konto", "--format", "json")
    assert ambiguous.returncode == 2
    error = error_of(ambiguous)
    assert error["code"] == "AMBIGUOUS_NAME"
    assert "'Konto Karte'" in error["message"] and "'Konto Tag'" in error["message"]
    assert snapshot(linked) == before


def test_json_failures_print_one_error_object(linked: Path) -> None:
    sync = kosma(linked, "sync", "--account", "nope", "--json")
    assert sync.returncode == 2
    assert error_of(sync)["code"] == "UNKNOWN_NAME"
    usage = kosma(linked, "account", "list", "--json", "--bogus")
    assert usage.returncode == 2 and "--bogus" in error_of(usage)["message"]
    neither = kosma(linked, "sync", "--json")
    assert neither.returncode == 2 and error_of(neither)["code"] == "USAGE"
    remove = kosma(linked, "account", "remove", "giro", "--json")
    assert remove.returncode == 2 and "--yes" in error_of(remove)["remedy"]


def test_remove_asks_on_a_terminal_and_needs_yes_without_one(linked: Path) -> None:
    assert kosma(linked, "sync", "--all").returncode == 0
    before = snapshot(linked)
    piped = kosma(linked, "account", "remove", "giro")
    assert piped.returncode == 2 and "--yes" in piped.stderr
    declined = on_terminal(linked, "account", "remove", "giro", answer="n\n")
    assert declined.returncode == 0 and "Nothing was removed." in declined.stdout
    assert "local transactions? ERPNext is not touched. [y/N]" in declined.stdout
    assert snapshot(linked) == before
    store = open_store(linked)
    key = store.account("Girokonto (Max Mustermann)").key
    accepted = on_terminal(linked, "account", "remove", "giro", answer="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Removed 'Girokonto (Max Mustermann)'" in accepted.stdout
    assert not (store.transactions_dir / key).exists()
    assert len(open_store(linked).accounts()) == 2
    scripted = kosma(linked, "account", "remove", "tages", "--yes", "--json")
    assert json.loads(scripted.stdout)["removed"] == "Tagesgeld (Max Mustermann)"


def test_consent_list_and_revoke(linked: Path) -> None:
    listed = json.loads(kosma(linked, "consent", "list", "--json").stdout)["consents"]
    assert [(c["bank"], c["status"], c["accounts"]) for c in listed] == [("Demo Bank", "active", 3)]
    assert "token" not in json.dumps(listed).lower()
    before = snapshot(linked)
    piped = kosma(linked, "consent", "revoke", "demo")
    assert piped.returncode == 2 and snapshot(linked) == before
    declined = on_terminal(linked, "consent", "revoke", "demo", answer="\n")
    assert "Nothing was revoked." in declined.stdout
    assert open_store(linked).consents()
    revoked = kosma(linked, "consent", "revoke", "demo bank", "--company", "demo company", "--yes")
    assert revoked.returncode == 0, revoked.stderr
    assert "Revoked the Bank Consent Demo Bank · Demo Company" in revoked.stdout
    assert "link Demo Bank again" in revoked.stdout
    store = open_store(linked)
    assert store.consents() == [] and len(store.accounts()) == 3
    state = json.loads((linked / "data" / "sandbox" / "state.json").read_text())
    assert [c["revoked"] for c in state["consents"].values()] == [True]
    sync = kosma(linked, "sync", "--all", "--json")
    assert sync.returncode == 1
    assert {a["error"]["code"] for a in json.loads(sync.stdout)["accounts"]} == {"NO_CONSENT"}


def test_link_json_prints_the_summary_and_asks_on_stderr(home: Path) -> None:
    result = kosma(
        home,
        "link",
        *DEMO_BANK_LINK,
        "--json",
        stdin="embedded\n12345\n12345\n",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["bank"]["name"] == "Demo Bank" and data["bank"]["created"] is True
    assert len(data["added"]) == 3 and data["updated"] == []
    assert data["consent"]["consent_start"] == TODAY.isoformat()
    assert data["consent"]["days_left"] == 90 and data["consent"]["consent_expiry"]
    assert "token" not in result.stdout.lower()
    assert "Company: Demo Company" in result.stderr
    wrong = kosma(home, "link", "--company", "Nope", "--json")
    assert wrong.returncode == 2 and error_of(wrong)["code"]


def test_link_without_accounts_does_not_say_sync(home: Path) -> None:
    result = kosma(
        home,
        "link",
        *DEMO_BANK_LINK,
        "--start-date",
        (TODAY - timedelta(days=3)).isoformat(),
        stdin="generate-new-accounts0\n12345\n",
    )
    assert result.returncode == 0, result.stderr
    assert "count against the transaction limit" in result.stdout
    assert (
        "Note: This billing period: 0 of 1,000,000 transactions used (1,000,000 left)."
        in result.stdout
    )
    assert "returned no account" in result.stdout
    assert "Sync the" not in result.stdout

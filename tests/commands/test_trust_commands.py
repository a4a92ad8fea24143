"""Trust in the numbers (DESIGN 8) through the commands and the embedded Demo Bank
portal moved in time: balance continuity, coverage and ``sync --dry-run``."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from cli_support import DEMO_BANK_LINK
from sync_support import kosma
from test_sync_commands import link_demo, open_store, snapshot

from kosma_tui.sandbox import data, ledger
from kosma_tui.sandbox.banks import BANKS
from kosma_tui.sandbox.scenarios import scenario

TODAY = date.today()


def at(day: date) -> str:
    """KOSMA_TUI_NOW for ``day`` at 10:00 local time (app and embedded portal)."""
    return datetime(day.year, day.month, day.day, 10).astimezone().isoformat()


def link_at(
    home: Path, monkeypatch: pytest.MonkeyPatch, username: str, day: date, start: date
) -> Any:
    monkeypatch.setenv("KOSMA_TUI_NOW", at(day))
    try:
        return link_demo(home, username, start)
    finally:
        monkeypatch.delenv("KOSMA_TUI_NOW")


def status(home: Path, day: date) -> tuple[int, dict[str, Any]]:
    result = kosma(home, "status", "--json", now=at(day))
    return result.returncode, json.loads(result.stdout)


def sync_all(home: Path, day: date, *extra: str) -> Any:
    result = kosma(home, "sync", "--all", *extra, now=at(day))
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def late_bookings(first_read: date) -> dict[str, tuple[date, int]]:
    """IBAN -> (booking date, signed amount) of each late-booking account's late one."""
    out = {}
    for account in data.accounts(scenario("late-booking"), BANKS["DE"]["88888888"]):
        ordinal, _number, amount = ledger.late_booking(account, first_read)
        out[account.iban] = (date.fromordinal(ordinal), amount)
    return out


def test_late_booking_mismatch_appears_and_clears(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a first read on a day whose next day brings the Girokonto's late booking
    first = next(
        TODAY + timedelta(days=k)
        for k in range(60)
        if min(late_bookings(TODAY + timedelta(days=k)).values())[0]
        == TODAY + timedelta(days=k + 1)
    )
    late = late_bookings(first)
    link_at(home, monkeypatch, "late-booking", first, first - timedelta(days=10))

    sync_all(home, first)
    code, report = status(home, first)
    assert code == 0
    for account in report["accounts"]:
        check = account["balance_check"]
        assert check["status"] == "ok" and check["difference"] == 0
        assert check["reported"] == account["balance"]["booked"]
        assert check["as_of"] == first.isoformat()

    for day in (first + timedelta(days=2), first + timedelta(days=4), first + timedelta(days=6)):
        sync_all(home, day)
        code, report = status(home, day)
        mismatched = 0
        for account in report["accounts"]:
            booked_on, amount = late[account["iban"]]
            check = account["balance_check"]
            if booked_on <= day < booked_on + timedelta(days=3):  # booked, not yet listed
                mismatched += 1
                assert check["status"] == "mismatch"
                assert check["difference"] == amount  # exactly the late transaction
                assert check["reported"] - check["expected"] == amount
            else:
                assert check["status"] == "ok", (day, account["name"])
        assert code == (1 if mismatched else 0)
        if day == first + timedelta(days=2):
            assert mismatched  # the Girokonto's late booking
            text = kosma(home, "status", now=at(day))
            assert text.returncode == 1 and "does not add up" in text.stdout


def test_a_renewal_that_accepts_a_gap_shows_it_in_coverage(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = TODAY
    link_at(home, monkeypatch, "embedded", first, first - timedelta(days=5))
    sync_all(home, first)
    _code, report = status(home, first)
    assert report["accounts"][0]["coverage"] == {
        "from": (first - timedelta(days=5)).isoformat(),
        "to": first.isoformat(),
        "gaps": [],
    }

    # the consent ran out; the renewal starts later than the history ends
    renewal = first + timedelta(days=100)
    start = renewal - timedelta(days=3)
    renewed = kosma(
        home,
        "link",
        *DEMO_BANK_LINK,
        "--start-date",
        start.isoformat(),
        "--accounts",
        "all",
        stdin="embedded\n12345\n12345\n",
        now=at(renewal),
    )
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    said = " ".join((renewed.stdout + renewed.stderr).split())
    assert "the gap will be recorded in the accounts' coverage" in said  # the Link step
    refused = kosma(home, "sync", "--all", now=at(renewal))
    assert refused.returncode == 1 and "the gap will be recorded" in refused.stdout
    for name in sorted(a.name for a in open_store(home).accounts()):
        fixed = kosma(
            home, "account", "set-last-integration-date", name, start.isoformat(), now=at(renewal)
        )
        assert fixed.returncode == 0, fixed.stderr
        assert "gap" in fixed.stdout
    sync_all(home, renewal)
    code, report = status(home, renewal)
    assert code == 0  # the accepted gap is in the coverage, not a mismatch forever
    for account in report["accounts"]:
        assert account["balance_check"]["status"] == "ok"
        assert account["coverage"] == {
            "from": (first - timedelta(days=5)).isoformat(),
            "to": renewal.isoformat(),
            "gaps": [
                {
                    "from": (first + timedelta(days=1)).isoformat(),
                    "to": (start - timedelta(days=1)).isoformat(),
                }
            ],
        }
    text = kosma(home, "status", now=at(renewal))
    assert "gap" in text.stdout and (first + timedelta(days=1)).isoformat() in text.stdout


def test_dry_run_reports_what_a_sync_would_store_and_changes_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = TODAY
    link_at(home, monkeypatch, "embedded", first, first - timedelta(days=20))
    sync_all(home, first)
    later = first + timedelta(days=5)

    def stored(home: Path) -> dict[str, Any]:
        """Every file of the store, the consents without their (rotating) tokens."""
        files = {k: v for k, v in snapshot(home).items() if "sandbox" not in k}
        meta = json.loads(files.pop("data/store/meta.json"))
        for consent in meta["consents"].values():
            consent.pop("consent_token")
        return {**files, "meta": meta}

    before = stored(home)
    dry = kosma(home, "sync", "--all", "--dry-run", "--json", now=at(later))
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True
    assert stored(home) == before  # no transaction, date, balance or sync run changed
    would = {a["name"]: (a["new"], a["updated"]) for a in report["accounts"]}
    assert sum(new for new, _ in would.values()) > 0
    assert sum(updated for _, updated in would.values()) > 0  # pending ones settled

    text = kosma(home, "sync", "--all", "--dry-run", now=at(later))
    assert text.returncode == 0 and "dry run" in text.stdout and "would store" in text.stdout
    assert stored(home) == before

    real = kosma(home, "sync", "--all", "--json", now=at(later))
    done = {a["name"]: (a["new"], a["updated"]) for a in json.loads(real.stdout)["accounts"]}
    assert done == would  # and the tokens it persisted still work

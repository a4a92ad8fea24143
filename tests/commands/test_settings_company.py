"""``kosma-tui settings`` and ``kosma-tui company`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import kosma
from clock_support import FakeClock

from kosma_tui.runtime import Runtime


def snapshot(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and "logs" not in p.parts and p.suffix != ".lock"
    }


def test_fresh_settings_are_demo_mode(home: Path) -> None:
    result = kosma(home, "settings", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["demo"] is True
    assert data["effectively_enabled"] is True
    assert data["reminder_days"] == 7
    assert "api_token" not in data


def test_demo_company_exists_on_first_run(home: Path) -> None:
    data = json.loads(kosma(home, "company", "list", "--json").stdout)
    assert data["companies"] == [
        {
            "name": "Demo Company",
            "country": "DE",
            "fiscal_year_start": "01-01",
            "default_currency": "EUR",
        }
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (["--admin-url", "ftp://portal.example.com"], None, "is not a URL"),
        (["--admin-url", "http://portal.example.com"], None, "must use https://"),
        (
            ["--enable", "--admin-url", "https://portal.example.com"],
            None,
            "needs a Customer ID and a Portal API Token",
        ),
        (
            [
                "--enable",
                "--admin-url",
                "https://p.example.com",
                "--customer-id",
                "C1",
                "--api-token-stdin",
            ],
            "\n",
            "is empty",
        ),
        (["--reminder-days", "soon"], None, "whole number"),
        (["--reminder-days", "400"], None, "between 0 and 89"),
        (["--demo", "--admin-url", "https://p.example.com"], None, "contradict"),
    ],
)
def test_bad_settings_say_one_sentence_exit_2_and_change_nothing(
    home: Path, args: list[str], stdin: str | None, fragment: str
) -> None:
    kosma(home, "settings")  # first run creates the store
    before = snapshot(home)
    result = kosma(home, "settings", *args, stdin=stdin)
    assert result.returncode == 2, result
    assert fragment in result.stderr
    assert result.stderr.count("\n") <= 2
    assert "Traceback" not in result.stderr
    assert snapshot(home) == before


def test_token_is_only_read_from_stdin_and_never_shown(home: Path) -> None:
    result = kosma(home, "settings", "--api-token", "secret")
    assert result.returncode == 2
    result = kosma(
        home,
        "settings",
        "--customer-id",
        "C-17",
        "--api-token-stdin",
        "--json",
        stdin="tok-very-secret-9876\n",
    )
    # not enabled and an admin URL-less store: still demo, saved without a portal call failing
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["api_token_set"] is True
    assert "tok-very-secret-9876" not in result.stdout
    shown = kosma(home, "settings")
    assert "tok-very-secret-9876" not in shown.stdout
    assert "9876" in shown.stdout  # masked, last four only
    for path in home.rglob("*"):
        if path.is_file():
            assert b"tok-very-secret-9876" not in path.read_bytes(), path


def test_enable_with_unreachable_portal_saves_and_reports(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeClock()  # the retries' waits are recorded, not slept (7.5 s of them)
    monkeypatch.setattr(Runtime, "retry_clock", fake.clock)
    result = kosma(
        home,
        "settings",
        "--enable",
        "--admin-url",
        "http://127.0.0.1:9",
        "--customer-id",
        "C1",
        "--api-token-stdin",
        stdin="tok\n",
    )
    assert result.returncode == 1
    assert "could not be reached" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake.waits == [0.5, 1.0, 2.0, 4.0]  # four retries, on the runtime's clock
    data = json.loads(kosma(home, "settings", "--json").stdout)
    assert data["enabled"] is True and data["demo"] is False


def test_settings_subscription_from_demo_portal(home: Path) -> None:
    result = kosma(home, "settings", "--party-matching", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["enable_party_matching"] is True
    assert data["subscription"]["transaction_limit"] == 1_000_000


def test_company_add_and_validation(home: Path) -> None:
    ok = kosma(
        home,
        "company",
        "add",
        "Muster GmbH",
        "--country",
        "at",
        "--fiscal-year-start",
        "04-01",
        "--currency",
        "eur",
    )
    assert ok.returncode == 0, ok.stderr
    before = snapshot(home)
    for args, fragment in [
        (["--country", "XX"], "not an ISO 3166 country code"),
        (["--country", "DE", "--fiscal-year-start", "13-01"], "MM-DD"),
        (["--country", "DE", "--fiscal-year-start", "02-29"], "MM-DD"),
        (["--country", "DE", "--currency", "EURO"], "three letters"),
    ]:
        bad = kosma(home, "company", "add", "Other AG", *args)
        assert bad.returncode == 2 and fragment in bad.stderr, bad
    dup = kosma(home, "company", "add", "Muster GmbH", "--country", "DE")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    missing = kosma(home, "company", "set", "Nobody", "--country", "DE")
    assert missing.returncode == 2 and "no company named" in missing.stderr
    assert snapshot(home) == before
    listed = json.loads(kosma(home, "company", "list", "--json").stdout)["companies"]
    assert {
        "name": "Muster GmbH",
        "country": "AT",
        "fiscal_year_start": "04-01",
        "default_currency": "EUR",
    } in listed
    changed = kosma(home, "company", "set", "Muster GmbH", "--fiscal-year-start", "07-01")
    assert changed.returncode == 0
    listed = json.loads(kosma(home, "company", "list", "--json").stdout)["companies"]
    assert any(c["fiscal_year_start"] == "07-01" for c in listed)


def test_unknown_command_is_one_sentence(home: Path) -> None:
    result = kosma(home, "frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_settings_shows_usage_and_status_repeats_the_last_one_fetched(home: Path) -> None:
    never = kosma(home, "status")
    assert "Subscription: not fetched yet" in never.stdout
    assert json.loads(kosma(home, "status", "--json").stdout)["subscription"] is None
    shown = kosma(home, "settings")  # showing, not changing: the usage is fetched too
    assert shown.returncode == 0, shown.stderr
    assert "Subscription: Active, 0 of 1,000,000 transactions used" in shown.stdout
    status = kosma(home, "status")
    assert status.returncode == 0
    assert "Subscription: Active, 0 of 1,000,000 transactions used (as of " in status.stdout
    kept = json.loads(kosma(home, "status", "--json").stdout)["subscription"]
    assert kept["usage"] == 0 and kept["transaction_limit"] == 1_000_000 and kept["fetched"]


def test_company_names_are_unique_regardless_of_case_and_of_a_sane_length(home: Path) -> None:
    twin = kosma(home, "company", "add", "demo  COMPANY", "--country", "DE")
    assert twin.returncode == 2
    assert twin.stderr == (
        "kosma-tui: Company 'Demo Company' already exists (names are "
        "compared regardless of case); change it with 'kosma-tui company "
        "set'.\n"
    )
    huge = kosma(home, "company", "add", "A" * 10_000, "--country", "DE")
    assert huge.returncode == 2
    assert "at most 140 characters (as in ERPNext); this one has 10,000" in huge.stderr
    assert kosma(home, "company", "add", "B" * 140, "--country", "DE").returncode == 0
    changed = kosma(home, "company", "set", "DEMO company", "--fiscal-year-start", "04-01")
    assert changed.returncode == 0, changed.stderr
    listed = json.loads(kosma(home, "company", "list", "--json").stdout)["companies"]
    assert [(c["name"], c["fiscal_year_start"]) for c in listed] == [
        ("B" * 140, "01-01"),
        ("Demo Company", "04-01"),
    ]

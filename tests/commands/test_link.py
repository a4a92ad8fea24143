"""``kosma-tui link`` with only the embedded Demo Bank portal (Ctrl+C in a real process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from cli_support import DEMO_BANK_LINK, kosma

from kosma_tui.core import clock
from kosma_tui.core.store import Store

DEMO = list(DEMO_BANK_LINK)


def env_for(home: Path, now: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["KOSMA_TUI_HOME"] = str(home)
    env.pop("KOSMA_TUI_NOW", None)
    env.pop("SSH_CLIENT", None)
    if now:
        env["KOSMA_TUI_NOW"] = now
    return env


def link(
    home: Path, args: list[str], stdin: str, now: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``kosma-tui link ARGS`` in this process, not attended over SSH."""
    return kosma(home, "link", *args, stdin=stdin, now=now, extra_env={"SSH_CLIENT": None})


def snapshot(home: Path) -> tuple[list[str], list[str], list[str]]:
    store = Store.open()
    return (
        [b.name for b in store.banks()],
        [a.name for a in store.accounts()],
        [c.name for c in store.consents()],
    )


def test_links_three_demo_accounts_from_stdin(home: Path) -> None:
    done = link(home, DEMO, "embedded\n12345\n12345\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.splitlines()[0].endswith("DEMO (built-in Demo Bank portal)")
    assert "Added 3 Bank Accounts" in out
    assert "90 days left" in out
    assert "Password: (hidden)" in out and "OTP: (hidden)" in out  # secrets never echoed
    assert not [line for line in out.splitlines() if line.endswith(": 12345")]
    store = Store.open()
    assert [b.name for b in store.banks()] == ["Demo Bank"]
    assert len(store.accounts(bank="Demo Bank", company="Demo Company")) == 3
    consent = store.consent("Demo Bank-Demo Company")
    assert consent is not None and consent.consent_start == clock.today().isoformat()
    assert store.link_sessions(status="Running") == []

    again = link(home, DEMO, "embedded\n12345\n12345\n")
    assert again.returncode == 0, again.stderr
    assert "already known" in again.stdout and "Updated 3 Bank Accounts" in again.stdout
    assert len(Store.open().accounts()) == 3


def test_wrong_otp_is_reported_and_asked_again(home: Path) -> None:
    done = link(home, DEMO, "embedded\n12345\n99999\n12345\n")
    assert done.returncode == 0, done.stderr
    assert "The OTP was not accepted" in done.stdout
    assert "Added 3 Bank Accounts" in done.stdout


def test_three_wrong_otps_fail_with_exit_1(home: Path) -> None:
    done = link(home, DEMO, "embedded\n12345\n99999\n99999\n99999\n")
    assert done.returncode == 1
    assert "blocked" in done.stderr and "Contact your bank" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(home) == ([], [], [])
    assert Store.open().link_sessions(status="Running") == []


@pytest.mark.parametrize(
    ("username", "sentence"),
    [
        ("wrong", "The bank refused the login."),
        ("bank-maintenance", "maintenance"),
        ("technical", "technical error"),
    ],
)
def test_portal_failures_exit_1_with_a_sentence(home: Path, username: str, sentence: str) -> None:
    done = link(home, DEMO, f"{username}\n12345\n")
    assert done.returncode == 1
    assert sentence in done.stderr and done.stderr.startswith("kosma-tui: ")
    assert "Traceback" not in done.stderr
    assert snapshot(home) == ([], [], [])


def test_decoupled_login_waits_for_the_approval(home: Path) -> None:
    done = link(home, DEMO, "decoupled\n12345\n")
    assert done.returncode == 0, done.stderr
    assert "Approve the login in your banking app" in done.stdout
    assert "Approved after" in done.stdout
    assert "Added 3 Bank Accounts" in done.stdout


def test_decoupled_abort_exits_1(home: Path) -> None:
    done = link(home, DEMO, "decoupled-abort\n12345\n")
    assert done.returncode == 1
    assert "cancelled or declined in the banking app" in done.stderr  # not "by you"
    assert "approve the login in your banking app" in done.stderr
    assert snapshot(home) == ([], [], [])


def test_choices_without_options_are_listed_and_read_from_stdin(home: Path) -> None:
    done = link(
        home,
        ["--company", "Demo Company", "--accounts", "all"],
        "de\nTESTDE10XXX\n1\nembedded\n12345\n12345\n",
    )
    assert done.returncode == 0, done.stderr
    assert "1. Deutschland" in done.stdout
    assert "Demo Bank PSD2" in done.stdout
    assert "Added 3 Bank Accounts" in done.stdout


def test_empty_start_date_means_the_fiscal_year_start(home: Path) -> None:
    done = link(home, [*DEMO, "--start-date", ""], "embedded\n12345\n12345\n")
    assert done.returncode == 0, done.stderr
    first = date(clock.today().year, 1, 1)
    assert f"Start Date: {first.isoformat()}" in done.stdout
    consent = Store.open().consent("Demo Bank-Demo Company")
    assert consent is not None and consent.consent_start == first.isoformat()
    if first != clock.today():
        assert "transaction limit" in done.stdout


def test_renewal_prefills_the_oldest_last_integration_date(home: Path) -> None:
    assert link(home, DEMO, "embedded\n12345\n12345\n").returncode == 0
    store = Store.open()
    accounts = store.accounts()
    oldest = date.fromordinal(clock.today().toordinal() - 10).isoformat()
    store.update_account(accounts[0].name, last_integration_date=oldest)
    store.update_account(accounts[1].name, last_integration_date=clock.today().isoformat())

    renewal = link(home, DEMO, "embedded\n12345\n12345\n")
    assert renewal.returncode == 0, renewal.stderr
    assert f"Start Date: {oldest}" in renewal.stdout
    consent = Store.open().consent("Demo Bank-Demo Company")
    assert consent is not None and consent.consent_start == oldest

    later = link(
        home, [*DEMO, "--start-date", clock.today().isoformat()], "embedded\n12345\n12345\n"
    )
    assert later.returncode == 0, later.stderr
    assert "gap" in later.stdout


def test_end_of_input_mid_flow_ends_the_session_and_exits_2(home: Path) -> None:
    done = link(home, DEMO, "embedded\n12345\n")
    assert done.returncode == 2
    assert "Standard input ended" in done.stderr and "session was ended" in done.stderr
    store = Store.open()
    assert store.link_sessions(status="Running") == []
    assert store.link_sessions(status="Closed")
    assert snapshot(home) == ([], [], [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--company", "Nobody"], "no company named 'Nobody'"),
        ([*DEMO, "--start-date", "2026-02-30"], "not a valid Start Date"),
        ([*DEMO, "--start-date", "2999-01-01"], "in the future"),
        (["--company", "Demo Company", "--country", "XX"], "not an ISO 3166 country"),
        (["--company", "Demo Company", "--country", "Narnia"], "no 'Narnia'"),
        (
            ["--company", "Demo Company", "--country", "DE", "--bank", "No Such Bank"],
            "no 'No Such Bank'",
        ),
        (["--company", "Demo Company", "--country", "DE", "--bank", "Demo"], "several"),
        ([*DEMO[:6], "--method", "Carrier Pigeon"], "no 'Carrier Pigeon'"),
        ([*DEMO, "--accounts", "some"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(home: Path, args: list[str], message: str) -> None:
    done = link(home, args, "embedded\n12345\n12345\n")
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(home) == ([], [], [])
    assert Store.open().link_sessions(status="Running") == []


def test_bad_otp_line_exits_2(home: Path) -> None:
    done = link(home, DEMO, "embedded\n12345\nabc\n")
    assert done.returncode == 2
    assert "digits" in done.stderr
    assert snapshot(home) == ([], [], [])
    assert Store.open().link_sessions(status="Running") == []


def test_ctrl_c_during_the_decoupled_wait_ends_the_session(home: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "kosma_tui", "link", *DEMO],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(home),
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("decoupled\n12345\n")
    process.stdin.flush()
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if not line or "Approve the login" in line:
            break
    assert "Approve the login" in seen[-1], seen
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert "cancelled" in err and "session was ended" in err
    store = Store.open()
    assert store.link_sessions(status="Running") == []
    assert snapshot(home) == ([], [], [])

"""Reminders by mail (DESIGN 8): ``settings --mail-to ...``, the daily job and
``kosma-tui remind`` against a real SMTP server on loopback (and a sendmail)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from mail_support import SMTPServer
from sync_support import kosma
from test_sync_commands import link_demo, open_store, snapshot

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

TODAY = date.today()
PASSWORD = "s3cret-smtp-Pässwort"


def at(day: date, hour: int = 10) -> str:
    return datetime(day.year, day.month, day.day, hour).astimezone().isoformat()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SMTPServer]:
    server = SMTPServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def two_consents(home: Path) -> Path:
    """Demo Bank linked today for two companies: two consents expiring in 90 days."""
    assert kosma(home, "company", "add", "Muster GmbH", "--country", "DE").returncode == 0
    link_demo(home, "embedded", TODAY - timedelta(days=3))
    link_demo(home, "embedded", TODAY - timedelta(days=3), company="Muster GmbH")
    return home


def mail_to_smtp(home: Path, server: SMTPServer, *extra: str, stdin: str = "") -> None:
    done = kosma(
        home,
        "settings",
        "--mail-to",
        "admin@example.org, it@example.org",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(server.port),
        *extra,
        stdin=stdin,
    )
    assert done.returncode == 0, done.stderr


def test_two_daily_runs_and_remind_send_one_mail_per_due_consent(
    two_consents: Path, smtp: SMTPServer
) -> None:
    home = two_consents
    mail_to_smtp(home, smtp, "--smtp-plain")
    expiry = {c.name: c.consent_expiry for c in open_store(home).consents()}

    quiet = kosma(home, "remind", "--json", now=at(TODAY + timedelta(days=30)))
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["reminders"] == []
    assert smtp.messages == []

    day = TODAY + timedelta(days=87)  # 3 days left, within the 7 reminder days
    for _ in range(2):
        job = kosma(home, "sync", "--all", now=at(day))
        assert job.returncode == 0, job.stdout + job.stderr
    remind = kosma(home, "remind", "--json", now=at(day, 18))
    assert remind.returncode == 1  # like status: consents expire soon
    report = json.loads(remind.stdout)
    assert {r["mail"] for r in report["reminders"]} == {"already_sent"}

    assert len(smtp.messages) == 2  # one per consent, however often it ran
    by_company = {}
    for message in smtp.messages:
        assert message["To"] == "admin@example.org, it@example.org"
        assert message["Auto-Submitted"] == "auto-generated"
        body = message.get_content()
        company = "Muster GmbH" if "Muster GmbH" in message["Subject"] else "Demo Company"
        by_company[company] = (message["Subject"], body)
    assert set(by_company) == {"Demo Company", "Muster GmbH"}
    for company, (subject, body) in by_company.items():
        name = f"Demo Bank-{company}"
        local = datetime.fromisoformat(expiry[name]).astimezone()
        assert "Demo Bank" in subject and company in subject and "in 3 days" in subject
        assert "Demo Bank" in body and company in body
        assert f"{local:%Y-%m-%d %H:%M}" in body  # the expiry
        assert "Days left:   3" in body
        assert f'kosma-tui link --company "{company}" --bank "Demo Bank"' in body
    for envelope in smtp.inbox.envelopes:
        assert sorted(envelope.rcpt_tos) == ["admin@example.org", "it@example.org"]

    # the next day: one more each; after expiry still reminded, and status-like exit 2
    assert kosma(home, "remind", now=at(day + timedelta(days=1))).returncode == 1
    assert len(smtp.messages) == 4
    expired = kosma(home, "remind", now=at(TODAY + timedelta(days=95)))
    assert expired.returncode == 2 and "mailed to admin@example.org" in expired.stdout
    assert "has expired" in smtp.messages[-1]["Subject"]
    assert len(smtp.messages) == 6

    off = kosma(home, "settings", "--mail-to", "", "--json")
    assert off.returncode == 0 and json.loads(off.stdout)["mail_to"] == []
    assert kosma(home, "sync", "--all", now=at(TODAY + timedelta(days=96))).returncode == 1
    assert len(smtp.messages) == 6  # reminders off: the daily job mails nothing


def test_starttls_with_login_and_the_password_stored_encrypted(
    two_consents: Path, tmp_path: Path
) -> None:
    home = two_consents
    server = SMTPServer(tmp_path, "starttls", login=("reminders", PASSWORD))
    try:
        mail_to_smtp(
            home,
            server,
            "--smtp-starttls",
            "--smtp-user",
            "reminders",
            "--smtp-password-stdin",
            stdin=PASSWORD + "\n",
        )
        shown = kosma(home, "settings", "--json")
        data = json.loads(shown.stdout)
        assert data["smtp_password_set"] is True and "smtp_password" not in data
        assert data["smtp_security"] == "starttls" and data["smtp_user"] == "reminders"
        for path in home.rglob("*"):
            if path.is_file():
                assert PASSWORD.encode() not in path.read_bytes(), path

        test = kosma(home, "remind", "--test", extra_env=server.env())
        assert test.returncode == 0, test.stderr
        assert "Test mail sent to admin@example.org, it@example.org." in test.stdout
        assert server.logins == ["reminders"]
        assert server.messages[0]["Subject"] == "kosma-tui test mail"

        # without trusting the certificate, TLS verification refuses: a sentence, exit 1
        untrusted = kosma(home, "remind", "--test")
        assert untrusted.returncode == 1
        assert "TLS connection to the SMTP server" in untrusted.stderr
        assert "Traceback" not in untrusted.stderr and PASSWORD not in untrusted.stderr
    finally:
        server.stop()


def test_ssl_and_a_wrong_password(two_consents: Path, tmp_path: Path) -> None:
    home = two_consents
    server = SMTPServer(tmp_path, "ssl", login=("reminders", PASSWORD))
    try:
        mail_to_smtp(
            home,
            server,
            "--smtp-ssl",
            "--smtp-user",
            "reminders",
            "--smtp-password-stdin",
            stdin="wrong\n",
        )
        due = kosma(home, "remind", now=at(TODAY + timedelta(days=88)), extra_env=server.env())
        assert due.returncode == 1
        assert "refused the login" in due.stderr and "mail FAILED" in due.stdout
        assert server.messages == []
        # a failed mail is not noted: fixed, the same day's run sends it
        kosma(home, "settings", "--smtp-password-stdin", stdin=PASSWORD + "\n")
        again = kosma(home, "remind", now=at(TODAY + timedelta(days=88)), extra_env=server.env())
        assert again.returncode == 1 and len(server.messages) == 2
    finally:
        server.stop()


def test_local_sendmail(two_consents: Path, tmp_path: Path) -> None:
    home = two_consents
    folder = tmp_path / "bin"
    folder.mkdir()
    out = tmp_path / "sent.eml"
    fake = folder / "sendmail"
    fake.write_text(f'#!/bin/sh\necho "$@" > {out}.args\ncat >> {out}\n')
    fake.chmod(0o755)
    done = kosma(home, "settings", "--mail-to", "admin@example.org", "--sendmail")
    assert done.returncode == 0, done.stderr
    env = {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}
    # the last minute before the consents end, on their last day whatever time they were
    # linked at (a fixed hour on day 90 is after the end for a consent linked before it)
    end = min(datetime.fromisoformat(c.consent_expiry) for c in open_store(home).consents())
    last = max(end - timedelta(minutes=1), end.replace(hour=0, minute=0, second=0))
    sent = kosma(home, "remind", now=last.isoformat(), extra_env=env)
    assert sent.returncode == 1  # expires today
    assert out.with_suffix(".eml.args").read_text().split() == ["-t", "-oi"]
    text = out.read_text()
    assert text.count("Subject: Bank consent Demo Bank for") == 2
    assert "expires today" in text and "To: admin@example.org" in text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--mail-to", "not-an-address"], "'not-an-address' is not a mail address"),
        (["--mail-to", "a@example.org"], "Say how reminder mails are sent"),
        (["--mail-to", "a@example.org", "--smtp-host", "mail example"], "is not an SMTP host"),
        (
            [
                "--mail-to",
                "a@example.org",
                "--smtp-host",
                "mail.example.org",
                "--smtp-port",
                "70000",
            ],
            "SMTP port",
        ),
        (
            ["--mail-to", "a@example.org", "--smtp-host", "mail.example.org", "--sendmail"],
            "not allowed with",
        ),
        (
            [
                "--mail-to",
                "a@example.org",
                "--smtp-host",
                "mail.example.org",
                "--smtp-plain",
                "--smtp-user",
                "u",
                "--smtp-password-stdin",
            ],
            "only over an encrypted connection",
        ),
    ],
)
def test_bad_mail_settings_exit_2_and_change_nothing(
    home: Path, args: list[str], fragment: str
) -> None:
    assert kosma(home, "settings").returncode == 0
    before = snapshot(home)
    result = kosma(home, "settings", *args, stdin="pw\n")
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert snapshot(home) == before


def test_remind_without_mail_settings_or_server(home: Path, smtp: SMTPServer) -> None:
    link_demo(home, "embedded", TODAY)
    unset = kosma(home, "remind")
    assert unset.returncode == 2 and "Reminders by mail are not set up" in unset.stderr
    port = smtp.port
    smtp.stop()  # nobody listens there any more
    done = kosma(
        home,
        "settings",
        "--mail-to",
        "a@example.org",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--smtp-plain",
    )
    assert done.returncode == 0
    failed = kosma(home, "remind", "--json", now=at(TODAY + timedelta(days=85)))
    assert failed.returncode == 1
    report = json.loads(failed.stdout)
    assert report["reminders"][0]["mail"] == "failed"
    assert "could not be reached" in report["reminders"][0]["error"]["message"]
    job = kosma(home, "sync", "--all", now=at(TODAY + timedelta(days=85)))
    assert job.returncode == 0  # a mail that fails never fails the daily job
    assert "was not mailed" in job.stderr


def test_runs_at_the_same_time_send_one_mail_per_consent(
    two_consents: Path, smtp: SMTPServer
) -> None:
    import subprocess

    home = two_consents
    mail_to_smtp(home, smtp, "--smtp-plain")
    env = {
        **os.environ,
        "KOSMA_TUI_HOME": str(home),
        "KOSMA_TUI_NOW": at(TODAY + timedelta(days=86)),
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "kosma_tui", "remind", "--json"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = []
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 1, err
        outcomes += [r["mail"] for r in json.loads(out)["reminders"]]
    assert sorted(outcomes) == ["already_sent"] * 4 + ["sent"] * 2
    assert len(smtp.messages) == 2

"""No control character of outside origin reaches a terminal, in any command.

The hostile portal glues ESC, BEL, NUL, CR, DEL, a C1 CSI and bidi controls to
every text it answers (subscription, balances, transactions: ids, currencies,
references, counterparties) and to the texts of a field error; bad options
and a CSV carry them too. Text output shows them as visible escapes; JSON keeps
the exact text, as JSON escapes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_portal import NASTY, HostilePortal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from sync_support import client_for, kosma, link

from kosma_tui.core.store import Store

CONSENT_CALLS = {
    "fetch_subscription_details",
    "fetch_consent_accounts",
    "fetch_consent_balances",
    "fetch_consent_transactions",
}


def assert_terminal_safe(text: str) -> None:
    raw = sorted({repr(ch) for ch in text if not ch.isprintable() and ch != "\n"})
    assert not raw, f"raw control characters reached the terminal: {raw}"


@pytest.fixture
def hostile(demo_portal: Any, home: Path) -> Iterator[HostilePortal]:
    """A store linked through the proxy, whose settings point at it."""
    with HostilePortal(str(demo_portal.url)) as proxy:
        store = Store.open()

        async def linked() -> None:
            async with client_for(proxy.url) as client:
                await link(store, client, "embedded")

        asyncio.run(linked())
        done = kosma(
            home,
            "settings",
            "--enable",
            "--admin-url",
            proxy.url,
            "--customer-id",
            "test-customer",
            "--api-token-stdin",
            stdin="test-token\n",
        )
        assert done.returncode == 0, done.stderr
        proxy.methods = set(CONSENT_CALLS)
        yield proxy


def test_every_portal_text_is_escaped_on_the_terminal_and_exact_in_json(
    home: Path, hostile: HostilePortal
) -> None:
    hostile.mode = "control"
    shown = kosma(home, "settings", "--reminder-days", "5")
    assert shown.returncode == 0, shown.stderr
    assert "\\x1b[31m\\x07\\x00 \\x7f\\x9b\\u202e\\u2066" in shown.stdout  # status, billing link
    synced = kosma(home, "sync", "--all")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    outputs = [shown, synced]
    for args in (
        ["status"],
        ["transactions"],
        ["transactions", "--format", "csv"],
        ["status", "--json"],
        ["transactions", "--format", "json"],
    ):
        done = kosma(home, *args)
        assert done.returncode in (0, 1), done.stderr
        outputs.append(done)
    for done in outputs:
        assert_terminal_safe(done.stdout + done.stderr)
    table, csv_text = outputs[3].stdout, outputs[4].stdout
    assert "\\x1b[31m" in table and "\\x1b[31m" in csv_text
    rows = json.loads(outputs[6].stdout)
    assert rows and all(row["transaction_id"].endswith(NASTY) for row in rows)
    assert all(row["currency"] == "EUR" + NASTY for row in rows)
    assert all(
        row["raw"]["reference"].endswith(NASTY) for row in rows if row["raw"].get("reference")
    )
    status = json.loads(outputs[5].stdout)
    assert status["accounts"][0]["balance"]["currency"] == "EUR" + NASTY


def test_a_field_error_from_the_portal_is_escaped(home: Path, hostile: HostilePortal) -> None:
    hostile.mode = "field-error"
    done = kosma(home, "sync", "--all")
    assert done.returncode == 1
    assert_terminal_safe(done.stdout + done.stderr)
    assert "start_date\\x1b[31m" in done.stdout and "bad\\x1b[31m" in done.stdout
    data = json.loads(kosma(home, "sync", "--all", "--json").stdout)
    message = data["accounts"][0]["error"]["message"]
    assert "bad" + NASTY in message  # JSON keeps the exact text


def test_bad_input_carrying_controls_is_answered_with_an_escaped_sentence(
    home: Path, tmp_path: Path
) -> None:
    bad_url = kosma(home, "settings", "--admin-url", "ftp://x\x1b[31m\x07\u202e")
    assert bad_url.returncode == 2
    parties = tmp_path / "parties.csv"
    parties.write_text(
        "party_type,name,iban,account_number\nCustomer,ACME,DE89\x1b[31m\x07\u202e3704,\n",
        encoding="utf-8",
    )
    bad_iban = kosma(home, "party", "import", str(parties))
    assert bad_iban.returncode == 2
    for done in (bad_url, bad_iban):
        assert done.stderr.startswith("kosma-tui: ")
        assert_terminal_safe(done.stdout + done.stderr)
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize("value", ["20240101", "2024-W01-1", "2024-1-01", "2024-01-01T00:00"])
def test_dates_in_options_are_exactly_yyyy_mm_dd(home: Path, value: str) -> None:
    for args in (
        ["transactions", "--since", value],
        ["link", "--company", "Demo Company", "--start-date", value],
        ["account", "set-last-integration-date", "Anything", value],
    ):
        done = kosma(home, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert f"'{value}' is not a valid" in done.stderr and "YYYY-MM-DD" in done.stderr


def test_a_bank_date_carrying_controls_is_refused_with_an_escaped_sentence(
    home: Path, hostile: HostilePortal
) -> None:
    hostile.mode, hostile.bad_date = "impossible-dates", "2026-11-01\x1b[2J\u202e"
    done = kosma(home, "sync", "--all")
    assert done.returncode == 1
    assert_terminal_safe(done.stdout + done.stderr)
    assert "has value_date '2026-11-01\\x1b[2J\\u202e', which is not a calendar date" in (
        done.stdout
    )


@pytest.mark.parametrize(
    ("args", "stdin", "sentence"),
    [
        (
            ["settings", "--customer-id", "C-1\x1b[31m"],
            "",
            "The Customer ID cannot contain spaces or control characters.",
        ),
        (
            ["settings", "--api-token-stdin"],
            "tok\x07en\n",
            "The Portal API Token cannot contain spaces or control characters.",
        ),
        (["settings", "--admin-url", "https://portal.example.com:99999"], "", "is not a URL"),
        (["transactions", "--since", ""], "", "'' is not a valid --since date"),
    ],
)
def test_bad_option_values_are_refused_and_nothing_is_saved(
    home: Path, args: list[str], stdin: str, sentence: str
) -> None:
    Store.open()
    meta = next(home.rglob("meta.json"))
    before = meta.read_bytes()
    done = kosma(home, *args, stdin=stdin)
    assert done.returncode == 2, done.stderr
    assert sentence in done.stderr
    assert_terminal_safe(done.stderr)
    assert meta.read_bytes() == before

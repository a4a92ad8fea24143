"""``kosma-tui sync``, ``status``, ``transactions`` and ``account`` as people and cron run them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from cli_support import DEMO_BANK_LINK
from proxy_support import PortalProxy
from sync_support import client_for, kosma, link

TODAY = date.today()


def open_store(home: Path) -> Any:
    from kosma_tui.core.paths import resolve_paths
    from kosma_tui.core.store import Store

    return Store.open(resolve_paths(home))


def link_demo(
    home: Path, username: str = "embedded", start: date | None = None, company: str = "Demo Company"
) -> Any:
    """Link through the embedded Demo Bank portal (demo mode), as ``kosma-tui link`` would."""
    from kosma_tui.runtime import Runtime

    store = open_store(home)

    async def go(runtime: Runtime) -> Any:
        async with runtime.portal(attended=True) as client:
            return await link(store, client, username, start=start, company=company)

    with Runtime(store=store) as runtime:  # its embedded portal stops at the end
        return asyncio.run(go(runtime))


def snapshot(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and "logs" not in p.parts and p.suffix != ".lock"
    }


@pytest.fixture
def linked(home: Path) -> Path:
    link_demo(home, "embedded", TODAY - timedelta(days=30))
    return home


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A linked and synced home shared by the tests that only read (and check so)."""
    home = tmp_path_factory.mktemp("synced") / "home"
    link_demo(home, "embedded", TODAY - timedelta(days=60))
    assert kosma(home, "sync", "--all").returncode == 0
    return home


def test_acceptance_link_sync_all_twice_and_status(home: Path) -> None:
    """Only the embedded Demo Bank portal: link, sync --all twice, status."""
    linked = kosma(
        home,
        "link",
        *DEMO_BANK_LINK,
        "--start-date",
        (TODAY - timedelta(days=30)).isoformat(),
        "--accounts",
        "all",
        stdin="embedded\n12345\n12345\n",
    )
    assert linked.returncode == 0, linked.stdout + linked.stderr
    assert "90 days left" in linked.stdout
    first = kosma(home, "sync", "--all", "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["demo"] is True
    assert len(data["accounts"]) == 3
    assert all(a["status"] == "ok" for a in data["accounts"])
    assert sum(a["new"] for a in data["accounts"]) > 0
    for item in data["accounts"]:
        assert set(item) == {
            "name",
            "status",
            "fetched",
            "new",
            "updated",
            "skipped",
            "matched",
            "error",
            "last_integration_date",
            "read_through",
            "stopped",
            "push_error",
        }
        assert item["error"] is None and item["stopped"] is None
        assert item["push_error"] is None

    second = kosma(home, "sync", "--all", "--json")
    assert second.returncode == 0, second.stderr
    assert sum(a["new"] for a in json.loads(second.stdout)["accounts"]) == 0

    status = kosma(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert [(c["days_left"], c["status"]) for c in report["consents"]] == [(90, "active")]
    assert set(report["consents"][0]) == {
        "name",
        "bank",
        "company",
        "consent_start",
        "consent_expiry",
        "days_left",
        "status",
    }
    assert len(report["accounts"]) == 3
    for account in report["accounts"]:
        assert set(account) == {
            "name",
            "bank",
            "company",
            "iban",
            "currency",
            "enabled",
            "last_integration_date",
            "balance",
            "last_sync",
            "balance_check",
            "coverage",
        }
        assert account["balance_check"]["status"] == "ok"
        assert account["last_sync"]["outcome"] == "ok"
    assert "token" not in status.stdout.lower()
    text = kosma(home, "status")
    assert "90 days left" in text.stdout and "OK" in text.stdout


def test_sync_one_account_text_output(linked: Path) -> None:
    name = sorted(a.name for a in open_store(linked).accounts())[0]
    result = kosma(linked, "sync", "--account", name)
    assert result.returncode == 0, result.stderr
    assert "DEMO" in result.stdout
    assert f"✓ {name}:" in result.stdout and "new" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "--account NAME"),
        (["--all", "--account", "Girokonto (Max Mustermann)"], "not both"),
        (["--account", "No Such Account"], "no bank account named 'No Such Account'"),
    ],
)
def test_sync_usage_errors_exit_2_and_change_nothing(
    synced: Path, args: list[str], fragment: str
) -> None:
    before = snapshot(synced)
    result = kosma(synced, "sync", *args)
    assert result.returncode == 2, result
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert snapshot(synced) == before


def test_sync_refused_and_failed_exit_1(home: Path) -> None:
    link_demo(home, "invalid-transactions-timerange")
    result = kosma(home, "sync", "--all")
    assert result.returncode == 1
    assert "failed. The bank refuses transactions for that date range." in result.stdout
    data = json.loads(kosma(home, "sync", "--all", "--json").stdout)
    assert {a["error"]["code"] for a in data["accounts"]} == {
        "NOT_SUPPORTED.TRANSACTIONS_DATE_RANGE"
    }
    assert kosma(home, "status").returncode == 2


def test_status_exit_codes_follow_days_left(linked: Path) -> None:
    assert kosma(linked, "status").returncode == 0
    warning = kosma(linked, "status", now=(TODAY + timedelta(days=85)).isoformat())
    assert warning.returncode == 1
    assert "expires in 5 days" in warning.stdout and "WARNING" in warning.stdout
    expired = kosma(linked, "status", "--json", now=(TODAY + timedelta(days=91)).isoformat())
    assert expired.returncode == 2
    assert json.loads(expired.stdout)["consents"][0]["status"] == "expired"
    refused = kosma(linked, "sync", "--all", now=(TODAY + timedelta(days=91)).isoformat())
    assert refused.returncode == 1 and "expired" in refused.stdout


def test_status_imports_neither_textual_nor_the_portal_client(synced: Path) -> None:
    probe = (
        "import sys\nfrom kosma_tui.cli import main\nrc = main(['status'])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'httpx') or m in "
        "('kosma_tui.core.portal', 'kosma_tui.core.sync.engine')]\n"
        "print('LOADED', bad, file=sys.stderr)\n"
    )
    env = {**os.environ, "KOSMA_TUI_HOME": str(synced)}
    env.pop("KOSMA_TUI_NOW", None)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert "LOADED []" in result.stderr, result.stderr


def test_transactions_table_csv_json(synced: Path) -> None:
    store = open_store(synced)
    account = sorted(store.accounts(), key=lambda a: a.name)[0]
    rows = store.book(account).all_rows()
    assert rows

    table = kosma(synced, "transactions", "--account", account.name)
    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert f"{len(rows):,} transaction(s)" in table.stdout
    first = rows[0]
    signed = (first["deposit"] - first["withdrawal"]) / 100
    assert f"{signed:+,.2f} EUR".replace("+-", "-") in table.stdout

    exported = json.loads(
        kosma(synced, "transactions", "--account", account.name, "--format", "json").stdout
    )
    assert len(exported) == len(rows)
    assert list(exported[0]) == [
        "bank_account",
        "date",
        "deposit",
        "withdrawal",
        "currency",
        "transaction_id",
        "reference_number",
        "description",
        "bank_party_name",
        "bank_party_iban",
        "bank_party_account_number",
        "status",
        "party_type",
        "party",
        "erpnext_name",
        "raw",
    ]
    assert [r["transaction_id"] for r in exported] == [r["transaction_id"] for r in rows]

    since = rows[len(rows) // 2]["date"]
    text = kosma(
        synced, "transactions", "--account", account.name, "--format", "csv", "--since", since
    ).stdout
    assert "\x1b" not in text and "\x07" not in text
    records = list(csv.DictReader(io.StringIO(text)))
    assert records and all(r["date"] >= since for r in records)
    assert len(records) == sum(1 for r in rows if r["date"] >= since)
    amount = records[0]["deposit"] if records[0]["deposit"] != "0.00" else records[0]["withdrawal"]
    assert "." in amount and len(amount.split(".")[1]) == 2

    assert not table.stdout.splitlines()[1].startswith("account")  # one account: no column
    lines = kosma(synced, "transactions").stdout.splitlines()
    assert lines[1].startswith("account ")  # several accounts: each line says whose
    short = {a.name[:15] for a in store.accounts()}
    assert {line[:15] for line in lines[2:-1]} <= short
    assert len({line[:15] for line in lines[2:-1]}) == len(store.accounts())

    everything = json.loads(kosma(synced, "transactions", "--format", "json").stdout)
    assert len(everything) == sum(store.book(a).count() for a in store.accounts())
    dates = [r["date"] for r in everything]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "yesterday"], "is not a valid --since date"),
        (["--account", "Nobody"], "no bank account named 'Nobody'"),
        (["--format", "xml"], "invalid choice"),
    ],
)
def test_transactions_bad_input(synced: Path, args: list[str], fragment: str) -> None:
    result = kosma(synced, "transactions", *args)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_set_last_integration_date_is_the_conflict_remedy(home: Path) -> None:
    consent = link_demo(home, "embedded", TODAY - timedelta(days=10))
    name = sorted(a.name for a in open_store(home).accounts())[0]
    old = (TODAY - timedelta(days=40)).isoformat()
    assert kosma(home, "account", "set-last-integration-date", name, old).returncode == 0
    refused = kosma(home, "sync", "--account", name)
    assert refused.returncode == 1
    assert "is older than the Consent Start Date" in refused.stdout
    assert "set-last-integration-date" in refused.stdout

    before = snapshot(home)
    for bad, fragment in [
        ((TODAY + timedelta(days=1)).isoformat(), "cannot be in the future"),
        ("2025-13-01", "is not a valid Last Integration Date"),
    ]:
        result = kosma(home, "account", "set-last-integration-date", name, bad)
        assert result.returncode == 2 and fragment in result.stderr
    unknown = kosma(home, "account", "set-last-integration-date", "Nobody", old)
    assert unknown.returncode == 2 and "no bank account named 'Nobody'" in unknown.stderr
    assert snapshot(home) == before

    fixed = kosma(home, "account", "set-last-integration-date", name, consent.consent_start)
    assert fixed.returncode == 0
    assert f"is now {consent.consent_start}" in fixed.stdout
    assert kosma(home, "sync", "--account", name).returncode == 0


# POSTs of 'sync --all' for 3 accounts of two pages each: 1 accounts, then per account
# balances, page 1, page 2. Held at 4: account 1's second page (its first page read,
# not yet written); at 6: account 2's first page (account 1 complete).
@pytest.mark.parametrize("hold_at", [4, 6])
def test_a_killed_sync_loses_nothing(home: Path, tmp_path: Path, hold_at: int) -> None:
    """SIGKILL between pages of the daily job; the re-run ends with exactly the full set."""
    from kosma_tui.sandbox import start_portal

    with start_portal(tmp_path / "portal.json") as portal:
        proxy = PortalProxy(portal.url, hold_at)
        try:
            setup = kosma(
                home,
                "settings",
                "--enable",
                "--admin-url",
                proxy.url,
                "--customer-id",
                "C-1",
                "--api-token-stdin",
                stdin="token\n",
            )
            assert setup.returncode == 0, setup.stderr
            consent = asyncio.run(_link(open_store(home), portal.url, "embedded"))
            env = {**os.environ, "KOSMA_TUI_HOME": str(home)}
            env.pop("KOSMA_TUI_NOW", None)
            job = subprocess.Popen(
                [sys.executable, "-m", "kosma_tui", "sync", "--all"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            try:
                assert proxy.held.wait(60), "the sync never reached the held request"
            finally:
                job.send_signal(signal.SIGKILL)
                job.wait()
            proxy.release.set()
            accounts = sorted(open_store(home).accounts(), key=lambda a: a.name)
            partial = {a.name: open_store(home).book(a).count() for a in accounts}
            assert (sum(partial.values()) > 0) == (hold_at > 4)

            rerun = kosma(home, "sync", "--all", "--json")
            assert rerun.returncode == 0, rerun.stdout + rerun.stderr
            store = open_store(home)
            expected = asyncio.run(_expected_ids(store, portal.url, consent.name))
            for account in accounts:
                ids = store.book(account).ids()
                assert store.book(account).count() == len(ids)  # none twice
                assert set(ids) == expected[account.iban]  # exactly the full set
            # (reading them used the stored token after the re-run: it works)
        finally:
            proxy.close()


async def _link(store: Any, url: str, username: str) -> Any:
    async with client_for(url, customer_id="C-1", api_token="token") as client:
        return await link(store, client, username, start=TODAY - timedelta(days=999))


async def _expected_ids(store: Any, url: str, consent_name: str) -> dict[str, set[str]]:
    """Every id a complete sync must hold, read straight from the portal."""
    expected: dict[str, set[str]] = {}
    async with client_for(url, customer_id="C-1", api_token="token") as client:
        for account in store.accounts():
            consent = store.consent(consent_name)
            ids: set[str] = set()
            page, token = None, consent.consent_token
            start = date.fromisoformat(consent.consent_start)
            while True:
                rotated = await client.fetch_consent_transactions(
                    consent.consent_id, token, account.kosma_account_id, start, page=page
                )
                token = rotated.consent_token
                store.update_consent_token(consent_name, token)
                ids |= {
                    t["transaction_id"]
                    for t in rotated.result.transactions
                    if t.get("transaction_id") and t["state"] not in ("CANCELED", "FAILED")
                }
                page = rotated.result.next
                if page is None:
                    break
            expected[account.iban] = ids
    return expected


def test_on_a_terminal_sync_shows_progress_and_is_attended(linked: Path) -> None:
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "KOSMA_TUI_HOME": str(linked)}
    env.pop("KOSMA_TUI_NOW", None)
    job = subprocess.Popen(
        [sys.executable, "-m", "kosma_tui", "sync", "--all"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    assert job.wait(timeout=60) == 0
    text = output.decode()
    assert "page 1," in text and "fetched" in text  # progress, overwritten in place
    assert text.count("✓") == 3
    accounts = open_store(linked).accounts()
    assert all(a.last_sync.unattended is False for a in accounts)


def test_disabled_settings_are_a_configuration_error(linked: Path) -> None:
    assert (
        kosma(
            linked, "settings", "--admin-url", "https://portal.example.com", "--disable"
        ).returncode
        == 0
    )
    before = snapshot(linked)
    result = kosma(linked, "sync", "--all")
    assert result.returncode == 2
    assert "Banking Settings are disabled" in result.stderr
    assert snapshot(linked) == before

"""What the push must not hide: unknown parties, placeholder references, reconciled
documents the bank cancelled, refusals that changed nothing, failed automatic pushes."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from erpnext_support import ACCOUNT, add_account, add_rows, connect_store, row, rows_of
from frappe_double import FrappeDouble, validation

from kosma_tui.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from sync_support import kosma, link

INSERTS = "/api/method/frappe.client.insert_many"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(list(args))
    return status, capsys.readouterr().out


def by_tid(erp: FrappeDouble) -> dict[str, dict[str, Any]]:
    return {d["transaction_id"]: d for d in erp.bank_transactions()}


def test_an_unknown_party_is_left_off_and_named_without_single_inserts(connected, erp, capsys):
    add_account(connected)
    rows = [row(ACCOUNT, n, party_type="Customer", party="Globex") for n in range(250)]
    rows[3]["party"] = rows[210]["party"] = "Nobody Ltd"
    add_rows(connected, rows)
    status, out = run(capsys, "erpnext", "push", "--json")
    data = json.loads(out)
    assert status == 0 and data["totals"]["created"] == 250
    assert data["accounts"][0]["missing_parties"] == [
        {"party": "Customer 'Nobody Ltd'", "transactions": 2}
    ]
    assert erp.count("POST", INSERTS) == 2  # two batches, no fallback to single inserts
    docs = by_tid(erp)
    assert docs["tx-000003"]["party"] is None and docs["tx-000003"]["party_type"] is None
    assert docs["tx-000004"]["party"] == "Globex"
    add_rows(connected, [row(ACCOUNT, 900, party_type="Customer", party="Nobody Ltd")])
    status, out = run(capsys, "erpnext", "push")
    assert status == 0
    assert "pushed without a party ERPNext does not know: Customer 'Nobody Ltd'" in out


def test_sepa_notprovided_is_never_a_reference_number(connected, erp, capsys):
    add_account(connected)
    add_rows(
        connected,
        [
            row(ACCOUNT, 1, reference_number="NOTPROVIDED"),
            row(ACCOUNT, 2, reference_number="E2E-REAL-2"),
        ],
    )
    assert run(capsys, "erpnext", "push")[0] == 0
    docs = by_tid(erp)
    assert docs["tx-000001"]["reference_number"] is None
    assert docs["tx-000002"]["reference_number"] == "E2E-REAL-2"


def test_reconciled_then_cancelled_by_the_bank_is_left_alone_and_reported(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1), row(ACCOUNT, 2)])
    assert run(capsys, "erpnext", "push")[0] == 0
    name = rows_of(connected)["tx-000001"]["erpnext_name"]
    doc = erp.docs["Bank Transaction"][name]
    doc.update(status="Reconciled", allocated_amount=10.01, unallocated_amount=0.0)
    connected.book(connected.account(ACCOUNT)).update({"tx-000001": {"status": "Cancelled"}})

    status, out = run(capsys, "erpnext", "push", "--json")
    assert status == 2  # nothing changed, and a person has to act
    item = [i for i in json.loads(out)["accounts"][0]["items"] if i["action"] == "attention"]
    assert item[0]["erpnext_name"] == name and "reconciled" in item[0]["message"]
    assert doc["docstatus"] == 1 and doc["status"] == "Reconciled"  # left as it is
    assert erp.count("POST", "/api/method/frappe.client.cancel") == 0
    status, out = run(capsys, "erpnext", "push")
    assert status == 2 and f"{name} is reconciled in ERPNext" in out
    status, out = run(capsys, "status")
    assert status == 1 and name in out and "reconciled in ERPNext" in out
    status, out = run(capsys, "erpnext", "status", "--offline")
    assert status == 1 and f"needs attention: {name}" in out

    doc.update(status="Unreconciled", allocated_amount=0.0)  # the admin undid it
    status, out = run(capsys, "erpnext", "push", "--json")
    assert status == 0 and json.loads(out)["totals"]["cancelled"] == 1
    assert doc["docstatus"] == 2
    assert run(capsys, "status")[0] == 0
    assert run(capsys, "erpnext", "status", "--offline")[0] == 0


def test_a_refused_cancel_that_changed_nothing_exits_2(connected, erp, capsys, monkeypatch):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1)])
    assert run(capsys, "erpnext", "push")[0] == 0
    connected.book(connected.account(ACCOUNT)).update({"tx-000001": {"status": "Cancelled"}})

    def refuse(doctype: str, name: str) -> dict:
        raise validation("Cannot cancel: linked with Payment Entry ACC-PAY-2026-00001")

    monkeypatch.setattr(erp, "cancel", refuse)
    status, out = run(capsys, "erpnext", "push", "--json")
    assert status == 2
    failed = json.loads(out)["accounts"][0]["items"][0]
    assert failed["action"] == "failed" and "Payment Entry" in failed["message"]


def test_push_json_errors_have_the_documented_shape(store, capsys):
    status, out = run(capsys, "erpnext", "push", "--json")
    assert status == 2
    error = json.loads(out)["error"]
    assert set(error) == {"code", "message", "remedy"}
    assert "not connected" in error["message"]


def test_a_failed_automatic_push_fails_sync_and_warns_in_status_until_a_push_succeeds(home, erp):
    """The real command (a process), the embedded Demo Bank portal, ERPNext away."""
    from kosma_tui.core import clock
    from kosma_tui.core.paths import resolve_paths
    from kosma_tui.core.records import ErpnextConnection
    from kosma_tui.core.store import Store
    from kosma_tui.runtime import Runtime

    store = Store.open(resolve_paths(home))

    async def link_demo(runtime: Runtime) -> None:
        async with runtime.portal(attended=True) as client:
            await link(
                store, client, start=clock.today() - timedelta(days=10), company="Demo Company"
            )

    with Runtime(store=store) as runtime:
        asyncio.run(link_demo(runtime))
    store.save_erpnext(ErpnextConnection(url="http://127.0.0.1:9", api_key="k", api_secret="s"))
    settings = store.settings()
    settings.erpnext_auto_push = True
    store.save_settings(settings)

    synced = kosma(home, "sync", "--all", "--json")
    assert synced.returncode == 1, synced.stderr
    accounts = json.loads(synced.stdout)["accounts"]
    assert all(a["status"] == "ok" for a in accounts)  # the sync itself is done
    assert "could not be reached" in accounts[0]["push_error"]["message"]
    text = kosma(home, "sync", "--all")
    assert text.returncode == 1 and "ERPNext push" in text.stderr
    status = kosma(home, "status")
    assert status.returncode == 1 and "The last ERPNext push (automatic" in status.stdout
    assert kosma(home, "erpnext", "status", "--offline").returncode == 1

    connect_store(store, erp)  # ERPNext is back; nothing is mapped, so map by hand
    for n, account in enumerate(store.accounts()):
        erp.seed_company(account.company, "DC")
        erp.seed_bank(account.bank)
        erp.seed_account(f"Bank {n} - DC", account.company, "Bank", account.currency)
        erp.seed_bank_account(
            f"Demo {n}", account.bank, account.company, account.iban, f"Bank {n} - DC"
        )
    pushed = kosma(home, "erpnext", "push")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert kosma(home, "status").returncode == 0
    assert kosma(home, "erpnext", "status", "--offline").returncode == 0

"""``kosma-tui erpnext push`` against the Frappe double and a real temporary store."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clock_support import FakeClock
from erpnext_support import (
    ACCOUNT,
    BANK,
    COMPANY,
    ERP_BANK_ACCOUNT,
    IBAN,
    OTHER_IBAN,
    add_account,
    add_rows,
    row,
    rows_of,
)
from frappe_double import FrappeDouble

from kosma_tui.cli import main
from kosma_tui.core.erpnext import ErpnextClient, Pusher, auto_push, last_push


def push(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    status = main(["erpnext", "push", "--json", *args])
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else {}


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["erpnext", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kosma-tui: "), captured.err
    return lines[0]


def by_tid(erp: FrappeDouble) -> dict[str, dict[str, Any]]:
    return {d["transaction_id"]: d for d in erp.bank_transactions()}


def assert_once_and_recorded(store: Any, erp: FrappeDouble, expected: int) -> None:
    docs = erp.bank_transactions()
    ids = [d["transaction_id"] for d in docs]
    assert len(ids) == len(set(ids)) == expected
    names = {d["transaction_id"]: d["name"] for d in docs}
    for tid, stored in rows_of(store).items():
        if stored["status"] == "Settled":
            assert stored["erpnext_name"] == names[tid]


def test_settled_rows_become_submitted_bank_transactions(connected, erp, capsys):
    add_account(connected)
    add_rows(
        connected,
        [
            row(ACCOUNT, 1, deposit=123456),
            row(ACCOUNT, 2, withdrawal=5, party_type="Customer", party="Globex"),
            row(ACCOUNT, 3, status="Pending"),
        ],
    )
    status, data = push(capsys)
    assert status == 0
    assert data["totals"]["created"] == 2 and data["totals"]["pending"] == 1
    docs = by_tid(erp)
    assert set(docs) == {"tx-000001", "tx-000002"}
    first, second = docs["tx-000001"], docs["tx-000002"]
    assert first["docstatus"] == 1 and first["status"] == "Unreconciled"
    assert (first["deposit"], first["withdrawal"]) == (1234.56, 0.0)
    assert (second["deposit"], second["withdrawal"]) == (0.0, 0.05)
    assert first["currency"] == "EUR" and first["bank_account"] == ERP_BANK_ACCOUNT
    assert first["company"] == COMPANY
    assert first["reference_number"] == "E2E-1" and first["description"] == "Invoice 1"
    assert first["bank_party_name"] == "Globex Corp" and first["bank_party_iban"] == OTHER_IBAN
    assert first["party"] is None
    assert (second["party_type"], second["party"]) == ("Customer", "Globex")
    stored = rows_of(connected)
    assert stored["tx-000001"]["erpnext_name"] == first["name"]
    assert stored["tx-000002"]["erpnext_name"] == second["name"]
    assert stored["tx-000003"]["erpnext_name"] == ""
    # found by IBAN (typed with spaces in ERPNext) and remembered
    assert connected.account(ACCOUNT).erpnext_bank_account == ERP_BANK_ACCOUNT


def test_amounts_use_the_currency_exponent(connected, erp, capsys):
    erp.seed_account("Yen Bank - AG", COMPANY, "Bank", "JPY")
    erp.seed_account("Dinar Bank - AG", COMPANY, "Bank", "BHD")
    erp.seed_bank_account("Yen", BANK, COMPANY, "DE75512108001245126199", "Yen Bank - AG")
    erp.seed_bank_account("Dinar", BANK, COMPANY, "DE44500105175407324931", "Dinar Bank - AG")
    add_account(connected, "Yen (ACME)", "DE75512108001245126199", "JPY")
    add_account(connected, "Dinar (ACME)", "DE44500105175407324931", "BHD")
    add_rows(connected, [row("Yen (ACME)", 1, deposit=1234, currency="JPY")], "Yen (ACME)")
    add_rows(connected, [row("Dinar (ACME)", 2, withdrawal=1234, currency="BHD")], "Dinar (ACME)")
    assert push(capsys)[0] == 0
    docs = by_tid(erp)
    assert docs["tx-000001"]["deposit"] == 1234.0
    assert docs["tx-000002"]["withdrawal"] == 1.234


def test_rerun_creates_nothing_and_sends_nothing(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(5)])
    assert push(capsys)[1]["totals"]["created"] == 5
    before = len(erp.requests)
    status, data = push(capsys)
    assert status == 0 and data["totals"]["created"] == 0
    assert len(erp.requests) == before  # nothing waiting: ERPNext is not even asked
    assert_once_and_recorded(connected, erp, 5)


def test_ids_already_in_erpnext_are_skipped_and_recorded(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(3)])
    with ErpnextClient(erp.url, erp.api_key, erp.api_secret) as client:
        existing = client.insert(
            {
                "doctype": "Bank Transaction",
                "docstatus": 1,
                "date": "2025-01-01",
                "deposit": 10.0,
                "currency": "EUR",
                "bank_account": ERP_BANK_ACCOUNT,
                "transaction_id": "tx-000001",
            }
        )["name"]
    status, data = push(capsys)
    assert status == 0
    assert (data["totals"]["created"], data["totals"]["skipped"]) == (2, 1)
    assert rows_of(connected)["tx-000001"]["erpnext_name"] == existing
    assert_once_and_recorded(connected, erp, 3)


def test_pending_waits_until_settled_then_goes(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1, status="Pending")])
    status, data = push(capsys)
    assert status == 0
    assert data["accounts"][0]["pending"] == 1 and erp.bank_transactions() == []
    connected.book(connected.account(ACCOUNT)).update({"tx-000001": {"status": "Settled"}})
    status, data = push(capsys)
    assert status == 0
    assert data["totals"]["created"] == 1 and len(erp.bank_transactions()) == 1


def test_pushed_then_cancelled_is_cancelled_in_erpnext_once(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1), row(ACCOUNT, 2)])
    push(capsys)
    book = connected.book(connected.account(ACCOUNT))
    book.update({"tx-000001": {"status": "Cancelled"}})
    status, data = push(capsys)
    assert status == 0 and data["totals"]["cancelled"] == 1
    docs = by_tid(erp)
    assert docs["tx-000001"]["docstatus"] == 2 and docs["tx-000001"]["status"] == "Cancelled"
    assert docs["tx-000002"]["docstatus"] == 1
    cancels = erp.count("POST", "/api/method/frappe.client.cancel")
    status, data = push(capsys)
    assert status == 0 and data["totals"]["cancelled"] == 0
    assert erp.count("POST", "/api/method/frappe.client.cancel") == cancels


def test_one_bad_document_is_reported_and_the_others_go_in(connected, erp, capsys):
    add_account(connected)
    rows = [row(ACCOUNT, n) for n in range(5)]
    rows[2]["currency"] = "USD"
    add_rows(connected, rows)
    status, data = push(capsys)
    assert status == 1
    account = data["accounts"][0]
    assert (account["created"], account["failed"]) == (4, 1)
    failed = [i for i in account["items"] if i["action"] == "failed"]
    assert failed[0]["transaction_id"] == "tx-000002"
    assert failed[0]["message"].startswith("Transaction currency: USD cannot be different")
    assert rows_of(connected)["tx-000002"]["erpnext_name"] == ""
    assert len(erp.bank_transactions()) == 4
    capsys.readouterr()
    assert main(["erpnext", "push"]) == 2  # text output names the problem too; nothing changed
    out = capsys.readouterr().out
    assert "Transaction currency: USD" in out and "1 failed" in out


def test_batches_of_at_most_200_and_names_mapped_even_out_of_order(connected, capsys):
    with FrappeDouble(insert_many_order="shuffled") as erp:
        from erpnext_support import connect_store, seed_site

        seed_site(erp)
        connect_store(connected, erp)
        add_account(connected)
        add_rows(connected, [row(ACCOUNT, n) for n in range(450)])
        status, data = push(capsys)
        assert status == 0 and data["totals"]["created"] == 450
        assert erp.insert_many_sizes == [200, 200, 50]
        assert_once_and_recorded(connected, erp, 450)


def test_lost_answers_and_5xx_never_create_twice(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(300)])
    erp.drop_after_commit_next(1, match="insert_many")  # committed, answer lost
    erp.fail_next(1, 503, match="insert_many")  # refused by the proxy, not committed
    erp.fail_next(2, 502, match="/api/resource/Bank Transaction")  # lookups retried
    status, data = push(capsys)
    assert status == 0, data
    assert (data["totals"]["created"], data["totals"]["skipped"]) == (300, 0)
    assert_once_and_recorded(connected, erp, 300)


def test_the_push_waits_between_retries_under_the_client_s_retry_policy(connected, erp):
    """A refused insert and a refused cancel are sent again after the one policy's
    backoff, on the client's clock (a fake one here: nothing sleeps)."""
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(3)])
    fake = FakeClock()
    erp.fail_next(1, 503, match="insert_many")  # not committed: sent again
    with ErpnextClient.for_store(
        connected, backoff=0.5, clock=fake.clock, server_timeout=0
    ) as client:
        assert Pusher(connected, client).run(None).accounts[0].created == 3
    assert fake.waits == [0.5]
    connected.book(connected.account(ACCOUNT)).update({"tx-000001": {"status": "Cancelled"}})
    erp.fail_next(2, 503, match="frappe.client.cancel")  # not cancelled: sent again, twice
    with ErpnextClient.for_store(
        connected, backoff=0.5, clock=fake.clock, server_timeout=0
    ) as client:
        assert Pusher(connected, client).run(None).accounts[0].cancelled == 1
    assert fake.waits == [0.5, 0.5, 1.0]
    assert_once_and_recorded(connected, erp, 3)


def test_erpnext_going_away_mid_push_keeps_what_was_done(connected, erp):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(400)])

    def outage(progress: Any) -> None:
        if progress.done == 200:
            erp.fail_next(1000, 502)

    with ErpnextClient.for_store(connected, retries=1) as client:
        report = Pusher(connected, client, on_progress=outage).run(None)
    account = report.accounts[0]
    assert account.created == 200 and account.error is not None
    assert "HTTP 502" in account.error.message
    erp.faults.clear()
    with ErpnextClient.for_store(connected) as client:
        report = Pusher(connected, client).run(None)
    assert report.accounts[0].created == 200
    assert_once_and_recorded(connected, erp, 400)


def test_dry_run_shows_create_skip_cancel_and_changes_nothing(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(4)])
    assert push(capsys, "--account", ACCOUNT)[0] == 0
    book = connected.book(connected.account(ACCOUNT))
    book.update({"tx-000000": {"status": "Cancelled"}})
    add_rows(connected, [row(ACCOUNT, n) for n in range(10, 13)])
    with ErpnextClient(erp.url, erp.api_key, erp.api_secret) as client:
        client.insert(
            {
                "doctype": "Bank Transaction",
                "docstatus": 1,
                "date": "2025-02-02",
                "deposit": 1.0,
                "currency": "EUR",
                "bank_account": ERP_BANK_ACCOUNT,
                "transaction_id": "tx-000011",
            }
        )
    posts = erp.writes()
    before_rows = rows_of(connected)
    status, data = push(capsys, "--dry-run")
    assert status == 0 and data["dry_run"] is True
    assert {k: data["totals"][k] for k in ("created", "skipped", "cancelled")} == {
        "created": 2,
        "skipped": 1,
        "cancelled": 1,
    }
    actions = {(i["action"], i["transaction_id"]) for i in data["accounts"][0]["items"]}
    assert actions == {
        ("create", "tx-000010"),
        ("create", "tx-000012"),
        ("skip", "tx-000011"),
        ("cancel", "tx-000000"),
    }
    assert erp.writes() == posts
    assert rows_of(connected) == before_rows
    capsys.readouterr()
    assert main(["erpnext", "push", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would create 2, skip 1 (already there), cancel 1" in out
    assert "tx-000011" in out and "Dry run: nothing was changed" in out


def test_bad_input_is_one_sentence_exit_2_and_changes_nothing(connected, erp, capsys):
    add_account(connected)
    add_account(connected, "Savings (ACME GmbH)", "DE75512108001245126199")
    add_rows(connected, [row(ACCOUNT, 1)])
    add_rows(connected, [row("Savings (ACME GmbH)", 2)], "Savings (ACME GmbH)")
    line = refused(capsys, "push")
    assert "Savings (ACME GmbH)" in line and "not mapped" in line and "--bank-account" in line
    line = refused(capsys, "push", "--account", "Nope")
    assert "no bank account named 'nope'" in line.lower() and "Main (ACME GmbH)" in line
    assert erp.writes() == 0 and erp.bank_transactions() == []
    assert connected.account(ACCOUNT).erpnext_bank_account == ""
    # the mapped one alone is fine
    assert push(capsys, "--account", ACCOUNT)[0] == 0


def test_refused_key_unreachable_and_not_connected_are_exit_2(store, erp, capsys):
    from kosma_tui.core.records import ErpnextConnection

    add_account(store)
    add_rows(store, [row(ACCOUNT, 1)])
    assert "not connected" in refused(capsys, "push")
    store.save_erpnext(ErpnextConnection(url=erp.url, api_key=erp.api_key, api_secret="old"))
    assert "did not accept the API key" in refused(capsys, "push")
    store.save_erpnext(ErpnextConnection(url="http://127.0.0.1:9", api_key="k", api_secret="s"))
    assert "could not be reached" in refused(capsys, "push")
    assert erp.bank_transactions() == [] and rows_of(store)["tx-000001"]["erpnext_name"] == ""


def test_missing_permission_names_the_role(connected, erp, capsys):
    erp.denied_doctypes.add("Bank Transaction")
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1)])
    assert "Accounts Manager" in refused(capsys, "push")


def test_auto_push_pushes_records_and_never_raises(connected, erp):
    settings = connected.settings()
    add_account(connected)
    add_account(connected, "Savings (ACME GmbH)", "DE75512108001245126199")
    add_rows(connected, [row(ACCOUNT, 1)])
    add_rows(connected, [row("Savings (ACME GmbH)", 2)], "Savings (ACME GmbH)")
    assert auto_push(connected, [ACCOUNT]) is None  # switched off: nothing happens
    assert erp.requests == []
    settings.erpnext_auto_push = True
    connected.save_settings(settings)
    report = auto_push(connected, [ACCOUNT, "Savings (ACME GmbH)", "Gone"])
    assert report is not None
    results = {a.name: a for a in report.accounts}
    assert results[ACCOUNT].created == 1
    assert "not mapped" in results["Savings (ACME GmbH)"].error.message
    assert results["Gone"].error is not None
    recorded = last_push(connected)
    assert recorded["unattended"] is True and recorded["totals"]["created"] == 1
    erp.stop()
    add_rows(connected, [row(ACCOUNT, 3)])
    report = auto_push(connected, [ACCOUNT])  # unreachable: recorded and returned, not raised
    assert report is not None and "could not be reached" in report.problem.message
    assert "could not be reached" in last_push(connected)["error"]["message"]


def test_status_counts_what_waits(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1), row(ACCOUNT, 2), row(ACCOUNT, 3, status="Pending")])
    capsys.readouterr()
    assert main(["erpnext", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["waiting"] == 2 and data["connection"]["user"] == "accounts@example.com"
    assert data["accounts"][0]["pending"] == 1
    assert data["accounts"][0]["erpnext_bank_account"] is None
    push(capsys)
    assert main(["erpnext", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["waiting"] == 0 and data["accounts"][0]["erpnext_bank_account"] == ERP_BANK_ACCOUNT
    assert data["last_push"]["totals"]["created"] == 2
    assert erp.api_secret not in json.dumps(data)
    assert IBAN in json.dumps(data)


def test_odd_transaction_ids_still_match_exactly(connected, erp, capsys):
    """Frappe splits a text ``in`` value on commas and strips the parts: ids with a
    comma or surrounding spaces must go as a JSON list (they do: lookups are POSTs)."""
    odd = ["A,1", " B2", "C3 ", "D/4?&x=1", "É5", "x" * 140]
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n, tid=tid) for n, tid in enumerate(odd)])
    assert push(capsys)[0] == 0
    connected.book(connected.account(ACCOUNT)).update(
        {tid: {"erpnext_name": ""} for tid in odd}
    )  # forget the names: lookups must find them
    status, data = push(capsys)
    assert status == 0 and (data["totals"]["created"], data["totals"]["skipped"]) == (0, 6)
    assert_once_and_recorded(connected, erp, 6)

"""Exactly once against the double's gunicorn-like limits: request line, answers lost
after the request was sent, ERPNext committing after the client has gone."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from erpnext_support import ACCOUNT, ERP_BANK_ACCOUNT, add_account, add_rows, row, rows_of
from frappe_double import FrappeDouble

from kosma_tui.cli import main
from kosma_tui.core.erpnext import ErpnextClient, ErpnextRejected, push
from kosma_tui.core.erpnext import journal as push_journal

INSERTS = "/api/method/frappe.client.insert_many"


def push_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    status = main(["erpnext", "push", "--json", *args])
    out = capsys.readouterr().out
    return status, json.loads(out)


def assert_exactly_once(store: Any, erp: FrappeDouble, expected: int) -> None:
    ids = [d["transaction_id"] for d in erp.bank_transactions()]
    assert len(ids) == len(set(ids)) == expected
    names = {d["transaction_id"]: d["name"] for d in erp.bank_transactions()}
    assert all(r["erpnext_name"] == names[t] for t, r in rows_of(store).items())


def test_the_double_refuses_a_request_line_over_4094_bytes_like_gunicorn(connected, erp):
    ids = [f"{'x' * 30}-{n:04d}" for n in range(120)]
    with ErpnextClient.for_store(connected) as client, pytest.raises(ErpnextRejected) as caught:
        client._call(
            "GET",
            client.resource("Bank Transaction"),
            params={"filters": json.dumps([["transaction_id", "in", ids]])},
        )
    assert caught.value.http_status == 400


def test_lookups_of_hundreds_of_long_ids_fit_any_request_line(connected, erp, capsys):
    add_account(connected)
    add_rows(
        connected,
        [row(ACCOUNT, n, tid=f"{'2026-01-05-BOOKING-REF-' * 2}{n:05d}") for n in range(450)],
    )
    status, data = push_json(capsys)
    assert status == 0 and data["totals"]["created"] == 450
    assert_exactly_once(connected, erp, 450)
    assert erp.count("GET") == 0  # every lookup went in a POST body


def test_a_cut_connection_whose_batch_commits_later_is_settled_not_sent_again(
    connected, erp, capsys
):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(300)])
    # The first insert's connection is cut at once; ERPNext still runs it and commits
    # 0.3 s later, after the client's first lookup would have found nothing.
    erp.commit_delay = 0.3
    erp.cut_next(1, match="insert_many")
    status, data = push_json(capsys)
    assert status == 0, data
    assert data["totals"]["created"] == 300 and data["totals"]["failed"] == 0
    assert erp.insert_many_sizes == [200, 100]  # the cut batch was never sent again
    assert_exactly_once(connected, erp, 300)
    assert not push_journal.path(connected).exists()


def test_a_batch_left_in_flight_by_a_killed_push_is_settled_before_anything_else(connected, erp):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(250)])
    rows = list(rows_of(connected).values())
    in_flight = [r["transaction_id"] for r in rows[:200]]
    push_journal.begin(connected, ACCOUNT, ERP_BANK_ACCOUNT, in_flight, server_timeout=5)

    def erpnext_commits_the_abandoned_request() -> None:
        time.sleep(0.3)
        from kosma_tui.core.erpnext.documents import bank_transaction

        erp.insert_many([bank_transaction(r, ERP_BANK_ACCOUNT) for r in rows[:200]])

    committer = threading.Thread(target=erpnext_commits_the_abandoned_request)
    committer.start()
    started = time.monotonic()
    with ErpnextClient.for_store(connected) as client:
        report = push(connected, client)
    committer.join()
    assert time.monotonic() - started < 4  # waited for the commit, not the whole timeout
    assert (report.settled, report.total("created")) == (200, 50)
    assert erp.insert_many_sizes == [200, 50]
    assert_exactly_once(connected, erp, 250)
    assert push_journal.current(connected) is None


def test_a_batch_that_never_arrives_is_sent_once_the_server_timeout_has_passed(connected, erp):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(5)])
    ids = list(rows_of(connected))
    push_journal.begin(connected, ACCOUNT, ERP_BANK_ACCOUNT, ids, server_timeout=0.4)
    started = time.monotonic()
    with ErpnextClient.for_store(connected) as client:
        report = push(connected, client)
    assert time.monotonic() - started >= 0.35  # it could still have come until then
    assert (report.settled, report.total("created")) == (0, 5)
    assert_exactly_once(connected, erp, 5)


def test_a_damaged_journal_stops_the_push_and_names_the_file(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1)])
    push_journal.path(connected).write_text("{not json")
    capsys.readouterr()
    assert main(["erpnext", "push"]) == 2
    assert "push journal" in capsys.readouterr().err
    assert erp.bank_transactions() == []


def test_writes_never_time_out_before_the_server_does(erp):
    with ErpnextClient(erp.url, "k", "s", timeout=10.0, server_timeout=120) as client:
        assert client.write_timeout >= 125 and client._http.timeout.read == 10.0
    with ErpnextClient(erp.url, "k", "s", timeout=300.0, server_timeout=120) as client:
        assert client.write_timeout == 300.0


def test_a_transaction_id_erpnext_holds_twice_is_reported(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(3)])
    from kosma_tui.core.erpnext.documents import bank_transaction

    twice = bank_transaction(row(ACCOUNT, 1), ERP_BANK_ACCOUNT)
    erp.insert_many([twice, dict(twice)])  # left by an older client
    status, data = push_json(capsys)
    assert status == 1
    account = data["accounts"][0]
    assert account["created"] == 2 and account["skipped"] == 1
    assert [d["transaction_id"] for d in account["duplicates"]] == ["tx-000001"]
    assert len(account["duplicates"][0]["erpnext_names"]) == 2
    capsys.readouterr()
    assert main(["erpnext", "push"]) == 0  # nothing new pushed: nothing checked again
    main(["erpnext", "status"])
    assert "more than once" not in capsys.readouterr().out


def test_connect_server_timeout_sets_how_long_writes_wait(store, erp, capsys, monkeypatch):
    import io

    from frappe_double import API_KEY, API_SECRET

    def connect(*extra: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(API_SECRET + "\n"))
        return main(
            [
                "erpnext",
                "connect",
                "--url",
                erp.url,
                "--api-key",
                API_KEY,
                "--api-secret-stdin",
                *extra,
            ]
        )

    assert connect("--server-timeout", "0") == 2 and store.erpnext().url == ""
    assert connect("--server-timeout", "300") == 0
    assert store.erpnext().server_timeout == 300
    with ErpnextClient.for_store(store) as client:
        assert client.write_timeout == 305
    assert connect() == 0 and store.erpnext().server_timeout == 300  # kept when not given


def test_a_cancel_whose_answer_was_lost_and_that_commits_later_counts_once(connected, erp, capsys):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1)])
    assert main(["erpnext", "push"]) == 0
    connected.book(connected.account(ACCOUNT)).update({"tx-000001": {"status": "Cancelled"}})
    cancel = erp.cancel

    def slow_cancel(doctype: str, name: str) -> dict:
        time.sleep(0.2)  # still running when the client looks and sends it again
        return cancel(doctype, name)

    erp.cancel = slow_cancel  # type: ignore[method-assign]
    erp.cut_next(1, match="frappe.client.cancel")
    status, data = push_json(capsys)
    assert status == 0, data
    assert data["totals"]["cancelled"] == 1 and data["totals"]["failed"] == 0
    assert erp.bank_transactions()[0]["docstatus"] == 2


def test_requests_per_push_stay_three_per_batch(connected, erp, capsys):
    """Bank Accounts once; per batch of 200 a lookup, the insert and a lookup of the
    names; one duplicate check per 1,000 ids (the live 10,000 push: 1 + 150 + 10)."""
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(1000)])
    status, data = push_json(capsys)
    assert status == 0 and data["requests"] == 1 + 5 * 3 + 1

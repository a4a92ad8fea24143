"""A push SIGKILLed mid-way, then run again, creates each transaction exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from erpnext_support import ACCOUNT, add_account, add_rows, row, rows_of

from kosma_tui.core.erpnext import ErpnextClient, push

INSERTS = "/api/method/frappe.client.insert_many"


def start_push(home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KOSMA_TUI_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "kosma_tui", "erpnext", "push", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the push never got there")
        time.sleep(0.01)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_push_killed_after_erpnext_committed_then_rerun(connected, erp, home):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(1000)])
    # ERPNext commits each batch, then takes its time to answer: a client killed
    # meanwhile never learns the names of what it created.
    erp.response_delay = 0.6
    process = start_push(home)
    try:
        wait_for(lambda: erp.count("POST", INSERTS) >= 2)
        wait_for(lambda: len(erp.bank_transactions()) >= 400)  # batch 2 committed
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert len(erp.bank_transactions()) == 400
    recorded = sum(1 for r in rows_of(connected).values() if r["erpnext_name"])
    assert recorded == 200  # batch 1 answered and recorded; batch 2 lost its answer

    erp.response_delay = 0.0
    with ErpnextClient.for_store(connected) as client:
        report = push(connected, client)
    # The journal held batch 2: it is settled (found, recorded) before anything is sent.
    assert (report.total("created"), report.settled, report.total("skipped")) == (600, 200, 0)
    docs = erp.bank_transactions()
    assert len(docs) == len({d["transaction_id"] for d in docs}) == 1000
    names = {d["transaction_id"]: d["name"] for d in docs}
    assert all(r["erpnext_name"] == names[tid] for tid, r in rows_of(connected).items())


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("kill_after", [0.15, 0.45])
def test_push_killed_at_any_moment_then_rerun(kill_after, connected, erp, home):
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in range(600)])
    erp.request_delay = 0.04  # slow enough that the kill lands inside the push
    process = start_push(home)
    try:
        wait_for(lambda: erp.count() >= 1)
        time.sleep(kill_after)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL  # killed, not finished
    erp.request_delay = 0.0
    with ErpnextClient.for_store(connected) as client:
        push(connected, client)
    docs = erp.bank_transactions()
    assert len(docs) == len({d["transaction_id"] for d in docs}) == 600
    names = {d["transaction_id"]: d["name"] for d in docs}
    assert all(r["erpnext_name"] == names[tid] for tid, r in rows_of(connected).items())

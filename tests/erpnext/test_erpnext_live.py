"""The bridge against a real ERPNext 15 (skipped unless KOSMA_TEST_ERPNEXT_* are set).

Run against the lab kit: ``eval "$(bash ../shared/erpnext-lab/lab.sh env)"``, then
``pytest tests/erpnext/test_erpnext_live.py``. Every test makes its own Bank, GL
Account and Bank Account, so the site stays usable for the next run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from live_support import (
    CuttingProxy,
    Site,
    accounts_manager,
    assert_exactly_once,
    bank_transactions,
    iban,
    local_account,
    make_ledger,
    push_many,
    reconcile_with_payment,
    rows,
    site_from_env,
    unique,
)

from kosma_tui.core.erpnext import (
    ErpnextClient,
    create_and_map,
    import_companies,
    map_by_iban,
    push,
)
from kosma_tui.core.erpnext import journal as push_journal
from kosma_tui.core.erpnext.dedupe import find, remove
from kosma_tui.core.erpnext.documents import bank_transaction


@pytest.fixture(scope="module")
def site() -> Site:
    return site_from_env()


@pytest.fixture(autouse=True)
def real_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against the real server, settle as in production (undo the double's shortcuts)."""
    import importlib

    monkeypatch.setattr(importlib.import_module("kosma_tui.core.erpnext.journal"), "MARGIN", 5.0)
    monkeypatch.setattr(importlib.import_module("kosma_tui.core.erpnext.push"), "SETTLE_POLL", 0.5)


# The suite pushes 2,000 (ten batches); tests/benchmarks/test_erpnext_push_bench.py
# pushes 10,000 and reports the rate.
@pytest.mark.timeout(600)
def test_live_two_thousand_transactions_in_one_push(site, store):
    report = push_many(site, store, 2_000)
    assert report.requests >= 10  # ten batches of 200, besides the lookups


def start_push(home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KOSMA_TUI_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "kosma_tui", "erpnext", "push", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.timeout(900)
def test_live_five_sigkills_mid_push_each_rerun_at_once(site, store, home):
    ledger = make_ledger(site)
    account = local_account(store, site, ledger)
    store.book(account).append(rows(account.name, 3_000))
    chance = random.Random(11)
    process = start_push(home)
    for _kill in range(5):
        # Kill while a batch is in flight: ERPNext finishes it after the client is gone.
        deadline = time.monotonic() + 120
        while not push_journal.path(store).exists():
            assert process.poll() is None, "the push finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(chance.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process = start_push(home)  # at once, while ERPNext may still be committing
    assert process.wait(timeout=600) == 0
    assert_exactly_once(store, site, account, 3_000)


def test_live_an_answer_lost_after_the_request_was_sent(site, store):
    ledger = make_ledger(site)
    account = local_account(store, site, ledger)
    store.book(account).append(rows(account.name, 500))
    proxy = CuttingProxy(site.url)
    try:
        with ErpnextClient(proxy.url, site.key, site.secret, site=site.site) as client:
            report = push(store, client)
    finally:
        proxy.close()
    assert proxy.cuts == 1
    assert report.ok and report.total("created") == 500, report.as_json()["accounts"][0]
    assert_exactly_once(store, site, account, 500)


def test_live_accounts_manager_maps_creates_and_pushes(site, store):
    from kosma_tui.core.records import ErpnextConnection

    ledger = make_ledger(site, bank_account=False)
    account = local_account(store, site, ledger)
    key, secret = accounts_manager(site)
    store.save_erpnext(
        ErpnextConnection(url=site.url, api_key=key, api_secret=secret, site=site.site)
    )
    with ErpnextClient.for_store(store) as client:
        assert any(c.name == site.company for c in import_companies(store, client))
        mapping = create_and_map(store, client, account.name, ledger.gl_account)
        assert mapping.how == "created"
        store.update_account(account.name, erpnext_bank_account="")
        again = create_and_map(store, client, account.name, ledger.gl_account)
        assert (again.how, again.bank_account) == ("adopted", mapping.bank_account)
        batch = rows(account.name, 250)
        batch[0].update(reference_number="NOTPROVIDED")
        batch[1].update(party_type="Customer", party="Nobody Known Ltd")
        batch[2].update(party_type="Employee", party="HR-EMP-99999")
        store.book(account).append(batch)
        report = push(store, client)
    result = report.accounts[0]
    assert report.ok and result.created == 250, report.as_json()["accounts"][0]
    assert set(result.missing_parties) == {"Customer 'Nobody Known Ltd'", "Employee 'HR-EMP-99999'"}
    docs = {d["transaction_id"]: d for d in bank_transactions(site, mapping.bank_account)}
    first, second = batch[0]["transaction_id"], batch[1]["transaction_id"]
    assert not docs[first]["reference_number"] and not docs[second]["party"]
    assert_exactly_once(store, site, store.account(account.name), 250)


def test_live_accounts_manager_maps_by_iban_and_imports_parties(site, store):
    from kosma_tui.core.erpnext.parties import import_from_erpnext
    from kosma_tui.core.records import ErpnextConnection

    ledger = make_ledger(site)
    account = local_account(store, site, ledger.unmapped())
    customer_iban = iban()
    with site.client() as admin:
        customer = admin.insert(
            {
                "doctype": "Customer",
                "customer_name": unique("Kosma Kunde"),
                "customer_group": "All Customer Groups",
                "territory": "All Territories",
            }
        )["name"]
        admin.insert(
            {
                "doctype": "Bank Account",
                "account_name": unique("Kunde"),
                "bank": ledger.bank,
                "party_type": "Customer",
                "party": customer,
                "iban": customer_iban,
            }
        )
    key, secret = accounts_manager(site)
    store.save_erpnext(
        ErpnextConnection(url=site.url, api_key=key, api_secret=secret, site=site.site)
    )
    with ErpnextClient.for_store(store) as client:
        mapping = map_by_iban(store, client, account.name)
        result = import_from_erpnext(store, client)
    assert (mapping.how, mapping.bank_account) == ("iban", ledger.bank_account)
    parties = {(p.party_type, p.name): p for p in store.parties()}
    assert parties[("Customer", customer)].ibans == [customer_iban]
    assert any("Employees were skipped" in note and "HR User" in note for note in result.notes)


def test_live_reconciled_then_cancelled_by_the_bank_is_left_alone(site, store):
    from kosma_tui.core import push_record

    ledger = make_ledger(site)
    account = local_account(store, site, ledger)
    batch = rows(account.name, 2)
    store.book(account).append(batch)
    with ErpnextClient.for_store(store) as client:
        assert push(store, client).ok
    tid = batch[0]["transaction_id"]
    name = store.book(account).get(tid)["erpnext_name"]
    payment = reconcile_with_payment(
        site, ledger, name, batch[0]["date"], batch[0]["deposit"] / 100
    )
    store.book(account).update({tid: {"status": "Cancelled"}})
    with ErpnextClient.for_store(store) as client:
        report = push(store, client)
        doc = client.get_doc("Bank Transaction", name) or {}
        clearance = (client.get_doc("Payment Entry", payment) or {}).get("clearance_date")
    assert report.total("attention") == 1 and report.total("cancelled") == 0
    assert [i.erpnext_name for i in report.accounts[0].items if i.action == "attention"] == [name]
    assert doc["docstatus"] == 1 and doc["status"] == "Reconciled"
    assert clearance  # the reconciliation was not undone
    assert any(name in line for line in push_record.problems(store))


def test_live_dedupe_removes_later_copies(site, store):
    ledger = make_ledger(site)
    account = local_account(store, site, ledger)
    batch = rows(account.name, 3)
    store.book(account).append(batch)
    with ErpnextClient.for_store(store) as client:
        docs = [bank_transaction(r, ledger.bank_account) for r in batch]
        client.insert_many(docs + docs[:2])  # two ids twice, as an older client left them
        found = find(client, [store.account(account.name)])
        assert sorted(c.transaction_id for c in found[0].copies) == sorted(
            r["transaction_id"] for r in batch[:2]
        )
        remove(store, client, found)
    assert all(c.removed and not c.failed for c in found[0].copies)
    left = bank_transactions(site, ledger.bank_account)
    assert len(left) == 3 and len({d["transaction_id"] for d in left}) == 3

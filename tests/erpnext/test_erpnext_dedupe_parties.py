"""``erpnext dedupe`` and ``party import --from-erpnext`` against the Frappe double."""

from __future__ import annotations

import json

import pytest
from erpnext_support import (
    ACCOUNT,
    BANK,
    ERP_BANK_ACCOUNT,
    add_account,
    add_rows,
    row,
    rows_of,
)
from frappe_double import FrappeDouble

from kosma_tui.cli import main
from kosma_tui.core.erpnext.documents import bank_transaction


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def seed_copies(connected, erp: FrappeDouble) -> dict[str, list[str]]:
    """tx-1 three times (the middle one reconciled), tx-2 twice, tx-3 once."""
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, n) for n in (1, 2, 3)])
    docs = [
        bank_transaction(r, ERP_BANK_ACCOUNT)
        for r in (
            row(ACCOUNT, 1),
            row(ACCOUNT, 1),
            row(ACCOUNT, 1),
            row(ACCOUNT, 2),
            row(ACCOUNT, 2),
            row(ACCOUNT, 3),
        )
    ]
    names = erp.insert_many(docs)
    erp.docs["Bank Transaction"][names[1]].update(status="Reconciled", allocated_amount=1.0)
    connected.book(connected.account(ACCOUNT)).update(
        {"tx-000002": {"erpnext_name": names[4]}}
    )  # it recorded the later copy
    return {"tx-000001": names[:3], "tx-000002": names[3:5], "tx-000003": names[5:]}


def test_dedupe_removes_later_copies_but_never_a_reconciled_one(connected, erp, capsys):
    names = seed_copies(connected, erp)
    status, out, err = run(capsys, "erpnext", "dedupe")  # no terminal, no --yes
    assert status == 2 and "--yes" in err and "nothing was changed" in err
    assert len(erp.bank_transactions()) == 6

    status, out, _ = run(capsys, "erpnext", "dedupe", "--account", ACCOUNT, "--yes", "--json")
    data = json.loads(out)
    assert status == 0
    copies = {c["transaction_id"]: c for c in data["accounts"][0]["duplicates"]}
    one, two = names["tx-000001"], names["tx-000002"]
    # tx-1: the reconciled copy is kept; both others go
    assert copies["tx-000001"]["keep"] == one[1]
    assert sorted(copies["tx-000001"]["removed"]) == sorted([one[0], one[2]])
    assert copies["tx-000002"]["keep"] == two[0] and copies["tx-000002"]["removed"] == [two[1]]
    left = {d["transaction_id"]: d["name"] for d in erp.bank_transactions()}
    assert left == {"tx-000001": one[1], "tx-000002": two[0], "tx-000003": names["tx-000003"][0]}
    assert rows_of(connected)["tx-000002"]["erpnext_name"] == two[0]
    status, out, _ = run(capsys, "erpnext", "dedupe", "--yes")
    assert status == 0 and "Removed 0 later copies" in out


def test_dedupe_leaves_a_reconciled_later_copy_and_says_so(connected, erp, capsys):
    names = seed_copies(connected, erp)
    erp.docs["Bank Transaction"][names["tx-000002"][1]].update(
        status="Reconciled", allocated_amount=1.0
    )
    erp.docs["Bank Transaction"][names["tx-000002"][0]].update(
        status="Reconciled", allocated_amount=1.0
    )
    status, out, _ = run(capsys, "erpnext", "dedupe", "--yes")
    assert status == 1
    assert f"left alone (reconciled): {names['tx-000002'][1]}" in out
    assert names["tx-000002"][1] in erp.docs["Bank Transaction"]


def test_party_import_from_erpnext_reads_parties_and_their_ibans(store, erp, capsys):
    from erpnext_support import OTHER_IBAN, connect_store

    connect_store(store, erp)
    erp.seed("Customer", "CUST-0002", customer_name="Initech", disabled=0)
    erp.seed("Customer", "Old Corp", customer_name="Old Corp", disabled=1)
    erp.seed("Supplier", "Hooli", supplier_name="Hooli", disabled=0)
    erp.seed("Employee", "HR-EMP-00001", employee_name="Jane Roe", status="Active")
    erp.docs["Customer"]["Globex"]["disabled"] = 0
    erp.seed_bank_account("Globex Giro", BANK, "", OTHER_IBAN, "", is_company_account=0)
    erp.docs["Bank Account"]["Globex Giro - Demo Bank"].update(
        party_type="Customer", party="Globex"
    )
    erp.seed_bank_account("Hooli", BANK, "", "", "", is_company_account=0)
    erp.docs["Bank Account"]["Hooli - Demo Bank"].update(
        party_type="Supplier", party="Hooli", bank_account_no="12345678"
    )
    status, out, _ = run(capsys, "party", "import", "--from-erpnext", "--json")
    data = json.loads(out)
    assert status == 0 and data["by_type"] == {"Customer": 2, "Supplier": 1, "Employee": 1}
    parties = {(p.party_type, p.name): p for p in store.parties()}
    assert set(parties) == {
        ("Customer", "Globex"),
        ("Customer", "CUST-0002"),
        ("Supplier", "Hooli"),
        ("Employee", "HR-EMP-00001"),
    }
    assert parties[("Customer", "Globex")].ibans == [OTHER_IBAN]
    assert parties[("Supplier", "Hooli")].account_numbers == ["12345678"]

    erp.denied_doctypes.add("Employee")  # an Accounts Manager may not read Employees
    status, out, _ = run(capsys, "party", "import", "--from-erpnext")
    assert status == 0 and "Employees were skipped" in out and "HR User" in out


def test_party_import_needs_exactly_one_source(store, capsys):
    status, _, err = run(capsys, "party", "import")
    assert status == 2 and "either FILE.csv or --from-erpnext" in err

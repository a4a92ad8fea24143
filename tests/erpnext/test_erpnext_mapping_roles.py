"""``erpnext map`` and the roles: never another company's Bank Account, adopting what
``map --create`` would have made, and one sentence naming a missing permission."""

from __future__ import annotations

import json

import pytest
from erpnext_support import (
    ACCOUNT,
    BANK,
    COMPANY,
    OTHER_IBAN,
    add_account,
    add_rows,
    row,
)
from frappe_double import FrappeDouble

from kosma_tui.cli import main

OTHER_COMPANY = "Globex AG"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["erpnext", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_sentence(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    status, out, err = run(capsys, *args)
    assert status == 2 and out == "", (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kosma-tui: "), err
    return lines[0]


def other_company(erp: FrappeDouble, iban: str = OTHER_IBAN) -> str:
    erp.seed_company(OTHER_COMPANY, "GL")
    erp.seed_account("Bank - GL", OTHER_COMPANY, "Bank", "EUR")
    return erp.seed_bank_account("Globex Giro", BANK, OTHER_COMPANY, iban, "Bank - GL")


def test_map_refuses_a_bank_account_of_another_company(connected, erp, capsys):
    theirs = other_company(erp)
    add_account(connected, "Savings (ACME GmbH)", OTHER_IBAN)
    line = one_sentence(capsys, "map", "Savings (ACME GmbH)", "--bank-account", theirs)
    assert f"belongs to company '{OTHER_COMPANY}', not to '{COMPANY}'" in line
    assert connected.account("Savings (ACME GmbH)").erpnext_bank_account == ""
    # by IBAN neither: the only Bank Account with that IBAN is the other company's
    status, out, _ = run(capsys, "map", "--json")
    mapping = json.loads(out)["mappings"][0]
    assert status == 0 and mapping["erpnext_bank_account"] is None
    assert OTHER_COMPANY in mapping["problem"]


def test_push_never_books_into_another_companys_bank_account(connected, erp, capsys):
    theirs = other_company(erp)
    add_account(connected, "Savings (ACME GmbH)", OTHER_IBAN)
    connected.update_account("Savings (ACME GmbH)", erpnext_bank_account=theirs)  # older map
    add_rows(connected, [row("Savings (ACME GmbH)", 1)], "Savings (ACME GmbH)")
    line = one_sentence(capsys, "push")
    assert "belongs to company" in line and "nothing was pushed" in line
    assert erp.bank_transactions() == []


def test_map_create_adopts_the_bank_account_it_would_have_made(connected, erp, capsys):
    add_account(connected, "Savings (ACME GmbH)", OTHER_IBAN)
    erp.seed_bank_account("Savings (ACME GmbH)", BANK, COMPANY, "", "Second Bank - AG")
    writes = erp.writes()
    status, out, _ = run(
        capsys, "map", "Savings (ACME GmbH)", "--create", "--gl-account", "Second Bank - AG"
    )
    assert status == 0 and "mapped to the existing ERPNext Bank Account" in out
    assert erp.writes() == writes
    assert (
        connected.account("Savings (ACME GmbH)").erpnext_bank_account
        == f"Savings (ACME GmbH) - {BANK}"
    )


def test_map_create_names_the_bank_account_to_pass_when_the_name_is_taken(connected, erp, capsys):
    add_account(connected, "Savings (ACME GmbH)", OTHER_IBAN)
    erp.seed_account("Third Bank - AG", COMPANY, "Bank", "EUR")
    erp.seed_bank_account("Savings (ACME GmbH)", BANK, COMPANY, "", "Third Bank - AG")
    line = one_sentence(
        capsys, "map", "Savings (ACME GmbH)", "--create", "--gl-account", "Second Bank - AG"
    )
    assert f"already has a Bank Account named 'Savings (ACME GmbH) - {BANK}'" in line
    assert f'--bank-account "Savings (ACME GmbH) - {BANK}"' in line


def test_map_create_without_a_bank_and_without_system_manager_says_who_can(connected, erp, capsys):
    from kosma_tui.core.records import Bank, BankAccount

    erp.denied_doctypes.add("Bank")  # Accounts Manager: Bank is System Manager's
    connected.save_bank(Bank("New Bank"))
    connected.save_account(
        BankAccount("Ops (ACME GmbH)", "New Bank", COMPANY, iban="DE75512108001245126199")
    )
    line = one_sentence(
        capsys, "map", "Ops (ACME GmbH)", "--create", "--gl-account", "Second Bank - AG"
    )
    assert "no Bank named 'New Bank'" in line and "System Manager" in line
    assert "Bank Account" not in erp.docs or all(
        "Ops" not in name for name in erp.docs["Bank Account"]
    )
    # with the Bank in place (a System Manager made it) the same user succeeds
    erp.seed_bank("New Bank")
    status, _, _ = run(
        capsys, "map", "Ops (ACME GmbH)", "--create", "--gl-account", "Second Bank - AG"
    )
    assert status == 0


def test_a_missing_permission_is_one_sentence_naming_the_doctype_and_role(connected, erp, capsys):
    erp.denied_doctypes.add("Bank Transaction")
    add_account(connected)
    add_rows(connected, [row(ACCOUNT, 1)])
    line = one_sentence(capsys, "push")
    assert "may not read Bank Transaction: that needs the Accounts Manager role." in line
    assert line.count(". ") == 1  # the sentence, then the remedy
    status, out, _ = run(capsys, "push", "--json")
    assert status == 2 and json.loads(out)["error"]["code"] == "ERPNEXT.PERMISSION"

"""``kosma-tui erpnext connect / import-companies / map`` against the Frappe double."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from erpnext_support import (
    ACCOUNT,
    COMPANY,
    ERP_BANK_ACCOUNT,
    OTHER_IBAN,
    add_account,
)
from frappe_double import API_KEY, API_SECRET, FrappeDouble

from kosma_tui.cli import main
from kosma_tui.core.records import Company


def run(
    capsys: pytest.CaptureFixture[str],
    *args: str,
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    status = main(["erpnext", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_sentence(status: int, out: str, err: str) -> str:
    assert status == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kosma-tui: "), err
    return lines[0]


def all_files_text(home: Path) -> str:
    return "".join(p.read_bytes().decode(errors="replace") for p in home.rglob("*") if p.is_file())


# -- connect ----------------------------------------------------------------------------


def test_connect_verifies_and_stores_the_secret_encrypted(store, erp, home, capsys, monkeypatch):
    status, out, _ = run(
        capsys,
        "connect",
        "--url",
        erp.url,
        "--api-key",
        API_KEY,
        "--api-secret-stdin",
        stdin=API_SECRET + "\n",
        monkeypatch=monkeypatch,
    )
    assert status == 0
    assert "as accounts@example.com" in out and API_SECRET not in out
    assert erp.count("GET", "/api/method/frappe.auth.get_logged_user") == 1
    connection = store.erpnext()
    assert (connection.url, connection.api_key, connection.api_secret) == (
        erp.url,
        API_KEY,
        API_SECRET,
    )
    assert API_SECRET not in all_files_text(home)
    status, out, _ = run(capsys, "status", "--json")
    assert status == 0 and API_SECRET not in out
    assert json.loads(out)["connection"]["user"] == "accounts@example.com"


@pytest.mark.parametrize(
    "case",
    ["wrong secret", "unreachable", "plain http", "no stdin flag", "empty secret", "bad key"],
)
def test_connect_refusals_are_one_sentence_and_save_nothing(case, store, erp, capsys, monkeypatch):
    url, key, secret, flags = erp.url, API_KEY, API_SECRET, ["--api-secret-stdin"]
    expected = {
        "wrong secret": "did not accept the API key and secret",
        "unreachable": "could not be reached",
        "plain http": "must use https://",
        "no stdin flag": "standard input only",
        "empty secret": "is empty",
        "bad key": "API key",
    }[case]
    if case == "wrong secret":
        secret = "nope"
    elif case == "unreachable":
        url = "http://127.0.0.1:9"
    elif case == "plain http":
        url = "http://erp.example.com"
    elif case == "no stdin flag":
        flags = []
    elif case == "empty secret":
        secret = ""
    elif case == "bad key":
        key = "two words"
    result = run(
        capsys,
        "connect",
        "--url",
        url,
        "--api-key",
        key,
        *flags,
        stdin=secret + "\n",
        monkeypatch=monkeypatch,
    )
    assert expected in one_sentence(*result)
    assert store.erpnext().url == "" and store.erpnext().api_secret == ""
    assert "nope" not in result[2]


def test_connect_with_site_for_a_multi_site_bench(store, capsys, monkeypatch):
    with FrappeDouble(site="erp.example.com") as erp:
        line = one_sentence(
            *run(
                capsys,
                "connect",
                "--url",
                erp.url,
                "--api-key",
                API_KEY,
                "--api-secret-stdin",
                stdin=API_SECRET,
                monkeypatch=monkeypatch,
            )
        )
        assert "--site" in line
        status, out, _ = run(
            capsys,
            "connect",
            "--url",
            erp.url,
            "--api-key",
            API_KEY,
            "--api-secret-stdin",
            "--site",
            "erp.example.com",
            stdin=API_SECRET,
            monkeypatch=monkeypatch,
        )
        assert status == 0 and "site erp.example.com" in out
        assert store.erpnext().site == "erp.example.com"
        status, out, _ = run(capsys, "status", "--json")
        assert status == 0 and json.loads(out)["connection"]["site"] == "erp.example.com"


# -- import-companies --------------------------------------------------------------------


def test_import_companies_maps_country_currency_and_fiscal_year(
    connected, erp, capsys, monkeypatch
):
    monkeypatch.setenv("KOSMA_TUI_NOW", "2025-06-15")
    connected.save_company(Company(COMPANY, "AT", "01-01", "EUR"))
    erp.seed_company("Globex Ltd", "GL", country="United Kingdom", currency="GBP")
    erp.seed_fiscal_year("2025", "2025-01-01", "2025-12-31", companies=("Globex Ltd",))
    erp.seed_fiscal_year("2024-2025", "2024-04-01", "2025-03-31")  # not current
    erp.seed_company("Abidjan SA", "AB", country="Ivory Coast", currency="XOF")
    erp.seed("Country", "Deutschland", country_name="Deutschland", code="de")
    erp.seed_company("Kraut AG", "KA", country="Deutschland", currency="EUR")
    status, out, _ = run(capsys, "import-companies", "--json")
    assert status == 0
    got = {c["name"]: c for c in json.loads(out)["companies"]}
    assert {
        k: got[COMPANY][k]
        for k in ("country", "default_currency", "fiscal_year_start", "fiscal_year", "action")
    } == {
        "country": "DE",
        "default_currency": "EUR",
        "fiscal_year_start": "04-01",
        "fiscal_year": "2025-2026",
        "action": "updated",
    }
    assert (
        got["Globex Ltd"]["country"],
        got["Globex Ltd"]["fiscal_year_start"],
        got["Globex Ltd"]["default_currency"],
    ) == ("GB", "01-01", "GBP")
    assert got["Globex Ltd"]["fiscal_year"] == "2025"  # its own year beats the shared one
    assert got["Abidjan SA"]["country"] == "CI"
    assert got["Kraut AG"]["country"] == "DE"  # from the site's Country doctype
    assert connected.company("Globex Ltd").fiscal_year_start == "01-01"
    assert connected.company(COMPANY).country == "DE"
    status, out, _ = run(capsys, "import-companies")
    assert status == 0 and "0 created, 0 updated, 4 unchanged, 0 skipped." in out


def test_import_companies_skips_an_unknown_country_and_says_why(
    connected, erp, capsys, monkeypatch
):
    monkeypatch.setenv("KOSMA_TUI_NOW", "2025-06-15")
    erp.seed_company("Atlantis Corp", "AC", country="Atlantis", currency="EUR")
    status, out, _ = run(capsys, "import-companies")
    assert status == 1
    assert "skipped   Atlantis Corp" in out and "no known ISO code" in out
    assert connected.company("Atlantis Corp") is None
    assert connected.company(COMPANY) is not None


def test_import_companies_keeps_a_company_spelt_in_another_case(
    connected, erp, capsys, monkeypatch
):
    monkeypatch.setenv("KOSMA_TUI_NOW", "2025-06-15")
    connected.save_company(Company("globex ltd", "AT", "01-01", "EUR"))
    erp.seed_company("Globex Ltd", "GL", country="United Kingdom", currency="GBP")
    status, out, _ = run(capsys, "import-companies")
    assert status == 1
    assert "skipped   Globex Ltd" in out and "regardless of case" in out
    assert connected.company("Globex Ltd") is None  # no second spelling of one company
    assert connected.company("globex ltd").country == "AT"


def test_import_companies_unreachable_changes_nothing(store, capsys):
    from kosma_tui.core.records import ErpnextConnection

    store.save_erpnext(ErpnextConnection(url="http://127.0.0.1:9", api_key="k", api_secret="s"))
    before = [c.to_dict() for c in store.companies()]
    assert "could not be reached" in one_sentence(*run(capsys, "import-companies"))
    assert [c.to_dict() for c in store.companies()] == before


# -- map ---------------------------------------------------------------------------------


def test_map_all_by_iban_ignoring_spaces(connected, erp, capsys):
    add_account(connected)
    add_account(connected, "Savings (ACME GmbH)", OTHER_IBAN)
    status, out, _ = run(capsys, "map", "--json")
    assert status == 0
    mappings = {m["account"]: m for m in json.loads(out)["mappings"]}
    assert mappings[ACCOUNT]["erpnext_bank_account"] == ERP_BANK_ACCOUNT
    assert mappings["Savings (ACME GmbH)"]["erpnext_bank_account"] is None
    assert "no ERPNext Bank Account has its IBAN" in mappings["Savings (ACME GmbH)"]["problem"]
    assert connected.account(ACCOUNT).erpnext_bank_account == ERP_BANK_ACCOUNT
    line = one_sentence(*run(capsys, "map", "Savings (ACME GmbH)"))
    assert "--bank-account" in line and "--create --gl-account" in line


def test_map_by_hand(connected, erp, capsys):
    add_account(connected, "Savings (ACME GmbH)", OTHER_IBAN)
    status, out, _ = run(capsys, "map", "Savings (ACME GmbH)", "--bank-account", ERP_BANK_ACCOUNT)
    assert status == 0 and ERP_BANK_ACCOUNT in out
    assert connected.account("Savings (ACME GmbH)").erpnext_bank_account == ERP_BANK_ACCOUNT
    line = one_sentence(*run(capsys, "map", "Savings (ACME GmbH)", "--bank-account", "Nope"))
    assert "no Bank Account named 'Nope'" in line
    assert connected.account("Savings (ACME GmbH)").erpnext_bank_account == ERP_BANK_ACCOUNT


def test_map_create_makes_bank_and_company_bank_account(connected, erp, capsys):
    from kosma_tui.core.records import Bank, BankAccount

    connected.save_company(Company(COMPANY, "DE"))
    connected.save_bank(Bank("New Bank", swift_number="NEWBDEFFXXX"))
    connected.save_account(
        BankAccount(
            "Ops (ACME GmbH)",
            "New Bank",
            COMPANY,
            iban="DE75 5121 0800 1245 1261 99",
            bank_account_no="1245126199",
        )
    )
    status, out, _ = run(
        capsys, "map", "Ops (ACME GmbH)", "--create", "--gl-account", "Second Bank - AG"
    )
    assert status == 0, out
    bank = erp.docs["Bank"]["New Bank"]
    assert bank["swift_number"] == "NEWBDEFFXXX"
    created = erp.docs["Bank Account"]["Ops (ACME GmbH) - New Bank"]
    assert created["is_company_account"] == 1 and created["company"] == COMPANY
    assert created["iban"] == "DE75512108001245126199"
    assert created["account"] == "Second Bank - AG"
    assert connected.account("Ops (ACME GmbH)").erpnext_bank_account == "Ops (ACME GmbH) - New Bank"


@pytest.mark.parametrize(
    ("gl", "expected"),
    [
        ("Nope - AG", "ERPNext has no Account named 'Nope - AG'"),
        ("Debtors - AG", "is not a ledger of account type Bank"),
        ("Bank - AG", "already used by Bank Account 'Main - Demo Bank'"),
    ],
)
def test_map_create_refuses_a_bad_gl_account_and_creates_nothing(
    gl, expected, connected, erp, capsys
):
    add_account(connected, "Savings (ACME GmbH)", OTHER_IBAN)
    posts = erp.writes()
    line = one_sentence(*run(capsys, "map", "Savings (ACME GmbH)", "--create", "--gl-account", gl))
    assert expected in line and "nothing was created" in line
    assert erp.writes() == posts
    assert connected.account("Savings (ACME GmbH)").erpnext_bank_account == ""


@pytest.mark.parametrize(
    "args",
    [
        ("map", "Nope (X)"),
        ("map", "--create"),
        ("map", ACCOUNT, "--gl-account", "Bank - AG"),
        ("map", ACCOUNT, "--create"),
        ("map", "--bank-account", ERP_BANK_ACCOUNT),
    ],
)
def test_map_usage_errors(args, connected, erp, capsys):
    add_account(connected)
    one_sentence(*run(capsys, *args))
    assert connected.account(ACCOUNT).erpnext_bank_account == ""


def test_everything_needs_a_connection_first(store, capsys):
    for args in (("map",), ("import-companies",), ("push",)):
        assert "not connected" in one_sentence(*run(capsys, *args))
    status, out, _ = run(capsys, "status")
    assert status == 0 and "Not connected" in out

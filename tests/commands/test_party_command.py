"""``kosma-tui party`` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import kosma

from kosma_tui.core.records import BankAccount
from kosma_tui.core.store import Store

HEADER = "party_type,name,iban,account_number\n"
IBAN = "DE89370400440532013000"


def snapshot(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and "logs" not in p.parts and p.suffix != ".lock"
    }


def listed(home: Path) -> list[dict[str, object]]:
    result = kosma(home, "party", "list", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["demo"] is True
    return data["parties"]


def test_import_then_list(home: Path, tmp_path: Path) -> None:
    csv_path = tmp_path / "parties.csv"
    csv_path.write_text(
        HEADER + f"Customer,[bold]ACME[/],{IBAN},\n"
        'Supplier,"Müller, Söhne",,0532013000\n'
        "Supplier,Müller  Söhne,,\n",
        encoding="utf-8",
    )
    result = kosma(home, "party", "import", str(csv_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Imported 3 parties from parties.csv (3 new, 0 updated).\n"
    assert listed(home) == [
        {"party_type": "Customer", "name": "[bold]ACME[/]", "ibans": [IBAN], "account_numbers": []},
        {"party_type": "Supplier", "name": "Müller Söhne", "ibans": [], "account_numbers": []},
        {
            "party_type": "Supplier",
            "name": "Müller, Söhne",
            "ibans": [],
            "account_numbers": ["0532013000"],
        },
    ]
    table = kosma(home, "party", "list")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].startswith("Kosma TUI · Parties · DEMO")
    assert "[bold]ACME[/]" in table.stdout and IBAN in table.stdout
    assert lines[-1] == "3 parties"
    again = kosma(home, "party", "import", str(csv_path))
    assert again.stdout == "Imported 3 parties from parties.csv (0 new, 3 updated).\n"


def test_empty_list_says_how_to_add(home: Path) -> None:
    result = kosma(home, "party", "list")
    assert result.returncode == 0
    assert "party import FILE.csv" in result.stdout


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            "Customer,Acme,,\nCustomer,Beta,DE00 1234,\n",
            "parties.csv line 3: 'DE00 1234' is not an IBAN",
        ),
        ("Customer,Acme,,\nClient,Beta,,\n", "parties.csv line 3: 'Client' is not a party type"),
        (None, "There is no file"),
    ],
)
def test_bad_import_is_one_sentence_exit_2_and_changes_nothing(
    home: Path, tmp_path: Path, body: str | None, fragment: str
) -> None:
    assert kosma(home, "party", "add", "Customer", "Kept GmbH").returncode == 0
    before = snapshot(home)
    csv_path = tmp_path / "parties.csv"
    if body is not None:
        csv_path.write_text(HEADER + body, encoding="utf-8")
    result = kosma(home, "party", "import", str(csv_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("kosma-tui: ") and fragment in result.stderr
    assert "nothing was imported" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert snapshot(home) == before


def test_add_and_remove(home: Path) -> None:
    added = kosma(
        home,
        "party",
        "add",
        "supplier",
        "Stadtwerke  Nord",
        "--iban",
        "de89 3704 0044 0532 0130 00",
        "--account-number",
        "0532013000",
        "--account-number",
        "77",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "Added Supplier Stadtwerke Nord.\n"
    assert listed(home) == [
        {
            "party_type": "Supplier",
            "name": "Stadtwerke Nord",
            "ibans": [IBAN],
            "account_numbers": ["0532013000", "77"],
        }
    ]
    before = snapshot(home)
    for args, fragment in [
        (["Supplier", "stadtwerke nord"], "exists already"),
        (["Vendor", "X"], "is not a party type"),
        (["Customer", "X", "--iban", "DE88370400440532013000"], "check digits do not match"),
    ]:
        result = kosma(home, "party", "add", *args)
        assert result.returncode == 2 and fragment in result.stderr, result
    assert snapshot(home) == before
    removed = kosma(home, "party", "remove", "Supplier", "STADTWERKE NORD")
    assert removed.returncode == 0
    assert removed.stdout.startswith("Removed Supplier Stadtwerke Nord;")
    assert listed(home) == []
    missing = kosma(home, "party", "remove", "Supplier", "Stadtwerke Nord")
    assert missing.returncode == 2 and "no Supplier named" in missing.stderr


def test_match_again(home: Path) -> None:
    store = Store.open()
    store.save_account(BankAccount("Giro (Max)", "Demo Bank", "Demo Company"))
    account = store.account("Giro (Max)")
    assert account is not None
    rows = []
    for n, (name, iban) in enumerate(
        [("Stadtwerke Nord", IBAN), ("MUELLER GMBH", ""), ("Nobody", "")]
    ):
        rows.append(
            {
                "bank_account": account.name,
                "date": "2024-05-0" + str(n + 1),
                "deposit": 0,
                "withdrawal": 500,
                "currency": "EUR",
                "transaction_id": f"T{n}",
                "reference_number": "",
                "description": "",
                "bank_party_name": name,
                "bank_party_iban": iban,
                "bank_party_account_number": "",
                "status": "Settled",
                "party_type": "",
                "party": "",
                "erpnext_name": "",
                "raw": {},
            }
        )
    store.book(account).append(rows)
    assert (
        kosma(home, "party", "add", "Supplier", "Stadtwerke Nord", "--iban", IBAN).returncode == 0
    )
    assert kosma(home, "party", "add", "Supplier", "Müller GmbH").returncode == 0

    before = snapshot(home)
    refused = kosma(home, "party", "match", "--account", "Giro (Max)")
    assert refused.returncode == 2
    assert "Party matching is turned off" in refused.stderr
    assert snapshot(home) == before

    assert kosma(home, "settings", "--party-matching").returncode == 0
    exact = kosma(home, "party", "match", "--account", "Giro (Max)")
    assert exact.returncode == 0, exact.stderr
    assert exact.stdout == (
        "Matched 1 transaction of Giro (Max) to a party (by IBAN and "
        "account number only: fuzzy matching is off).\n"
    )
    assert kosma(home, "settings", "--fuzzy-matching").returncode == 0
    fuzzy = kosma(home, "party", "match", "--account", "Giro (Max)")
    assert fuzzy.stdout == "Matched 1 transaction of Giro (Max) to a party.\n"
    assert {r["transaction_id"]: r["party"] for r in store.book(account).all_rows()} == {
        "T0": "Stadtwerke Nord",
        "T1": "Müller GmbH",
        "T2": "",
    }
    unknown = kosma(home, "party", "match", "--account", "Nope")
    assert unknown.returncode == 2 and "no bank account named 'Nope'" in unknown.stderr

"""Parties on a real store: checks, CSV import (all or nothing), re-matching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kosma_tui.core import parties as P
from kosma_tui.core.errors import ConfigurationError, UsageError
from kosma_tui.core.matching import rematch_account
from kosma_tui.core.records import BankAccount, Party
from kosma_tui.core.store import Store

HEADER = "party_type,name,iban,account_number\n"
IBAN = "DE89370400440532013000"  # valid check digits
IBAN_GB = "GB82WEST12345698765432"


@pytest.fixture
def store(home: Path) -> Store:
    return Store.open()


def csv_file(tmp_path: Path, body: str, header: str = HEADER, name: str = "parties.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def as_tuples(store: Store) -> list[tuple[str, str, list[str], list[str]]]:
    return sorted((p.party_type, p.name, p.ibans, p.account_numbers) for p in store.parties())


# --- checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        IBAN,
        "de89 3704 0044 0532 0130 00",
        IBAN_GB,
        "NO9386011117947",
        "MT84MALT011000012345MTLCAST001S",
    ],
)
def test_plausible_ibans_pass(value: str) -> None:
    assert P.iban_problem(value) is None
    assert P.check_iban(value) == "".join(value.split()).upper()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("DE88370400440532013000", "check digits do not match"),
        ("DE8937040044", "not an IBAN"),
        ("1234567890123456", "not an IBAN"),
        ("DE89-3704-0044-0532-0130-00", "not an IBAN"),
    ],
)
def test_implausible_ibans_say_why(value: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        P.check_iban(value)


def test_party_type_any_case_and_names_tidied() -> None:
    party = P.make_party("supplier", "  Müller   GmbH ", [f" {IBAN} "], ["0532 013000", ""])
    assert party == Party("Supplier", "Müller GmbH", [IBAN], ["0532013000"])
    with pytest.raises(UsageError, match="not a party type"):
        P.make_party("Vendor", "X")
    with pytest.raises(UsageError, match="needs a name"):
        P.make_party("Customer", "   ")
    with pytest.raises(UsageError, match="control characters"):
        P.make_party("Customer", "Evil\x1b[2J")


# --- add, update, delete ------------------------------------------------------------


def test_add_update_delete(store: Store) -> None:
    P.add_party(store, "Customer", "Acme GmbH", [IBAN])
    with pytest.raises(UsageError, match="exists already"):
        P.add_party(store, "customer", "ACME  GMBH")
    P.add_party(store, "Supplier", "Acme GmbH")  # another type is another party
    changed = P.update_party(
        store, "Customer", "acme gmbh", new_name="Acme Group", account_numbers=["42"]
    )
    assert changed == Party("Customer", "Acme Group", [IBAN], ["42"])
    with pytest.raises(UsageError, match="exists already"):
        P.update_party(store, "Customer", "Acme Group", new_type="Supplier", new_name="acme gmbh")
    with pytest.raises(UsageError, match="not a valid IBAN"):
        P.update_party(store, "Customer", "Acme Group", ibans=["DE00370400440532013000"])
    assert as_tuples(store) == [
        ("Customer", "Acme Group", [IBAN], ["42"]),
        ("Supplier", "Acme GmbH", [], []),
    ]
    P.delete_party(store, "Supplier", "ACME GMBH")
    with pytest.raises(UsageError, match="no Supplier named"):
        P.delete_party(store, "Supplier", "Acme GmbH")
    assert [p.name for p in store.parties()] == ["Acme Group"]


# --- CSV import ---------------------------------------------------------------------


def test_import_merges_rows_of_one_party_and_parties_already_stored(
    store: Store, tmp_path: Path
) -> None:
    P.add_party(store, "Customer", "Acme GmbH", account_numbers=["1"])
    path = csv_file(
        tmp_path,
        (
            f"Customer,ACME GmbH,{IBAN},\n"
            f"customer,Acme GmbH,{IBAN_GB},2\n"
            'Supplier,"Müller, Söhne & Co.",,0532013000\n'
            "\n"
            "Employee,Erika Mustermann,,\n"
        ),
    )
    assert P.import_csv(store, path) == 3
    assert as_tuples(store) == [
        ("Customer", "Acme GmbH", [IBAN, IBAN_GB], ["1", "2"]),
        ("Employee", "Erika Mustermann", [], []),
        ("Supplier", "Müller, Söhne & Co.", [], ["0532013000"]),
    ]
    assert P.import_csv(store, path) == 3  # importing again changes nothing
    assert len(store.parties()) == 3


def test_import_reads_excel_semicolons_and_a_byte_order_mark(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        (f"\ufeffparty_type;name;iban;account_number\r\nCustomer;Acme, Inc.;{IBAN};\r\n").encode()
    )
    assert P.import_csv(store, path) == 1
    assert as_tuples(store) == [("Customer", "Acme, Inc.", [IBAN], [])]


def test_header_only_imports_nothing(store: Store, tmp_path: Path) -> None:
    assert P.import_csv(store, csv_file(tmp_path, "")) == 0
    assert store.parties() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Customer,Acme,,\nVendor,Beta,,\n", "line 3: 'Vendor' is not a party type"),
        ("Customer,Acme,,\nCustomer,,,\n", "line 3: a party needs a name"),
        (
            "Customer,Acme,,\nCustomer,Beta,DE88370400440532013000,\n",
            "line 3: 'DE88370400440532013000' is not a valid IBAN: its check digits",
        ),
        ("Customer,Acme,,\nCustomer,Beta,12345,\n", "line 3: '12345' is not an IBAN"),
        ("Customer,Acme,,\nCustomer,Beta,,12 34!\n", "line 3: '12 34!' is not an account number"),
        ("Customer,Acme,,\nCustomer,Beta GmbH, Berlin,,12\n", "line 3: it has 5 fields"),
        ('Customer,Acme,,\nCustomer,"Beta,,\n', "is not valid CSV"),
        (
            "Vendor,A,,\nCustomer,B,,\nVendor,C,,\n",
            "line 2: 'Vendor' is not a party type"
            "; use Customer, Supplier or Employee (and 1 more bad line: 4)".replace("; ", ": "),
        ),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(
    store: Store, tmp_path: Path, body: str, message: str
) -> None:
    P.add_party(store, "Customer", "Kept", [IBAN])
    before = as_tuples(store)
    with pytest.raises(UsageError) as caught:
        P.import_csv(store, csv_file(tmp_path, body))
    assert message in caught.value.message
    assert caught.value.message.startswith("parties.csv line ")
    assert "nothing was imported" in caught.value.message
    assert as_tuples(store) == before


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "type,name\n",
            "must be the header party_type,name,iban,account_number (party_type missing)",
        ),
        ("party_type,name,name\n", "the column name appears twice"),
        ("", "is empty"),
    ],
)
def test_a_bad_header_is_refused(store: Store, tmp_path: Path, header: str, message: str) -> None:
    body = "" if not header else "Customer,Acme,,\n"
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        P.import_csv(store, csv_file(tmp_path, body, header=header))
    assert store.parties() == []


def test_missing_folder_and_non_utf8_files_are_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="There is no file"):
        P.import_csv(store, tmp_path / "missing.csv")
    with pytest.raises(UsageError, match="is a folder"):
        P.import_csv(store, tmp_path)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes((HEADER + "Supplier,Müller GmbH,,\n").encode("latin-1"))
    with pytest.raises(UsageError, match="is not UTF-8"):
        P.import_csv(store, latin)
    assert store.parties() == []


# --- matching again on a real store ------------------------------------------------------


def stored_row(
    n: int, name: str, *, deposit: int = 0, iban: str = "", party: str = "", party_type: str = ""
) -> dict[str, Any]:
    return {
        "bank_account": "Giro (Max)",
        "date": f"2024-05-{n % 28 + 1:02d}",
        "deposit": deposit,
        "withdrawal": 0 if deposit else 1250,
        "currency": "EUR",
        "transaction_id": f"T{n:04d}",
        "reference_number": "",
        "description": f"RE {n}",
        "bank_party_name": name,
        "bank_party_iban": iban,
        "bank_party_account_number": "",
        "status": "Settled",
        "party_type": party_type,
        "party": party,
        "erpnext_name": "",
        "raw": {"transaction_id": f"T{n:04d}"},
    }


@pytest.fixture
def giro(store: Store) -> BankAccount:
    account = BankAccount("Giro (Max)", "Demo Bank", "Demo Company")
    store.save_account(account)
    account = store.account("Giro (Max)")
    assert account is not None
    store.book(account).append(
        [
            stored_row(1, "Stadtwerke Nord", iban="DE89 3704 0044 0532 0130 00"),
            stored_row(2, "MUELLER GMBH"),
            stored_row(3, "Acme GmbH", deposit=990),
            stored_row(4, "Somebody Unknown"),
            stored_row(5, "Acme GmbH", deposit=10, party="By Hand", party_type="Customer"),
        ]
    )
    return account


def parties_by_id(store: Store, account: BankAccount) -> dict[str, tuple[str, str]]:
    return {
        r["transaction_id"]: (r["party_type"], r["party"]) for r in store.book(account).all_rows()
    }


def test_match_again_fills_only_rows_without_a_party(store: Store, giro: BankAccount) -> None:
    settings = store.settings()
    settings.enable_party_matching = True
    settings.enable_fuzzy_matching = True
    store.save_settings(settings)
    assert rematch_account(store, giro.name) == 0  # no parties yet
    P.import_csv(
        store,
        _write(
            store,
            (f"Supplier,Stadtwerke Nord,{IBAN},\nSupplier,Müller GmbH,,\nCustomer,Acme GmbH,,\n"),
        ),
    )
    assert rematch_account(store, giro.name, fuzzy=False) == 1
    assert rematch_account(store, giro.name) == 2
    assert parties_by_id(store, giro) == {
        "T0001": ("Supplier", "Stadtwerke Nord"),
        "T0002": ("Supplier", "Müller GmbH"),
        "T0003": ("Customer", "Acme GmbH"),
        "T0004": ("", ""),
        "T0005": ("Customer", "By Hand"),
    }
    assert rematch_account(store, giro.name) == 0
    # the raw provider object is kept untouched
    assert store.book(giro).get("T0002")["raw"] == {"transaction_id": "T0002"}  # type: ignore[index]


def test_match_again_refuses_when_party_matching_is_off(store: Store, giro: BankAccount) -> None:
    P.add_party(store, "Supplier", "Stadtwerke Nord", [IBAN])
    with pytest.raises(ConfigurationError, match="Party matching is turned off"):
        rematch_account(store, giro.name)
    assert parties_by_id(store, giro)["T0001"] == ("", "")


def test_match_again_names_an_unknown_account(store: Store) -> None:
    settings = store.settings()
    settings.enable_party_matching = True
    store.save_settings(settings)
    with pytest.raises(UsageError, match="no bank account named 'Nope'"):
        rematch_account(store, "Nope")


def _write(store: Store, body: str) -> Path:
    path = store.paths.data_dir / "parties.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path

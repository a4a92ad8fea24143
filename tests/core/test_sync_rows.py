"""Protocol Transaction -> Bank Transaction row (INTERFACES "Transaction row")."""

from __future__ import annotations

import pytest

from kosma_tui.core.errors import PortalProtocolError
from kosma_tui.core.records import TRANSACTION_FIELDS
from kosma_tui.core.sync import to_row
from kosma_tui.core.sync.rows import TRANSITIONS


def tx(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "transaction_id": "T1",
        "amount": {"amount": 12345, "currency": "EUR"},
        "type": "DEBIT",
        "state": "PROCESSED",
        "booking_date": "2025-03-01",
        "value_date": "2025-03-02",
        "date": "2025-03-01",
        "reference": "[bold]Invoice 7[/]\x1b[31m",
        "bank_references": {"end_to_end": "E2E-1", "mandate": "M"},
        "counter_party": {
            "holder_name": "ACME GmbH",
            "iban": "DE02100100100006820101",
            "account_number": "6820101",
            "bic": "PBNKDEFF",
        },
    }
    base.update(fields)
    return base


def test_a_debit_maps_every_field_in_minor_units() -> None:
    raw = tx()
    row = to_row(raw, "Girokonto (Max)")
    assert set(row) == set(TRANSACTION_FIELDS)
    assert row == {
        "bank_account": "Girokonto (Max)",
        "date": "2025-03-02",
        "deposit": 0,
        "withdrawal": 12345,
        "currency": "EUR",
        "transaction_id": "T1",
        "reference_number": "E2E-1",
        "description": "[bold]Invoice 7[/]\x1b[31m",
        "bank_party_name": "ACME GmbH",
        "bank_party_iban": "DE02100100100006820101",
        "bank_party_account_number": "6820101",
        "status": "Settled",
        "party_type": "",
        "party": "",
        "erpnext_name": "",
        "raw": raw,
    }


def test_credit_is_a_deposit_and_the_date_falls_back_to_booking_then_date() -> None:
    row = to_row(tx(type="CREDIT", value_date=None), "A")
    assert (row["deposit"], row["withdrawal"], row["date"]) == (12345, 0, "2025-03-01")
    row = to_row(tx(value_date="", booking_date=None, date="2025-02-28"), "A")
    assert row["date"] == "2025-02-28"


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("PENDING", "Pending"),
        ("PROCESSED", "Settled"),
        ("CANCELED", "Cancelled"),
        ("FAILED", "Cancelled"),
    ],
)
def test_states_map_to_statuses(state: str, status: str) -> None:
    assert to_row(tx(state=state), "A")["status"] == status


def test_missing_optional_parts_become_empty_text() -> None:
    row = to_row(
        tx(transaction_id=None, bank_references=None, counter_party=None, reference=None), "A"
    )
    assert row["transaction_id"] == row["reference_number"] == row["bank_party_name"] == ""
    assert row["description"] == ""


@pytest.mark.parametrize(
    "broken",
    [
        {"amount": None},
        {"amount": {"amount": -1, "currency": "EUR"}},
        {"amount": {"amount": "12", "currency": "EUR"}},
        {"amount": {"amount": 1}},
        {"type": "SIDEWAYS"},
        {"state": "LOST"},
        {"value_date": None, "booking_date": None, "date": None},
    ],
)
def test_a_malformed_transaction_is_a_protocol_error(broken: dict[str, object]) -> None:
    with pytest.raises(PortalProtocolError) as error:
        to_row(tx(**broken), "A")
    assert "cannot read" in error.value.message


def test_status_only_moves_forward() -> None:
    assert ("Pending", "Settled") in TRANSITIONS
    assert ("Pending", "Cancelled") in TRANSITIONS
    assert ("Settled", "Cancelled") in TRANSITIONS
    assert ("Cancelled", "Settled") not in TRANSITIONS
    assert ("Settled", "Pending") not in TRANSITIONS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("booking_date", "2026-11-31"),
        ("booking_date", "2026-11-00"),
        ("value_date", "XXXXXXXXXX"),
        ("value_date", "20261101"),
        ("date", "2026-W44-7"),
        ("booking_date", "2026-02-29"),
        ("value_date", "2026-11-01junk"),
        ("booking_date", 20261101),
    ],
)
def test_a_date_that_is_no_calendar_day_is_refused_by_name(name: str, value: object) -> None:
    with pytest.raises(PortalProtocolError) as error:
        to_row(tx(transaction_id="T-77", **{name: value}), "A")
    assert error.value.message == (
        "The banking portal sent an answer this app cannot read (transaction T-77 has "
        f"{name} '{value}', which is not a calendar date (YYYY-MM-DD))."
    )


def test_real_days_and_datetimes_pass() -> None:
    assert to_row(tx(value_date="2024-02-29"), "A")["date"] == "2024-02-29"
    assert to_row(tx(value_date="2025-03-02T10:00:00+01:00"), "A")["date"] == "2025-03-02"

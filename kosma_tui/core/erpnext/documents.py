"""Our rows as ERPNext documents: the submitted Bank Transaction of a row, and what
ERPNext's answer about one means (reconciled; needing the admin's attention)."""

from __future__ import annotations

from typing import Any

from kosma_tui.core.money import to_major

DOCTYPE = "Bank Transaction"
PARTY_TYPES = ("Customer", "Supplier", "Employee")
# SEPA's "no reference given": as reference_number it makes ERPNext's
# reconciliation rank unrelated transactions as matches for each other.
PLACEHOLDER_REFERENCES = frozenset({"NOTPROVIDED", "NONREF", "NONE", "NOTAVAILABLE"})


def bank_transaction(row: dict[str, Any], bank_account: str) -> dict[str, Any]:
    """The submitted Bank Transaction for one of our rows (amounts in major units)."""
    currency = str(row.get("currency") or "")
    doc: dict[str, Any] = {
        "doctype": DOCTYPE,
        "docstatus": 1,
        "date": row["date"],
        "deposit": float(to_major(int(row.get("deposit") or 0), currency)),
        "withdrawal": float(to_major(int(row.get("withdrawal") or 0), currency)),
        "currency": currency,
        "bank_account": bank_account,
        "transaction_id": row["transaction_id"],
    }
    for name in (
        "reference_number",
        "description",
        "bank_party_name",
        "bank_party_iban",
        "bank_party_account_number",
    ):
        if row.get(name):
            doc[name] = row[name]
    if placeholder(doc.get("reference_number")):
        del doc["reference_number"]
    if row.get("party_type") and row.get("party"):
        doc["party_type"], doc["party"] = row["party_type"], row["party"]
    return doc


def placeholder(reference: Any) -> bool:
    """SEPA's "NOTPROVIDED" and friends: a reference that refers to nothing."""
    if not isinstance(reference, str):
        return False
    return "".join(reference.split()).upper() in PLACEHOLDER_REFERENCES


def party_label(party_type: str, party: str) -> str:
    return f"{party_type} '{party}'"


def reconciled(doc: dict[str, Any]) -> bool:
    """Whether ERPNext has matched the Bank Transaction to a voucher (fully or in part)."""
    return doc.get("status") == "Reconciled" or float(doc.get("allocated_amount") or 0) > 0


def attention_message(name: str) -> str:
    return (
        f"the bank cancelled it, but {name} is reconciled in ERPNext; it was left as it "
        f"is: undo the reconciliation of {name} in ERPNext, and the next push cancels it"
    )

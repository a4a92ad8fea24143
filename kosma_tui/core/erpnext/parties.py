"""ERPNext's Customers, Suppliers and Employees become the parties of party matching.

Each keeps its ERPNext name (the ID a Bank Transaction's ``party`` links to)
and gets the IBANs and account numbers of its Bank Accounts (the non-company
ones ERPNext links to a party), so matching uses the parties the admin
already keeps in ERPNext. Disabled Customers and Suppliers and inactive
Employees are left out. A party type the API user may not read (Employee
needs an HR role) is skipped and named; the others still come.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kosma_tui.core import parties as party_rules
from kosma_tui.core.erpnext.client import ErpnextAuthError, ErpnextClient
from kosma_tui.core.errors import UsageError
from kosma_tui.core.records import Party

# party type -> the filter that leaves out the ones no longer in use
ACTIVE: dict[str, list[list[Any]]] = {
    "Customer": [["disabled", "=", 0]],
    "Supplier": [["disabled", "=", 0]],
    "Employee": [["status", "=", "Active"]],
}


@dataclass
class PartyImport:
    read: dict[str, int] = field(default_factory=dict)  # party type -> how many
    ibans: int = 0
    account_numbers: int = 0
    new: int = 0
    notes: list[str] = field(default_factory=list)  # what was skipped, and why

    @property
    def parties(self) -> int:
        return sum(self.read.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "parties": self.parties,
            "new": self.new,
            "by_type": self.read,
            "ibans": self.ibans,
            "account_numbers": self.account_numbers,
            "notes": self.notes,
        }


def import_from_erpnext(store: Any, client: ErpnextClient) -> PartyImport:
    """Read every party and its bank accounts, then merge them into the store at once."""
    result = PartyImport()
    found: dict[tuple[str, str], Party] = {}
    for party_type, active in ACTIVE.items():
        try:
            names = [str(r["name"]) for r in client.get_list(party_type, filters=active)]
        except ErpnextAuthError as exc:
            result.notes.append(f"{party_type}s were skipped: {exc.message}")
            continue
        result.read[party_type] = 0
        for name in names:
            try:
                party = party_rules.make_party(party_type, name)
            except UsageError as exc:
                result.notes.append(f"{party_type} '{name}' was skipped: {exc.message}")
                continue
            found[(party_type, name)] = party
            result.read[party_type] += 1
    if found:
        accounts = client.get_list(
            "Bank Account",
            fields=("name", "party_type", "party", "iban", "bank_account_no"),
            filters=[
                ["is_company_account", "=", 0],
                ["disabled", "=", 0],
                ["party_type", "in", list(result.read)],
            ],
        )
        for row in accounts:
            owner = found.get((str(row.get("party_type") or ""), str(row.get("party") or "")))
            if owner is not None:
                _add_numbers(owner, row, result)
    summary = party_rules.import_parties(store, list(found.values()))
    result.new = summary.new
    return result


def _add_numbers(party: Party, row: dict[str, Any], result: PartyImport) -> None:
    iban, number = str(row.get("iban") or ""), str(row.get("bank_account_no") or "")
    try:
        if iban.strip():
            party.ibans.append(party_rules.check_iban(iban))
            result.ibans += 1
        if number.strip():
            party.account_numbers.append(party_rules.check_account_number(number))
            result.account_numbers += 1
    except UsageError as exc:
        result.notes.append(
            f"Bank Account '{row.get('name')}' of {party.party_type} "
            f"'{party.name}' was skipped: {exc.message}"
        )

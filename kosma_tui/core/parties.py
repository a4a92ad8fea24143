"""Parties for automatic party matching: checks, CSV import, add, change, delete.

Used by ``kosma-tui party`` and the TUI's Parties screen alike. A party is
known by its type and name; names compare without regard to case, as in
ERPNext, so "ACME GmbH" and "Acme GmbH" of one type are the same party.
IBANs and account numbers are kept without spaces, upper case.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kosma_tui.core.errors import UsageError

# the identifier checks live in core.identifiers; re-exported for the callers of old
from kosma_tui.core.identifiers import account_number_problem as account_number_problem
from kosma_tui.core.identifiers import check_account_number as check_account_number
from kosma_tui.core.identifiers import check_iban as check_iban
from kosma_tui.core.identifiers import compact as compact
from kosma_tui.core.identifiers import iban_problem as iban_problem
from kosma_tui.core.matching import PARTY_TYPES
from kosma_tui.core.records import Party

CSV_COLUMNS: tuple[str, ...] = ("party_type", "name", "iban", "account_number")
MAX_NAME_LENGTH = 140  # ERPNext's limit for a document name


# --- checks -------------------------------------------------------------------


def party_type_problem(value: str) -> str | None:
    if value.strip().casefold() in (t.casefold() for t in PARTY_TYPES):
        return None
    return f"'{value.strip()}' is not a party type: use Customer, Supplier or Employee"


def check_party_type(value: str) -> str:
    """The party type spelled as ERPNext spells it (any case accepted)."""
    problem = party_type_problem(value)
    if problem:
        raise UsageError(problem[0].upper() + problem[1:] + ".")
    wanted = value.strip().casefold()
    return next(t for t in PARTY_TYPES if t.casefold() == wanted)


def name_problem(value: str) -> str | None:
    name = " ".join(value.split())
    if not name:
        return "a party needs a name"
    if not name.isprintable():
        return "a party name cannot contain control characters"
    if len(name) > MAX_NAME_LENGTH:
        return f"a party name can have at most {MAX_NAME_LENGTH} characters"
    return None


def check_name(value: str) -> str:
    """The name with runs of whitespace made one space."""
    problem = name_problem(value)
    if problem:
        raise UsageError(problem[0].upper() + problem[1:] + ".")
    return " ".join(value.split())


def make_party(
    party_type: str, name: str, ibans: Iterable[str] = (), account_numbers: Iterable[str] = ()
) -> Party:
    """A checked Party (UsageError naming the first problem)."""
    return Party(
        party_type=check_party_type(party_type),
        name=check_name(name),
        ibans=_unique(check_iban(i) for i in ibans if i.strip()),
        account_numbers=_unique(check_account_number(n) for n in account_numbers if n.strip()),
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _key(party_type: str, name: str) -> tuple[str, str]:
    return party_type, " ".join(name.split()).casefold()


# --- one party ------------------------------------------------------------------


def find_party(store: Any, party_type: str, name: str) -> Party | None:
    """The stored party of that type and name (case ignored), or None."""
    key = _key(party_type, name)
    same = None
    for party in store.parties():
        if party.party_type == party_type and party.name == name:
            return party
        if same is None and _key(party.party_type, party.name) == key:
            same = party
    return same


def add_party(
    store: Any,
    party_type: str,
    name: str,
    ibans: Iterable[str] = (),
    account_numbers: Iterable[str] = (),
) -> Party:
    """Add a party; UsageError if it is invalid or exists already."""
    party = make_party(party_type, name, ibans, account_numbers)
    with store.locked():
        existing = find_party(store, party.party_type, party.name)
        if existing is not None:
            raise UsageError(
                f"The {existing.party_type} '{existing.name}' exists already.",
                "Change it instead, or remove it first.",
            )
        store.save_party(party)
    return party


def update_party(
    store: Any,
    party_type: str,
    name: str,
    *,
    new_type: str | None = None,
    new_name: str | None = None,
    ibans: Iterable[str] | None = None,
    account_numbers: Iterable[str] | None = None,
) -> Party:
    """Change a party's type, name, IBANs or account numbers (None keeps them)."""
    party_type = check_party_type(party_type)
    with store.locked():
        old = find_party(store, party_type, name)
        if old is None:
            raise UsageError(f"There is no {party_type} named '{name}'.")
        party = make_party(
            old.party_type if new_type is None else new_type,
            old.name if new_name is None else new_name,
            old.ibans if ibans is None else ibans,
            old.account_numbers if account_numbers is None else account_numbers,
        )
        if _key(party.party_type, party.name) != _key(old.party_type, old.name):
            other = find_party(store, party.party_type, party.name)
            if other is not None:
                raise UsageError(
                    f"The {other.party_type} '{other.name}' exists already.",
                    "Choose another name, or remove that party first.",
                )
        if (party.party_type, party.name) == (old.party_type, old.name):
            store.save_party(party)
        else:  # renamed: one write, so the party is never missing in between
            store.replace_parties(
                [
                    party if (p.party_type, p.name) == (old.party_type, old.name) else p
                    for p in store.parties()
                ]
            )
    return party


def delete_party(store: Any, party_type: str, name: str) -> Party:
    """Remove a party (transactions already matched keep it); UsageError if unknown."""
    party_type = check_party_type(party_type)
    with store.locked():
        party = find_party(store, party_type, name)
        if party is None:
            raise UsageError(
                f"There is no {party_type} named '{name}'.",
                "'kosma-tui party list' shows the parties.",
            )
        store.delete_party(party.party_type, party.name)
    return party


# --- CSV import ---------------------------------------------------------------


def read_csv(path: Path) -> list[Party]:
    """Every party of a CSV file, checked and merged (same type and name: one
    party with all their IBANs and account numbers). Any bad line: UsageError
    naming it, and the file counts as not read."""
    merged: dict[tuple[str, str], Party] = {}
    for party in _parse(path, _read_text(path)):
        key = _key(party.party_type, party.name)
        if key in merged:
            _merge_into(merged[key], party)
        else:
            merged[key] = party
    return list(merged.values())


def import_csv(store: Any, path: Path | str) -> int:
    """Import parties from a CSV file with the header party_type,name,iban,account_number.
    Every line is checked first; one bad line and nothing is imported (UsageError
    naming the line). Parties already stored with the same type and name get the
    IBANs and account numbers added. Returns how many parties the file holds."""
    return import_parties(store, read_csv(Path(path))).parties


@dataclass
class ImportSummary:
    parties: int  # distinct parties imported
    new: int  # of which were not stored before


def import_parties(store: Any, parties: list[Party]) -> ImportSummary:
    """Merge checked parties into the store in one write (see import_csv)."""
    if not parties:
        return ImportSummary(0, 0)
    new = 0
    with store.locked():
        stored = store.parties()
        by_key = {_key(p.party_type, p.name): p for p in stored}
        for party in parties:
            key = _key(party.party_type, party.name)
            existing = by_key.get(key)
            if existing is None:
                stored.append(party)
                by_key[key] = party
                new += 1
            else:
                _merge_into(existing, party)
        store.replace_parties(stored)
    return ImportSummary(len(parties), new)


def _merge_into(target: Party, other: Party) -> None:
    target.ibans = _unique([*target.ibans, *other.ibans])
    target.account_numbers = _unique([*target.account_numbers, *other.account_numbers])


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"There is no file {path}; nothing was imported.") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder, not a CSV file; nothing was imported.") from None
    except OSError as exc:
        raise UsageError(
            f"{path} could not be read ({exc.strerror}); nothing was imported."
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(
            f"{path} is not UTF-8 text; nothing was imported.",
            "Save it as CSV UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)').",
        ) from None


def _parse(path: Path, text: str) -> list[Party]:
    where = path.name
    if not text.strip():
        raise UsageError(
            f"{where} is empty; the first line must be the header "
            f"{','.join(CSV_COLUMNS)}. Nothing was imported."
        )
    first = text.lstrip().splitlines()[0]
    # Excel in many countries writes semicolons; the header tells which it is.
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[tuple[int, str]] = []
    parties: list[Party] = []
    try:
        header: list[str] | None = None
        for fields in reader:
            number = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = _header(where, number, fields)
                continue
            problem, party = _line(header, fields)
            if problem:
                problems.append((number, problem))
            elif party is not None:
                parties.append(party)
    except csv.Error as exc:
        raise UsageError(
            f"{where} line {reader.line_num} is not valid CSV ({exc}); nothing was imported."
        ) from None
    if problems:
        number, problem = problems[0]
        more = ""
        if len(problems) > 1:
            others = ", ".join(str(n) for n, _ in problems[1:6])
            more = (
                f" (and {len(problems) - 1} more bad line"
                f"{'s' if len(problems) > 2 else ''}: {others}"
                f"{', ...' if len(problems) > 6 else ''})"
            )
        raise UsageError(
            f"{where} line {number}: {problem}{more}; nothing was imported.",
            "Fix the file and import it again.",
        )
    return parties


def _header(where: str, number: int, fields: list[str]) -> list[str]:
    names = [f.strip().casefold().replace(" ", "_") for f in fields]
    missing = [c for c in ("party_type", "name") if c not in names]
    if missing:
        raise UsageError(
            f"{where} line {number} must be the header {','.join(CSV_COLUMNS)} "
            f"({' and '.join(missing)} missing); nothing was imported."
        )
    repeated = sorted({n for n in names if n in CSV_COLUMNS and names.count(n) > 1})
    if repeated:
        raise UsageError(
            f"{where} line {number}: the column {repeated[0]} appears twice; nothing was imported."
        )
    return names


def _line(header: list[str], fields: list[str]) -> tuple[str | None, Party | None]:
    if len(fields) > len(header) and any(f.strip() for f in fields[len(header) :]):
        return (
            f"it has {len(fields)} fields but the header has {len(header)} "
            "(a name with a comma needs quotes)",
            None,
        )
    values = dict(zip(header, fields, strict=False))
    party_type = values.get("party_type", "")
    name = values.get("name", "")
    iban = values.get("iban", "") or ""
    number = values.get("account_number", "") or ""
    problem = (
        party_type_problem(party_type)
        or name_problem(name)
        or (iban_problem(iban) if iban.strip() else None)
        or (account_number_problem(number) if number.strip() else None)
    )
    if problem:
        return problem, None
    return None, make_party(party_type, name, [iban], [number])

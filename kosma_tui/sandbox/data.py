"""Deterministic accounts, balances and transactions of the Demo Bank.

Everything here is a pure function of (username, bank, account index, date,
the portal's today): the same IBANs, transaction ids and texts every run,
on every machine. Nothing is stored.

Transactions of a day are numbered 0..count-1 and hashed (BLAKE2b of the
account's IBAN, the day's ordinal and the number) into their fields, so a
page at any ``offset`` is computed from per-day counts alone: O(days in the
range) to find the first day, O(page) to build the page. Order: oldest day
first, and within a day by number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from kosma_tui.sandbox.banks import COUNTRIES, Bank, account_identifiers
from kosma_tui.sandbox.parties import PARTIES
from kosma_tui.sandbox.scenarios import Scenario

PENDING_DAYS = 2  # transactions dated today or yesterday are PENDING

# (alias, account_type, transfer_type); index i >= len gets " 2", " 3", ...
_ACCOUNT_KINDS: tuple[tuple[str, str, str], ...] = (
    ("Girokonto", "DEFAULT", "FULL"),
    ("Tagesgeld", "SAVING", "REFERENCE"),
    ("Kreditkarte", "CREDITCARD", "NONE"),
    ("Geschäftskonto", "DEFAULT", "FULL"),
    ("Festgeld", "SAVING", "REFERENCE"),
    ("Firmenkarte", "CREDITCARD", "NONE"),
    ("Sparkonto", "SAVING", "REFERENCE"),
    ("Mietkautionskonto", "SAVING", "NONE"),
)
_HOLDERS = ("Max Mustermann", "Erika Mustermann", "Mustermann GmbH")


@dataclass(frozen=True)
class DemoAccount:
    index: int
    alias: str
    account_type: str
    transfer_type: str
    holder_name: str
    iban: str
    account_number: str
    bank: Bank
    currency: str
    many: int | None  # many-transactions{N}, else None (0-3 a day)

    @property
    def seed(self) -> bytes:
        return self.iban.encode("ascii")


def _hash_int(*parts: object, size: int = 8) -> int:
    text = "|".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=size).digest(), "big")


def accounts(scenario: Scenario, bank: Bank) -> list[DemoAccount]:
    currency = COUNTRIES[bank.country].currency
    result = []
    for index in range(scenario.accounts):
        alias, account_type, transfer_type = _ACCOUNT_KINDS[index % len(_ACCOUNT_KINDS)]
        if index >= len(_ACCOUNT_KINDS):
            alias = f"{alias} {index // len(_ACCOUNT_KINDS) + 1}"
        holder = _HOLDERS[0] if index < 3 else _HOLDERS[index % len(_HOLDERS)]
        number = _hash_int("account-number", scenario.username, index) % 10**10
        iban, account_number = account_identifiers(bank, number)
        result.append(
            DemoAccount(
                index,
                alias,
                account_type,
                transfer_type,
                holder,
                iban,
                account_number,
                bank,
                currency,
                scenario.many,
            )
        )
    return result


def account_id(consent_id: str, iban: str) -> str:
    """Ids are valid for one consent: a new consent, new ids (the IBAN stays)."""
    return "acc-" + hashlib.sha256(f"{consent_id}|{iban}".encode()).hexdigest()[:24]


def opening_balance(account: DemoAccount) -> int:
    """The booked balance the portal first shows for ``account`` (then kept in its
    state, see ``ledger``): positive, different per account."""
    return 1_000_000 + _hash_int("balance", account.iban) % 2_500_000


def account_object(account: DemoAccount, consent_id: str, booked: int) -> dict[str, Any]:
    return {
        "id": account_id(consent_id, account.iban),
        "alias": account.alias,
        "iban": account.iban,
        "account_number": account.account_number,
        "holder_name": account.holder_name,
        "bank_code": account.bank.code,
        "bic": account.bank.bic,
        "national_branch_code": account.bank.branch,
        "bank_name": account.bank.name,
        "account_type": account.account_type,
        "transfer_type": account.transfer_type,
        "balance": {"amount": booked, "currency": account.currency},
        "capabilities": {"transactions": {"available": True}, "balances": {"available": True}},
    }


# ---- transactions --------------------------------------------------------


def day_count(account: DemoAccount, ordinal: int) -> int:
    many = account.many
    if many is not None:
        # any 1000 consecutive days hold exactly N; each day brings N // 1000 (+1)
        return many // 1000 + (1 if ordinal % 1000 < many % 1000 else 0)
    digest = hashlib.blake2b(account.seed + b"|day|" + ordinal.to_bytes(4, "big"), digest_size=1)
    return digest.digest()[0] % 4


def page(
    account: DemoAccount,
    start: date,
    end: date,
    today: date,
    offset: int,
    size: int,
    hidden: tuple[int, int] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Transactions ``offset`` .. ``offset + size`` of [start, end] (end clamped to
    today), and how many the range holds in all. ``hidden`` is one transaction
    (day ordinal, number) the bank does not list yet (a late booking)."""
    first, last = start.toordinal(), min(end, today).toordinal()
    counts = [day_count(account, o) for o in range(first, last + 1)]
    hidden_day, hidden_number = hidden if hidden is not None else (None, -1)
    if hidden_day is not None and first <= hidden_day <= last:
        counts[hidden_day - first] -= 1
    total = sum(counts)
    out: list[dict[str, Any]] = []
    skip = offset
    today_ordinal = today.toordinal()
    for ordinal, count in zip(range(first, last + 1), counts, strict=True):
        if skip >= count:
            skip -= count
            continue
        stop = min(count, skip + size - len(out))
        if ordinal == hidden_day:  # the day's numbers skip the hidden one
            day = _day(account, ordinal, today_ordinal, 0, count + 1)
            del day[hidden_number]
            out.extend(day[skip:stop])
        else:
            out.extend(_day(account, ordinal, today_ordinal, skip, stop))
        skip = 0
        if len(out) >= size:
            break
    return out, total


def settled_state(digest: bytes) -> str:
    """The state of a transaction once it is no longer pending: a few that were
    pending with an id end CANCELED, the others PROCESSED."""
    return "CANCELED" if digest[21] % 3 and digest[22] % 25 == 0 else "PROCESSED"


def signed_amounts(account: DemoAccount, ordinal: int) -> list[tuple[int, str]]:
    """(signed amount, settled state) of each transaction of a day, by number: what
    balances are made of, without building the transactions."""
    prefix = account.seed + b"|tx|" + ordinal.to_bytes(4, "big")
    out = []
    for number in range(day_count(account, ordinal)):
        d = hashlib.blake2b(prefix + number.to_bytes(4, "big"), digest_size=24).digest()
        party = PARTIES[d[12] % _PARTY_COUNT]
        amount = party.low + int.from_bytes(d[13:16], "big") % party.span
        out.append((amount if party.type == "CREDIT" else -amount, settled_state(d)))
    return out


_PARTY_COUNT = len(PARTIES)


def _day(
    account: DemoAccount, ordinal: int, today_ordinal: int, first: int, stop: int
) -> list[dict[str, Any]]:
    day = date.fromordinal(ordinal)
    iso = day.isoformat()
    words: dict[str, Any] = {"yyyy": day.year, "mm": day.month, "dd": day.day, "n": 0}
    pending = today_ordinal - ordinal < PENDING_DAYS
    prefix = account.seed + b"|tx|" + ordinal.to_bytes(4, "big")
    currency = account.currency
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    out = []
    for number in range(first, stop):
        # one digest, its bytes spent on the fields: 0-11 id, 12 party, 13-15 amount,
        # 16 reference template, 17-19 reference number, 20 control character,
        # 21-22 state, 23 end-to-end reference
        d = blake2b(prefix + number.to_bytes(4, "big"), digest_size=24).digest()
        party = PARTIES[d[12] % _PARTY_COUNT]
        references = party.references
        words["n"] = from_bytes(d[17:20], "big") % 100_000
        reference = references[d[16] % len(references)] % words
        if d[20] < 4:  # bank data is verbatim, control characters included
            reference = f"\x1b[31m{reference}\x1b[0m" if d[20] & 1 else f"{reference} \x07"
        transaction_id = "T" + d[:12].hex()
        state = "PENDING" if pending else settled_state(d)
        tx = {
            "transaction_id": transaction_id,
            "amount": {
                "amount": party.low + from_bytes(d[13:16], "big") % party.span,
                "currency": currency,
            },
            "type": party.type,
            "state": state,
            "booking_date": iso,
            "value_date": iso,
            "date": iso,
            "reference": reference,
            "bank_references": {
                "end_to_end": "NOTPROVIDED" if d[23] & 3 == 0 else "E2E" + transaction_id[1:15],
                "mandate": party.mandate,
                "unstructured": "SVWZ+" + reference if party.mandate else None,
            },
            "counter_party": party.account,
            "method": party.method,
        }
        if pending and d[21] % 3 == 0:  # about a third of pending ones have no id yet
            del tx["transaction_id"]
        out.append(tx)
    return out

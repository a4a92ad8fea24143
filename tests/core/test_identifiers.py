"""IBANs and account numbers: one compact form, one validation (python-stdnum),
and one rule for "the same bank account" that the link, the sync and the
account lookup of the commands all apply."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kosma_tui.core import identifiers
from kosma_tui.core.admin import find_account
from kosma_tui.core.errors import UsageError
from kosma_tui.core.linking.saving import _same_account
from kosma_tui.core.records import BankAccount
from kosma_tui.core.store import Store
from kosma_tui.core.sync.engine import _match

IBAN = "DE89370400440532013000"
OTHER = "GB82WEST12345698765432"

# (stored IBAN, stored number, portal IBAN, portal number, same account?)
SAME_ACCOUNT = [
    (IBAN, "", IBAN, "", True),
    ("de89 3704 0044 0532 0130 00", "", IBAN, "", True),  # spaces and lower case
    (IBAN, "0532013000", OTHER, "0532013000", False),  # two IBANs: they decide
    (IBAN, "0532013000", "", "0532013000", True),  # the bank sent no IBAN this time
    ("", "0532013000", IBAN, "0532013000", True),  # the bank sends the IBAN now
    # they disagreed here: the link compared numbers as sent, the sync compacted them
    ("", "0532 0130 00", "", "0532013000", True),
    ("", "ab-12", "", "AB-12", True),
    ("", "0532013000", "", "0532013001", False),
    (IBAN, "", "", "0532013000", False),  # nothing in common to compare
    ("", "", "", "", False),
]


@pytest.mark.parametrize(("iban", "number", "portal_iban", "portal_number", "same"), SAME_ACCOUNT)
def test_link_and_sync_apply_the_one_rule(
    iban: str, number: str, portal_iban: str, portal_number: str, same: bool
) -> None:
    stored = BankAccount(
        name="Main (ACME)", bank="Demo Bank", company="ACME", iban=iban, bank_account_no=number
    )
    portal = SimpleNamespace(iban=portal_iban, account_number=portal_number)
    assert identifiers.same_account(iban, number, portal_iban, portal_number) is same
    assert identifiers.same_account(portal_iban, portal_number, iban, number) is same
    assert _same_account(stored, portal) is same  # the link updates, not duplicates
    assert (_match(stored, [portal]) is portal) is same  # the sync finds it


def test_a_command_finds_an_account_by_its_iban_or_account_number(home: Path) -> None:
    store = Store.open()
    store.save_account(
        BankAccount(
            name="Main (ACME)",
            bank="Demo Bank",
            company="ACME",
            iban=IBAN,
            bank_account_no="0532013000",
        )
    )
    store.save_account(
        BankAccount(
            name="Card (ACME)", bank="Demo Bank", company="ACME", bank_account_no="4711 0815"
        )
    )
    assert find_account(store, "de89 3704 0044 0532 0130 00").name == "Main (ACME)"
    assert find_account(store, "0532013000").name == "Main (ACME)"
    assert find_account(store, "47110815").name == "Card (ACME)"
    with pytest.raises(UsageError, match="There is no bank account named '0532'"):
        find_account(store, "0532")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("DE88370400440532013000", "its check digits do not match"),
        # right check digits, one digit short: today's shape rule let this one through
        ("DE51 3704 0044 0532 0130 0", "DE IBANs do not have this length or layout"),
        ("XX46 3704 0044 0532 0130 00", "no country has IBANs starting with XX"),
        ("DE89-3704-0044-0532-0130-00", "is not an IBAN"),
    ],
)
def test_iban_refusals_say_why(value: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment) as caught:
        identifiers.check_iban(value)
    assert caught.value.exit_status == 2


def test_compact_spaced_and_short() -> None:
    assert identifiers.compact(" de89 3704\t0044 0532 0130 00 ") == IBAN
    assert identifiers.compact(None) == ""
    assert identifiers.spaced(IBAN) == "DE89 3704 0044 0532 0130 00"
    assert identifiers.short(IBAN) == "DE89 …3000"
    assert identifiers.check_account_number(" 0532 013000 ") == "0532013000"

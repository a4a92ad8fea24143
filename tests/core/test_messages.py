"""The error catalogue: a repeated sentence is written once, in core/messages.py,
and every refusal of an unknown account says exactly that sentence."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cli_support import kosma

import kosma_tui
from kosma_tui.core import messages
from kosma_tui.core.admin import find_account
from kosma_tui.core.errors import UsageError
from kosma_tui.core.matching import rematch_account
from kosma_tui.core.records import BankAccount
from kosma_tui.core.store import Store
from kosma_tui.core.sync.rules import set_last_integration_date

PACKAGE = Path(kosma_tui.__file__).parent
CATALOGUED = [
    "There is no bank account named",
    "There is already a bank account named",
    "There is no Bank Consent named",
    "There is no company named",
    "Something unexpected went wrong (",
    "No bank accounts yet: link a bank with",
]


@pytest.mark.parametrize("sentence", CATALOGUED)
def test_each_catalogued_sentence_is_written_once(sentence: str) -> None:
    holders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "sandbox" not in p.parts and sentence in p.read_text(encoding="utf-8")
    ]
    assert holders == ["core/messages.py"]


def test_every_lookup_of_an_unknown_account_says_the_same(home: Path) -> None:
    store = Store.open()
    store.save_account(BankAccount(name="Main (ACME)", bank="Demo Bank", company="ACME"))
    expected = messages.no_bank_account("Nope", ["Main (ACME)"])
    assert expected.message == (
        "There is no bank account named 'Nope'; known accounts: 'Main (ACME)'."
    )
    refusals = []
    for attempt in (
        lambda: find_account(store, "Nope"),
        lambda: store.update_account("Nope", enabled=False),
        lambda: set_last_integration_date(store, "Nope", date(2024, 1, 1)),
        lambda: store.book(BankAccount(name="Nope", bank="B", company="C")),
    ):
        with pytest.raises(UsageError) as caught:
            attempt()
        refusals.append((caught.value.message, caught.value.remedy, caught.value.exit_status))
    assert set(refusals) == {(expected.message, expected.remedy, 2)}
    command = kosma(home, "transactions", "--account", "Nope")
    assert command.returncode == 2
    assert expected.message in command.stderr and expected.remedy in command.stderr


def test_none_yet_says_how_to_link(home: Path) -> None:
    store = Store.open()
    settings = store.settings()
    settings.enable_party_matching = True
    store.save_settings(settings)
    error = messages.no_bank_account("Main", [])
    assert error.remedy == "Link a bank first ('kosma-tui link --company NAME')."
    for attempt in (lambda: find_account(store, "Main"), lambda: rematch_account(store, "Main")):
        with pytest.raises(UsageError) as caught:
            attempt()
        assert (caught.value.message, caught.value.remedy) == (error.message, error.remedy)

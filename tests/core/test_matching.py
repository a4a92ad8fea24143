"""Automatic party matching (DESIGN 2): each rule, the direction order, the tie."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kosma_tui.core import matching
from kosma_tui.core.matching import Matcher, match_rows, token_set_ratio, tokens
from kosma_tui.core.records import Party


def row(
    name: str = "",
    *,
    deposit: int = 0,
    withdrawal: int = 0,
    iban: str = "",
    number: str = "",
    description: str = "",
    party: str = "",
    party_type: str = "",
) -> dict[str, Any]:
    if not deposit and not withdrawal:
        withdrawal = 1000
    return {
        "bank_account": "Giro (Demo)",
        "date": "2024-05-02",
        "deposit": deposit,
        "withdrawal": withdrawal,
        "currency": "EUR",
        "transaction_id": "T1",
        "reference_number": "",
        "description": description,
        "bank_party_name": name,
        "bank_party_iban": iban,
        "bank_party_account_number": number,
        "status": "Settled",
        "party_type": party_type,
        "party": party,
        "erpnext_name": "",
        "raw": {},
    }


def matched(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["party_type"], r["party"]) for r in rows]


# --- token set similarity ------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        # values from rapidfuzz.fuzz.token_set_ratio with utils.default_process
        ("fuzzy was a bear", "fuzzy fuzzy was a bear", 100.0),
        ("Schmidt", "Schmidt Bau GmbH", 100.0),
        ("Muler GmbH", "Muller GmbH", 2000 / 21),
        ("Anna Schmidt", "Anna Schmitz", 1100 / 12),
        ("Jonh Smyth", "John Smith", 80.0),
        ("Hans Meyer", "Hans Maier", 80.0),
        ("Bauer Logistik", "Baur Logistik KG", 1300 / 15),
        ("Acme Corp", "ACME Corporation Ltd", 1800 / 29),
        ("Abc Def", "Abd Deg", 500 / 7),
        ("", "Acme", 0.0),
    ],
)
def test_token_set_ratio_matches_the_fuzzywuzzy_definition(a: str, b: str, score: float) -> None:
    assert token_set_ratio(a, b) == pytest.approx(score)
    assert token_set_ratio(b, a) == pytest.approx(score)


def test_text_is_folded_case_accents_and_punctuation() -> None:
    assert tokens("MÜLLER  GmbH & Co. KG") == {"muller", "gmbh", "co", "kg"}
    assert tokens("Σπύρος ΠΑΠΑΔΌΠΟΥΛΟΣ") == tokens("σπυρος παπαδοπουλος")
    assert tokens("[bold]ACME[/]\x1b[31m") == {"bold", "acme", "31m"}
    assert token_set_ratio("Müller GmbH", "MULLER GMBH") == 100.0


def reference_token_set_ratio(a: str, b: str) -> float:
    """The fuzzywuzzy definition written out in Python (the scorer before rapidfuzz):
    the best InDel ratio of "sect" / "sect diff_a" / "sect diff_b"."""

    def lcs(x: str, y: str) -> int:
        table = [0] * (len(y) + 1)
        for ch in x:
            diagonal = 0
            for j, other in enumerate(y):
                diagonal, table[j + 1] = (
                    table[j + 1],
                    (diagonal + 1 if ch == other else max(table[j + 1], table[j])),
                )
        return table[-1]

    def ratio(x: str, y: str) -> float:
        return 100.0 * 2 * lcs(x, y) / (len(x) + len(y)) if x or y else 100.0

    wa, wb = tokens(a), tokens(b)
    if not wa or not wb:
        return 0.0
    common = wa & wb
    if common and (common == wa or common == wb):
        return 100.0
    sect = " ".join(sorted(common))
    diff_a, diff_b = " ".join(sorted(wa - common)), " ".join(sorted(wb - common))
    if not sect:
        return ratio(diff_a, diff_b)
    return max(
        ratio(sect, f"{sect} {diff_a}"),
        ratio(sect, f"{sect} {diff_b}"),
        ratio(f"{sect} {diff_a}", f"{sect} {diff_b}"),
    )


def generated_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Party names and counterparty names as banks print them: other case, typos,
    extra or missing words, accents."""
    rng = random.Random(seed)
    words = [
        "Müller",
        "Muller",
        "Schmidt",
        "Schmid",
        "GmbH",
        "AG",
        "KG",
        "& Co.",
        "Bau",
        "Logistik",
        "Bäckerei",
        "Hans",
        "Anna",
        "Meyer",
        "Maier",
        "Acme",
        "Corp",
        "Σπύρος",
        "Иван",
        "Łukasz",
        "4711",
        "Rechnung",
        "Nord",
        "Stadtwerke",
    ]
    pairs = []
    for _ in range(count):
        name = rng.sample(words, rng.randint(1, 4))
        text = [w for w in name if rng.random() < 0.8] + rng.sample(words, rng.randint(0, 2))
        if text and rng.random() < 0.5:  # a typo: one letter changed
            i = rng.randrange(len(text))
            j = rng.randrange(len(text[i]))
            text[i] = text[i][:j] + rng.choice("aeiourst") + text[i][j + 1 :]
        rng.shuffle(text)
        joined = " ".join(text)
        pairs.append((" ".join(name), joined.upper() if rng.random() < 0.3 else joined))
    return pairs


def test_rapidfuzz_scores_are_the_scores_of_the_python_scorer() -> None:
    # the full comparison (20,000 pairs) and the speed are in the change's notes
    for a, b in generated_pairs(2000, seed=13):
        assert token_set_ratio(a, b) == pytest.approx(reference_token_set_ratio(a, b), abs=1e-9), (
            a,
            b,
        )


def test_the_fast_scorer_decides_as_token_set_ratio_does() -> None:
    rng = random.Random(5)
    vocab = [
        "muller",
        "muler",
        "gmbh",
        "ag",
        "kg",
        "schmidt",
        "schmid",
        "acme",
        "corp",
        "john",
        "jonh",
        "smith",
        "smyth",
        "co",
        "a",
        "bau",
        "bauer",
        "haftungsbeschrankt",
        "ug",
    ]
    for _ in range(1500):
        names = {" ".join(rng.sample(vocab, rng.randint(1, 4))) for _ in range(12)}
        parties = [Party("Customer", name) for name in sorted(names)]
        text = " ".join(rng.sample(vocab, rng.randint(1, 4)))
        scores = sorted(
            ((token_set_ratio(text, p.name), n) for n, p in enumerate(parties)), reverse=True
        )
        if scores[0][0] < 80:
            expected = matching.NO_MATCH
        elif len(scores) > 1 and scores[1][0] == scores[0][0]:
            expected = matching.TIE
        else:
            expected = scores[0][1]
        index = matching._NameIndex(parties)
        assert index.best(tokens(text), list(range(len(parties)))) == expected, text


# --- IBAN and account number ---------------------------------------------


def test_counterparty_iban_sets_the_party_ignoring_spaces_and_case() -> None:
    parties = [Party("Supplier", "Stadtwerke Nord", ibans=["DE89 3704 0044 0532 0130 00"])]
    rows = [row("Somebody else", iban="de89370400440532013000"), row("x", iban="DE00 1")]
    assert match_rows(rows, parties, fuzzy=False) == 1
    assert matched(rows) == [("Supplier", "Stadtwerke Nord"), ("", "")]


def test_counterparty_account_number_sets_the_party() -> None:
    parties = [Party("Employee", "Erika Mustermann", account_numbers=["0532 013000"])]
    rows = [row("E. M.", number="0532013000")]
    assert match_rows(rows, parties, fuzzy=False) == 1
    assert matched(rows) == [("Employee", "Erika Mustermann")]


def test_identifier_beats_the_name() -> None:
    parties = [
        Party("Customer", "Acme GmbH"),
        Party("Customer", "Beta AG", ibans=["AT611904300234573201"]),
    ]
    rows = [row("Acme GmbH", deposit=500, iban="AT61 1904 3002 3457 3201")]
    match_rows(rows, parties, fuzzy=True)
    assert matched(rows) == [("Customer", "Beta AG")]


def test_identifier_shared_by_two_parties_of_a_type_leaves_it_to_the_name() -> None:
    shared = "DE89370400440532013000"
    parties = [
        Party("Customer", "Acme GmbH", ibans=[shared]),
        Party("Customer", "Acme Holding", ibans=[shared]),
    ]
    fuzzy_rows = [row("ACME HOLDING", deposit=1, iban=shared)]
    exact_rows = [row("ACME HOLDING", deposit=1, iban=shared)]
    match_rows(fuzzy_rows, parties, fuzzy=True)
    match_rows(exact_rows, parties, fuzzy=False)
    assert matched(fuzzy_rows) == [("Customer", "Acme Holding")]
    assert matched(exact_rows) == [("", "")]


def test_rows_that_have_a_party_are_left_alone() -> None:
    parties = [Party("Supplier", "Acme", ibans=["DE89370400440532013000"])]
    rows = [row(iban="DE89370400440532013000", party="Chosen By Hand", party_type="Customer")]
    assert match_rows(rows, parties, fuzzy=True) == 0
    assert matched(rows) == [("Customer", "Chosen By Hand")]


# --- names and descriptions ------------------------------------------------


def test_fuzzy_off_matches_no_names() -> None:
    parties = [Party("Supplier", "Müller GmbH")]
    rows = [row("Müller GmbH"), row(description="Rechnung Müller GmbH")]
    assert match_rows(rows, parties, fuzzy=False) == 0
    assert matched(rows) == [("", ""), ("", "")]


@pytest.mark.parametrize(
    "name",
    [
        "MÜLLER GMBH",
        "Muler GmbH",
        "Müller GmbH, Berlin",
        "GmbH Müller",
        "mueller gmbh",
        "Müllre GmbH",
    ],
)
def test_counterparty_name_similar_enough_sets_the_party(name: str) -> None:
    parties = [Party("Supplier", "Müller GmbH"), Party("Supplier", "Schulz AG")]
    rows = [row(name)]
    assert match_rows(rows, parties, fuzzy=True) == 1
    assert matched(rows) == [("Supplier", "Müller GmbH")]


def test_a_score_of_80_matches_and_79_does_not() -> None:
    assert token_set_ratio("Hans Meyer", "Hans Maier") == 80.0
    assert token_set_ratio("Abc Def", "Abd Deg") < 80.0
    parties = [Party("Employee", "Hans Maier"), Party("Employee", "Abd Deg")]
    rows = [row("Hans Meyer"), row("Abc Def"), row("Jonh Smyth")]
    parties.append(Party("Employee", "John Smith"))
    assert match_rows(rows, parties, fuzzy=True) == 2
    assert matched(rows) == [("Employee", "Hans Maier"), ("", ""), ("Employee", "John Smith")]


def test_description_is_used_when_the_name_finds_nobody() -> None:
    parties = [Party("Customer", "Schulz Bau KG")]
    rows = [
        row("PayPal Europe", deposit=100, description="RE 2024-117 Schulz Bau KG"),
        row("", deposit=100, description="Schulz Bau KG danke"),
        row("PayPal Europe", deposit=100, description="RE 2024-118"),
    ]
    assert match_rows(rows, parties, fuzzy=True) == 2
    assert matched(rows) == [("Customer", "Schulz Bau KG")] * 2 + [("", "")]


def test_name_wins_over_description() -> None:
    parties = [Party("Customer", "Schulz Bau KG"), Party("Customer", "Weber OHG")]
    rows = [row("Weber OHG", deposit=100, description="für Schulz Bau KG")]
    match_rows(rows, parties, fuzzy=True)
    assert matched(rows) == [("Customer", "Weber OHG")]


# --- direction order ---------------------------------------------------------


def test_deposits_search_customers_first_withdrawals_suppliers_first() -> None:
    parties = [
        Party("Supplier", "Acme GmbH"),
        Party("Customer", "Acme GmbH"),
        Party("Employee", "Acme GmbH"),
    ]
    rows = [row("ACME GmbH", deposit=100), row("ACME GmbH", withdrawal=100)]
    match_rows(rows, parties, fuzzy=True)
    assert matched(rows) == [("Customer", "Acme GmbH"), ("Supplier", "Acme GmbH")]


def test_the_first_type_with_a_match_wins_over_a_better_score_later() -> None:
    # withdrawal order: Supplier, Employee, Customer
    parties = [Party("Customer", "Peter Bauer"), Party("Employee", "Petra Bauer")]
    rows = [row("Peter Bauer", withdrawal=100), row("Peter Bauer", deposit=100)]
    match_rows(rows, parties, fuzzy=True)
    assert token_set_ratio("Peter Bauer", "Petra Bauer") == pytest.approx(1000 / 11)
    assert matched(rows) == [("Employee", "Petra Bauer"), ("Customer", "Peter Bauer")]


def test_identifier_order_follows_the_direction_too() -> None:
    iban = "DE89370400440532013000"
    parties = [
        Party("Customer", "Acme Sales", ibans=[iban]),
        Party("Supplier", "Acme Purchasing", ibans=[iban]),
    ]
    rows = [row(iban=iban, deposit=5), row(iban=iban, withdrawal=5)]
    match_rows(rows, parties, fuzzy=False)
    assert matched(rows) == [("Customer", "Acme Sales"), ("Supplier", "Acme Purchasing")]


# --- ties --------------------------------------------------------------------


def test_a_tie_between_the_two_best_sets_nothing() -> None:
    parties = [
        Party("Supplier", "Müller GmbH"),
        Party("Supplier", "Müller AG"),
        Party("Customer", "Müller"),
    ]
    rows = [row("Müller")]  # both suppliers contain the name: 100 and 100
    assert match_rows(rows, parties, fuzzy=True) == 0
    assert matched(rows) == [("", "")]


def test_a_tie_below_100_sets_nothing_but_a_clear_best_does() -> None:
    parties = [Party("Customer", "Anna Schmitz"), Party("Customer", "Anna Schmidl")]
    assert token_set_ratio("Anna Schmidt", "Anna Schmitz") == token_set_ratio(
        "Anna Schmidt", "Anna Schmidl"
    )
    rows = [row("Anna Schmidt", deposit=1), row("Anna Schmitz", deposit=1)]
    assert match_rows(rows, parties, fuzzy=True) == 1
    assert matched(rows) == [("", ""), ("Customer", "Anna Schmitz")]


def test_same_name_spelled_twice_is_a_tie() -> None:
    parties = [Party("Supplier", "ACME Ltd"), Party("Supplier", "Acme Ltd.")]
    rows = [row("Acme Ltd")]
    assert match_rows(rows, parties, fuzzy=True) == 0


def test_a_tie_on_the_name_lets_the_description_decide() -> None:
    parties = [Party("Supplier", "Müller GmbH"), Party("Supplier", "Müller AG")]
    rows = [row("Müller", description="Rechnung 4711 Müller AG")]
    assert match_rows(rows, parties, fuzzy=True) == 1
    assert matched(rows) == [("Supplier", "Müller AG")]


# --- the index finds what comparing with every party finds ---------------------


def brute_force(parties: list[Party], text: str, order: tuple[str, ...]) -> str | None:
    for party_type in order:
        scores = sorted(
            (
                (token_set_ratio(text, p.name), p.name)
                for p in parties
                if p.party_type == party_type
            ),
            reverse=True,
        )
        if scores and scores[0][0] >= 80:
            if len(scores) > 1 and scores[1][0] == scores[0][0]:
                return None
            return scores[0][1]
    return None


def test_index_finds_what_comparing_every_party_finds_for_names_as_banks_print_them() -> None:
    """The index compares a text with few parties; it must still find the party a
    bank-printed name belongs to whenever comparing with every party would, and
    never set a party scoring below 80."""
    rng = random.Random(11)
    syllables = ["ba", "ke", "mi", "lo", "ru", "sa", "te", "vo", "ni", "da", "gu", "pe"]
    common = ["GmbH", "AG", "KG", "Bau", "Handel", "Service", "Anna", "Peter"]
    names: set[str] = set()
    while len(names) < 300:
        words = [
            "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).title()
            for _ in range(rng.randint(1, 2))
        ]
        words += rng.sample(common, rng.randint(0, 2))
        names.add(" ".join(words))
    parties = [Party(rng.choice(matching.PARTY_TYPES), name) for name in sorted(names)]
    matcher = Matcher(parties, fuzzy=True)
    checked = 0
    for party in rng.sample(parties, 150):
        text = party.name.upper() if rng.random() < 0.5 else party.name
        if rng.random() < 0.5:  # one letter dropped, added or changed in the longest word
            words = text.split()
            k = max(range(len(words)), key=lambda n: len(words[n]))
            cut = rng.randrange(len(words[k]))
            words[k] = words[k][:cut] + rng.choice(["", "x", "ex"[cut % 2 :]]) + words[k][cut + 1 :]
            text = " ".join(words)
        for deposit in (0, 1):
            order = matching.DEPOSIT_ORDER if deposit else matching.WITHDRAWAL_ORDER
            found = matcher.match(row(text, deposit=deposit, withdrawal=1 - deposit))
            if found:
                assert token_set_ratio(text, found[1]) >= 80, (text, found)
            if brute_force(parties, text, order) == party.name:
                checked += 1
                assert found == (party.party_type, party.name), text
    assert checked > 150


def test_no_parties_or_no_rows_match_nothing() -> None:
    assert match_rows([row("Acme")], [], fuzzy=True) == 0
    assert match_rows([], [Party("Customer", "Acme")], fuzzy=True) == 0

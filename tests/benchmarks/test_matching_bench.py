"""Party matching cost of a first sync (DESIGN 6): 100,000 transactions against
5,000 parties may add at most 2 s.

Run: python -m pytest tests/benchmarks/test_matching_bench.py -q -s --override-ini addopts=

The data is built to be realistic rather than kind: party names from a large
vocabulary with common words ("GmbH", frequent surnames and first names, in
several scripts), counterparty names that are party names as banks print
them (upper case, typos, extra words, other word order) or names of nobody
known sharing those common words, IBANs that match for some rows only, and a
unique description on every row, some naming a party.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

from kosma_tui.core.matching import match_rows
from kosma_tui.core.records import Party

LEGAL = [
    "GmbH",
    "GmbH & Co. KG",
    "AG",
    "KG",
    "e.K.",
    "Ltd",
    "Inc.",
    "S.A.",
    "B.V.",
    "OHG",
    "UG (haftungsbeschränkt)",
    "SE",
    "GbR",
    "Sp. z o.o.",
    "S.r.l.",
]
TRADES = [
    "Bau",
    "Logistik",
    "Handel",
    "Consulting",
    "Software",
    "Elektro",
    "Sanitär",
    "Transporte",
    "Immobilien",
    "Druckerei",
    "Bäckerei",
    "Metallbau",
    "Gastronomie",
    "Reinigung",
    "Steuerberatung",
    "Autohaus",
    "Verlag",
    "Apotheke",
    "Medien",
    "Technik",
    "Systems",
    "Solutions",
    "Services",
    "Trading",
    "Holding",
    "Partner",
    "Group",
    "Energie",
    "Garten",
    "Landschaftsbau",
    "Malerbetrieb",
    "Fliesen",
    "Dach",
    "Holz",
    "Glas",
]
FOREIGN = [
    "Σπύρος Παπαδόπουλος",
    "Иван Петров",
    "Ольга Смирнова",
    "Łukasz Wójcik",
    "Zoë Çelik",
    "José Muñoz",
    "Søren Ørsted",
    "Ἀθηνᾶ Ltd",
    "Ярослав Коваленко",
]
CONSONANTS = "bcdfghklmnprstvwz"
VOWELS = "aeiouäöü"


def pseudo_words(rng: random.Random, count: int, syllables: tuple[int, int]) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        word = "".join(
            rng.choice(CONSONANTS)
            + rng.choice(VOWELS)
            + (rng.choice(CONSONANTS) if rng.random() < 0.4 else "")
            for _ in range(rng.randint(*syllables))
        )
        words.add(word.capitalize())
    return sorted(words)


def zipf_choice(rng: random.Random, items: list[str], offset: int) -> str:
    # a few surnames and first names are frequent (the commonest about 1 % and
    # 4 %), as in real life
    weights = _WEIGHTS.get((len(items), offset))
    if weights is None:
        weights = _WEIGHTS[len(items), offset] = list(
            itertools.accumulate(1 / (rank + offset) for rank in range(len(items)))
        )
    return rng.choices(items, cum_weights=weights)[0]


_WEIGHTS: dict[tuple[int, int], list[float]] = {}


def make_names(
    rng: random.Random, count: int, surnames: list[str], firsts: list[str], taken: set[str]
) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        kind = rng.random()
        if kind < 0.55:
            parts = [zipf_choice(rng, surnames, 20)]
            if rng.random() < 0.6:
                parts.append(rng.choice(TRADES))
            if rng.random() < 0.2:
                parts.insert(0, zipf_choice(rng, surnames, 20) + " &")
            parts.append(rng.choice(LEGAL))
            name = " ".join(parts)
        elif kind < 0.95:
            name = f"{zipf_choice(rng, firsts, 5)} {zipf_choice(rng, surnames, 20)}"
        else:
            name = rng.choice(FOREIGN) + f" {rng.randint(1, 99)}"
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def iban(rng: random.Random) -> str:
    return f"DE{rng.randint(10, 99)}{rng.randint(10**17, 10**18 - 1)}"


def typo(rng: random.Random, name: str) -> str:
    words = name.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    word = words[i]
    if len(word) < 4:
        return name
    pos = rng.randrange(1, len(word) - 1)
    action = rng.random()
    if action < 0.33:
        word = word[:pos] + word[pos + 1 :]
    elif action < 0.66:
        word = word[:pos] + rng.choice("aeinrst") + word[pos:]
    else:
        word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
    words[i] = word
    return " ".join(words)


def bank_spelling(rng: random.Random, name: str) -> str:
    kind = rng.random()
    if kind < 0.3:
        return name.upper()
    if kind < 0.5:
        return typo(rng, name)
    if kind < 0.6:
        return " ".join(reversed(name.split()))
    if kind < 0.7:
        return name + " SAGT DANKE"
    return name


def make_data(
    seed: int = 5,
    parties: int = 5_000,
    rows: int = 100_000,
) -> tuple[list[Party], list[dict[str, Any]]]:
    rng = random.Random(seed)
    surnames = pseudo_words(rng, 4_000, (2, 3))
    firsts = pseudo_words(rng, 600, (2, 2))
    taken: set[str] = set()
    party_names = make_names(rng, parties, surnames, firsts, taken)
    types = ["Customer"] * 50 + ["Supplier"] * 40 + ["Employee"] * 10
    party_list = []
    for name in party_names:
        ibans = [iban(rng)] if rng.random() < 0.5 else []
        numbers = [str(rng.randint(10**8, 10**10))] if rng.random() < 0.1 else []
        party_list.append(Party(rng.choice(types), name, ibans, numbers))
    strangers = make_names(rng, 3_000, surnames, firsts, taken)
    # 6,000 distinct counterparties as the bank prints them, with their IBANs
    counterparties: list[tuple[str, str]] = []
    for _ in range(4_000):
        party = rng.choice(party_list)
        known = party.ibans[0] if party.ibans and rng.random() < 0.6 else iban(rng)
        counterparties.append((bank_spelling(rng, party.name), known))
    counterparties += [(name, iban(rng)) for name in strangers]
    result = []
    for n in range(rows):
        name, account = rng.choice(counterparties)
        deposit = rng.randint(1, 500_000) if rng.random() < 0.5 else 0
        description = f"RE-2024-{n:06d} Rechnung {rng.randint(1, 10**6)}"
        if rng.random() < 0.1:
            description += " " + rng.choice(party_list).name
        result.append(
            {
                "bank_account": "Giro (Demo)",
                "date": "2024-05-01",
                "deposit": deposit,
                "withdrawal": 0 if deposit else rng.randint(1, 500_000),
                "currency": "EUR",
                "transaction_id": f"T{n}",
                "reference_number": "",
                "description": description,
                "bank_party_name": name if rng.random() < 0.97 else "",
                "bank_party_iban": account if rng.random() < 0.9 else "",
                "bank_party_account_number": "",
                "status": "Settled",
                "party_type": "",
                "party": "",
                "erpnext_name": "",
                "raw": {},
            }
        )
    return party_list, result


def test_matching_100k_rows_against_5k_parties_adds_at_most_2s() -> None:
    parties, rows = make_data()
    exact_rows = [dict(r) for r in rows]
    started = time.perf_counter()
    exact = match_rows(exact_rows, parties, fuzzy=False)
    exact_seconds = time.perf_counter() - started
    # best of three fresh runs (a new Matcher each, as in a first sync): the
    # machine's other work only ever adds time
    runs = []
    for _ in range(3):
        fresh = [dict(r) for r in rows]
        started = time.perf_counter()
        cpu = time.process_time()
        matched = match_rows(fresh, parties, fuzzy=True)
        runs.append((time.perf_counter() - started, time.process_time() - cpu))
    seconds, cpu_seconds = min(runs)
    print(
        f"\nparty matching, 100,000 rows x 5,000 parties: fuzzy {seconds:.2f} s wall "
        f"({cpu_seconds:.2f} s CPU; runs {', '.join(f'{w:.2f}' for w, _ in runs)}), "
        f"{matched:,} matched; exact only {exact_seconds:.2f} s, {exact:,} matched"
    )
    assert exact < matched < len(rows)
    assert seconds <= 2.0

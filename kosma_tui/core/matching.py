"""Automatic party matching (DESIGN 2).

A Bank Transaction gets a party when its counterparty IBAN or account number
equals one of a Party's (spaces and case ignored). Otherwise, with fuzzy
matching on, the counterparty name and then the description are compared
with party names by token-set similarity (rapidfuzz's ``token_set_ratio``,
0-100, on text folded to lower case without accents or punctuation); a score
of at least 80 counts. Party types are searched in the order of the money's
direction (deposits: Customer, Supplier, Employee;
withdrawals: Supplier, Employee, Customer): the first type with a match
decides, its best score wins, and a tie between two parties sets nothing.

Identifiers that more than one party of the deciding type holds are
ambiguous too and fall through to the name. A name that ties falls through
to the description, which may tell the two parties apart.

Speed (100,000 transactions against 5,000 parties in under 2 s, see
tests/benchmarks) comes from never comparing every text with every party:
results are cached per text, and a text is compared only with the parties
found through its words, rarest first: parties having the word, or a word
one typo away (one letter added, dropped or changed, or two swapped; words
of four or more letters, no digits). Every party whose shared words make up
at least two thirds of the text, or of the party's name, is always among
them, and so is every score of 100; a name with a typo is found through its
rarest known word. What is not looked at are parties that share only common
words ("GmbH", a frequent first name) with a text whose distinctive word
differs by more than one typo: "Vokelo Handel" and "Voke Handel KG" score 81
but are not compared.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from kosma_tui.core import messages
from kosma_tui.core.errors import ConfigurationError
from kosma_tui.core.identifiers import compact
from kosma_tui.core.records import Party

PARTY_TYPES: tuple[str, ...] = ("Customer", "Supplier", "Employee")
DEPOSIT_ORDER: tuple[str, ...] = ("Customer", "Supplier", "Employee")
WITHDRAWAL_ORDER: tuple[str, ...] = ("Supplier", "Employee", "Customer")
THRESHOLD = 80.0
TEXT_FIELDS: tuple[str, ...] = ("bank_party_name", "description")

# Words at least this long (and without digits: invoice numbers are not
# typos of each other) also find parties one typo away.
_NEAR_MIN_LENGTH = 4
# Candidate lists this small are always taken, even when the prefix rule
# below would allow skipping them: they are cheap and help typo matches.
_CHEAP = 16

_NON_WORD = re.compile(r"[\W_]+")


# --- text ---------------------------------------------------------------


def tokens(text: str) -> frozenset[str]:
    """The words of a text: case folded, accents and punctuation removed."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return frozenset(_NON_WORD.sub(" ", text.casefold()).split())


def _joined_length(words: Collection[str]) -> int:
    """Length of the words joined by spaces."""
    return sum(map(len, words)) + len(words) - 1 if words else 0


def token_set_ratio(a: str, b: str) -> float:
    """Token-set similarity of two texts, 0-100: rapidfuzz's ``token_set_ratio`` (the
    fuzzywuzzy definition) on their words after folding case, accents and
    punctuation. ``_NameIndex.best`` computes the same for many parties at once,
    skipping the parties that cannot reach the threshold."""
    wa, wb = tokens(a), tokens(b)
    if not wa or not wb:
        return 0.0
    return fuzz.token_set_ratio(" ".join(sorted(wa)), " ".join(sorted(wb)), processor=None)


# --- the fuzzy index ----------------------------------------------------

NO_MATCH = -1
TIE = -2
_NONE: frozenset[int] = frozenset()


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _near_keys(word: str) -> set[str]:
    if len(word) < _NEAR_MIN_LENGTH or not word.isalpha():
        return {word}
    return _deletions(word) | {word}


class _NameIndex:
    """Party names as word sets, with the indexes that keep comparisons few."""

    def __init__(self, parties: list[Party]) -> None:
        self.parties = parties
        self.types = [p.party_type for p in parties]
        self.words = [tokens(p.name) for p in parties]
        self.lengths = [_joined_length(w) for w in self.words]
        self._bits: dict[str, int] = {}
        self.chars = [self.char_mask(w) for w in self.words]
        postings: dict[str, list[int]] = {}
        for i, words in enumerate(self.words):
            for word in words:
                postings.setdefault(word, []).append(i)
        # word -> vocabulary words sharing a one-deletion key with it
        near: dict[str, set[str]] = {}
        for word in postings:
            for key in _near_keys(word):
                near.setdefault(key, set()).add(word)
        # Each party also under its rarest words, enough that the rest is
        # less than two thirds of its name: any text containing two thirds
        # of the name (so every subset match) shares one of them.
        prefix: dict[str, list[int]] = {}
        for i, words in enumerate(self.words):
            ordered = sorted(words, key=lambda w: (len(postings[w]), w))
            rest = self.lengths[i]
            for word in ordered:
                if rest < 2 * self.lengths[i] / 3:
                    break
                prefix.setdefault(word, []).append(i)
                rest -= len(word) + 1
        # Tuples of plain values leave the garbage collector's lists, so the
        # index does not make its full collections (over every row) come sooner.
        self.postings = {word: tuple(ids) for word, ids in postings.items()}
        self.near = {key: tuple(words) for key, words in near.items()}
        self.prefix = {word: tuple(ids) for word, ids in prefix.items()}
        self._word_candidates: dict[str, frozenset[int]] = {}

    def char_mask(self, words: Iterable[str]) -> int:
        """Two bits per letter, set when it occurs once and twice or more: the
        bits that differ between two texts count letters that must be added or
        dropped, so the InDel distance of their differing words is at least
        that many (the letters of shared words cancel out)."""
        bits = self._bits
        mask = 0
        text = "".join(words)
        for ch in set(text):
            bit = bits.get(ch)
            if bit is None:
                bit = bits[ch] = 1 << (2 * len(bits))
            mask |= bit if text.count(ch) == 1 else bit | bit << 1
        return mask

    def _near_candidates(self, word: str) -> frozenset[int]:
        """Parties with this word or one a typo away (cached per word)."""
        found = self._word_candidates.get(word)
        if found is None:
            ids: set[int] = set()
            postings = self.postings
            for key in _near_keys(word):
                for other in self.near.get(key, ()):
                    ids.update(postings[other])
            found = self._word_candidates[word] = frozenset(ids) if ids else _NONE
        return found

    def candidates(self, words: frozenset[str], length: int) -> set[int]:
        """The parties worth comparing with a text of these words."""
        found: set[int] = set()
        prefix = self.prefix
        postings = self.postings
        per_word: list[tuple[int, str, Collection[int]]] = []
        rest = -1  # the known words' share of the text, as joined length
        for word in words:
            ids: Collection[int] | None = prefix.get(word)
            if ids:
                found.update(ids)
            # no typos in numbers: invoice 4711 is not invoice 4712
            ids = self._near_candidates(word) if word.isalpha() else postings.get(word)
            if ids:
                per_word.append((len(ids), word, ids))
                rest += len(word) + 1
        if not per_word:
            return found
        per_word.sort()
        # Rarest words first (always the rarest), until the words left make
        # up less than two thirds of the text: a party sharing two thirds of
        # the text shares a word taken. Words no party has, even with a
        # typo, cannot be shared, so a typo in a rare word still lets the
        # next rarest word search.
        for taken, (size, word, ids) in enumerate(per_word):
            if taken and rest < 2 * length / 3 and size > _CHEAP:
                break
            found.update(ids)
            rest -= len(word) + 1
        return found

    def best(self, words: frozenset[str], ids: Iterable[int]) -> int:
        """Among the parties ``ids``: the index of the best scoring at least
        THRESHOLD, TIE when two parties share the best score, else NO_MATCH."""
        all_words = self.words
        subsets = [i for i in ids if words <= all_words[i] or all_words[i] <= words]
        if subsets:  # a score of 100: only another 100 can tie with it
            return subsets[0] if len(subsets) == 1 else TIE
        # token_set_ratio for word sets, unrolled (fuzzy matching spends its time here)
        length = _joined_length(words)
        chars = self.char_mask(words)
        ordered = sorted(words)
        lengths = self.lengths
        all_chars = self.chars
        best_score = 0.0
        best = NO_MATCH
        for i in ids:
            b_len = lengths[i]
            total = length + b_len
            cutoff = (best_score or THRESHOLD) - 1e-9
            other = all_words[i]
            common = words & other
            if common:
                sect = sum(map(len, common)) + len(common) - 1
                ab = length - sect - 1
                ba = b_len - sect - 1
                # "sect" against "sect diff": only the diff and its space differ
                score = 100.0 - 100.0 * (1 + ab) / (sect + length)
                other_side = 100.0 - 100.0 * (1 + ba) / (sect + b_len)
                if other_side > score:
                    score = other_side
            else:
                ab = length
                ba = b_len
                score = 0.0
            # "sect diff_a" against "sect diff_b" is at least as far apart as
            # their lengths, and as the letters only one of them has
            least = (chars ^ all_chars[i]).bit_count()
            if abs(ab - ba) > least:
                least = abs(ab - ba)
            if 100.0 - 100.0 * least / total > (score if score > cutoff else cutoff):
                diff_a = " ".join([w for w in ordered if w not in common])
                diff_b = " ".join(sorted(other - common))
                distance = Indel.distance(diff_a, diff_b)
                similar = 100.0 - 100.0 * distance / total
                if similar > score:
                    score = similar
            if score < cutoff:
                continue
            if score > best_score:
                best_score = score
                best = i
            else:
                best = TIE
        return best


_ORDERS: tuple[tuple[str, ...], ...] = (DEPOSIT_ORDER, WITHDRAWAL_ORDER)
_UNKNOWN: Any = object()  # not worked out yet
_NO_ANSWERS: tuple[None, None] = (None, None)


class _Text:
    """What one text decides, per direction (0 deposit, 1 withdrawal), worked
    out when first asked: a (party_type, party), or None for nothing or a tie."""

    __slots__ = ("answers", "best", "by_type", "index", "words")

    def __init__(self, index: _NameIndex, words: frozenset[str]) -> None:
        self.index = index
        self.words = words
        self.by_type: dict[str, tuple[int, ...]] = {}
        found = index.candidates(words, _joined_length(words)) if words else ()
        if found:
            types = index.types
            for party_type in PARTY_TYPES:
                ids = tuple([i for i in found if types[i] == party_type])
                if ids:
                    self.by_type[party_type] = ids
        self.best: dict[str, int] = {}  # per party type, shared by both directions
        self.answers: tuple[Any, Any] = (_UNKNOWN, _UNKNOWN) if found else _NO_ANSWERS

    def decide(self, side: int) -> tuple[str, str] | None:
        """The first party type of the direction's order with a match decides."""
        found = None
        for party_type in _ORDERS[side]:
            i = self.best.get(party_type)
            if i is None:
                ids = self.by_type.get(party_type)
                i = self.best[party_type] = self.index.best(self.words, ids) if ids else NO_MATCH
            if i != NO_MATCH:
                if i >= 0:
                    found = party_type, self.index.parties[i].name
                break
        self.answers = (found, self.answers[1]) if side == 0 else (self.answers[0], found)
        return found


# --- matching -------------------------------------------------------------

_UNMATCHED = _Text(_NameIndex([]), frozenset())


class Matcher:
    """Matches transaction rows against a fixed list of parties."""

    def __init__(self, parties: Iterable[Party], fuzzy: bool) -> None:
        self.parties = [p for p in parties if p.party_type in PARTY_TYPES and p.name]
        self.fuzzy = fuzzy
        self._by_identifier: dict[str, list[int]] = {}
        for i, party in enumerate(self.parties):
            for value in [*party.ibans, *party.account_numbers]:
                key = compact(value)
                if key:
                    holders = self._by_identifier.setdefault(key, [])
                    if i not in holders:
                        holders.append(i)
        # (iban, account number) as the row has them -> answer per direction
        self._identifier_answers: dict[tuple[Any, Any], tuple[tuple[str, str] | None, ...]] = {}
        self._names = _NameIndex(self.parties) if fuzzy and self.parties else None
        self._by_text: dict[str, _Text] = {}
        self._by_words: dict[frozenset[str], _Text] = {}

    def assign(self, rows: list[dict[str, Any]]) -> int:
        """Set party_type and party in place on the rows without a party; the count set."""
        matched = 0
        for row in rows:
            if not row.get("party"):
                found = self.match(row)
                if found is not None:
                    row["party_type"], row["party"] = found
                    matched += 1
        return matched

    def match(self, row: Mapping[str, Any]) -> tuple[str, str] | None:
        """(party_type, party) for a row, or None."""
        side = 0 if (row.get("deposit") or 0) > 0 else 1
        if self._by_identifier:
            key = (row.get("bank_party_iban"), row.get("bank_party_account_number"))
            answers = self._identifier_answers.get(key)
            if answers is None:
                answers = self._identifier_answers[key] = self._match_identifiers(*key)
            if answers[side] is not None:
                return answers[side]
        if self._names is None:
            return None
        by_text = self._by_text
        for field in TEXT_FIELDS:
            text = row.get(field)
            if text:
                entry = by_text.get(text)
                if entry is None:
                    entry = self._text(text)
                found = entry.answers[side]
                if found is _UNKNOWN:
                    found = entry.decide(side)
                if found is not None:
                    return found
                # nothing, or a tie in the deciding type: the next text may tell
        return None

    def _match_identifiers(self, iban: Any, number: Any) -> tuple[tuple[str, str] | None, ...]:
        holders: list[int] = []
        for value in (iban, number):
            key = compact(value)
            for i in self._by_identifier.get(key, ()) if key else ():
                if i not in holders:
                    holders.append(i)
        if not holders:
            return _NO_ANSWERS
        answers: list[tuple[str, str] | None] = []
        for order in _ORDERS:
            found = None
            for party_type in order:
                of_type = [i for i in holders if self.parties[i].party_type == party_type]
                if of_type:
                    if len(of_type) == 1:  # else shared by several parties: ambiguous
                        found = party_type, self.parties[of_type[0]].name
                    break
            answers.append(found)
        return tuple(answers)

    def _text(self, text: Any) -> _Text:
        words = tokens(str(text))
        found = self._by_words.get(words)
        if found is None:
            assert self._names is not None
            found = _Text(self._names, words)
            if found.by_type:
                self._by_words[words] = found
            else:  # most descriptions: kept as one shared answer, not one object each
                found = _UNMATCHED
        self._by_text[text] = found
        return found


def match_rows(rows: list[dict[str, Any]], parties: Iterable[Party], *, fuzzy: bool) -> int:
    """Set party_type and party in place on the rows without a party; the count set."""
    if all(row.get("party") for row in rows):
        return 0
    matcher = Matcher(parties, fuzzy)
    return matcher.assign(rows) if matcher.parties else 0


def rematch_account(store: Any, account_name: str, *, fuzzy: bool | None = None) -> int:
    """Match again the stored transactions of an account that have no party
    (parties added after a sync); returns how many got one."""
    settings = store.settings()
    if not settings.enable_party_matching:
        raise ConfigurationError(
            "Party matching is turned off in Banking Settings, so nothing was matched.",
            "Turn it on with 'kosma-tui settings --party-matching' (or in the Banking "
            "Settings screen) and try again.",
        )
    account = store.account(account_name)
    if account is None:
        raise messages.no_bank_account(account_name, [a.name for a in store.accounts()])
    if fuzzy is None:
        fuzzy = settings.enable_fuzzy_matching
    with store.locked():
        matcher = Matcher(store.parties(), fuzzy)
        if not matcher.parties:
            return 0
        book = store.book(account)
        changes: dict[str, dict[str, str]] = {}
        for row in book.rows(raw=False):  # the provider objects are not needed
            if row.get("party") or not row.get("transaction_id"):
                continue
            found = matcher.match(row)
            if found is not None:
                changes[row["transaction_id"]] = {"party_type": found[0], "party": found[1]}
        if not changes:
            return 0
        book.update(changes)
    return len(changes)

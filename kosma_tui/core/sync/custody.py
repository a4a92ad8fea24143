"""Where a consent's live token is kept while a sync holds the consent.

Every consent call kills the token it was sent with, so the live token must
be on disk before it is used. Without a replay journal, each rotated token
is written to the store as it arrives. With one, the journal entry of the
next call already holds that token, encrypted and fsynced, before the call
leaves; and a crash between an answer and the next entry is cured by
replaying the call the journal still holds (PROTOCOL v1.1). So during a sync
the store is written once at the end ("settled"): a first sync of 100 pages
makes 100 journal fdatasyncs instead of 200 fsyncs of the store's meta file.

Journal entries are anchored to the token the store holds (``base``): an
entry whose anchor is not the stored token was settled and is stale.
A call whose outcome is unknown (a lost answer, a kill, a hang abandoned)
leaves everything as it is, so that the next sync replays it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kosma_tui.core.errors import StoreError
from kosma_tui.core.records import BankConsent

if TYPE_CHECKING:
    from kosma_tui.core.replay import ReplayJournal
    from kosma_tui.core.store import Store


class TokenCustody:
    def __init__(self, store: Store, journal: ReplayJournal | None) -> None:
        self.store = store
        self.journal = journal
        self._latest: dict[str, str] = {}  # consent name -> live token not yet in the store
        self._uncertain: set[str] = set()  # consent names with a call of unknown outcome

    def begin(self, consent: BankConsent) -> None:
        """The consent is now held: the journal's entries anchor to its stored token."""
        self._uncertain.discard(consent.name)
        if self.journal is not None:
            self.journal.anchor(consent.consent_id, consent.consent_token)

    def rotated(self, consent: BankConsent, token: str) -> None:
        """A call answered with a new token (the one sent is dead)."""
        if self.journal is None:
            self.persist(consent, token)
        else:
            self._latest[consent.name] = token  # the next call's journal entry keeps it

    def uncertain(self, consent: BankConsent) -> None:
        """A call whose outcome is unknown: leave store and journal for the replay."""
        self._uncertain.add(consent.name)

    def latest(self, consent: BankConsent) -> str:
        return self._latest.get(consent.name, consent.consent_token)

    def persist(self, consent: BankConsent, token: str) -> None:
        """Write the live token to the store now; the journal's entries are then stale."""
        try:
            self.store.update_consent_token(consent.name, token)
        except StoreError as exc:
            raise StoreError(
                f"{exc.message} The consent call is written down and is sent again, same "
                "token, by the next sync, which gets the same answer: the consent is not lost.",
                exc.remedy,
            ) from exc
        self._latest.pop(consent.name, None)
        if self.journal is not None:
            self.journal.anchor(consent.consent_id, token)
            self.journal.clear(consent.consent_id)

    def settle(self, consent: BankConsent) -> None:
        """No call is in flight: the live token goes to the store, the journal is done."""
        if consent.name in self._uncertain:
            return
        token = self._latest.pop(consent.name, None)
        if token is not None:
            self.persist(consent, token)
        elif self.journal is not None:
            self.journal.clear(consent.consent_id)

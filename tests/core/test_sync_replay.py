"""A lost answer, a crash or an unwritable store never costs the consent (PROTOCOL v1.1
replay, DESIGN 7): the client writes each consent call down before sending it, sends it
again with the same token and request_id when the answer is lost, and replays a call
left pending before anything else."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from proxy_support import PortalProxy
from sync_support import client_for, link, reference_ids

from kosma_tui.core.errors import StoreError
from kosma_tui.core.replay import ReplayJournal
from kosma_tui.core.sync import SyncEngine

TODAY = date.today()
CONSENT_CALLS = ("fetch_consent_accounts", "fetch_consent_balances", "fetch_consent_transactions")


@pytest.fixture
def portal(tmp_path: Path, home: Path) -> Iterator[Any]:
    from kosma_tui.sandbox import start_portal

    with start_portal(tmp_path / "portal" / "state.json", today=TODAY) as running:
        yield running


@pytest.fixture
def store(home: Path) -> Any:
    from kosma_tui.core.store import Store

    return Store.open()


def journal(store: Any) -> ReplayJournal:
    return ReplayJournal.of(store)


async def linked(store: Any, url: str, username: str = "many-transactions5000") -> Any:
    async with client_for(url) as client:
        return await link(store, client, username, start=TODAY - timedelta(days=200))


async def full_ids(store: Any, url: str) -> set[str]:
    """Every id a complete sync stores, from an uninterrupted sync in another home."""
    from kosma_tui.core.paths import resolve_paths
    from kosma_tui.core.store import Store

    other = Store.open(resolve_paths(Path(store.paths.data_dir).parent.parent / "reference"))
    return await reference_ids(other, url, "many-transactions5000", TODAY - timedelta(days=200))


def consent_calls(proxy: PortalProxy) -> list[tuple[int, str, dict[str, Any]]]:
    return [r for r in proxy.requests if r[1] in CONSENT_CALLS]


async def test_lost_answers_are_asked_for_again_and_the_sync_completes(
    store: Any, portal: Any
) -> None:
    consent = await linked(store, portal.url)
    seen: dict[str, int] = {}

    def drop(number: int, method: str, body: dict[str, Any]) -> bool:
        if method not in CONSENT_CALLS:
            return False
        seen[method] = seen.get(method, 0) + 1
        # the balances answer and three pages' answers are lost, once each
        first_time = body.get("request_id") not in dropped_ids
        lose = first_time and (
            method == "fetch_consent_balances"
            or (method == "fetch_consent_transactions" and seen[method] in (1, 3, 6))
        )
        if lose:
            dropped_ids.add(body["request_id"])
        return lose

    dropped_ids: set[str] = set()
    proxy = PortalProxy(portal.url, drop=drop)
    try:
        async with client_for(proxy.url, journal=journal(store), backoff=0.01) as client:
            account = store.accounts()[0]
            result = await SyncEngine(store, client, page_size=100).sync_account(account.name)
    finally:
        proxy.close()
    assert result.ok, result.error
    assert len(proxy.dropped) == 4 and result.pages > 6
    calls = consent_calls(proxy)
    for number in proxy.dropped:  # each lost answer was followed by the very same call
        lost = next(c for c in calls if c[0] == number)
        again = next(c for c in calls if c[0] > number)
        assert again[2] == lost[2]
    ids = store.book(account).ids()
    assert store.book(account).count() == len(ids)
    assert set(ids) == await full_ids(store, portal.url)
    assert result.new == len(ids)
    assert journal(store).pending(consent.consent_id) is None
    # the stored token works
    async with client_for(portal.url, journal=journal(store)) as client:
        assert (await SyncEngine(store, client).sync_account(account.name)).ok


async def test_without_request_id_a_lost_answer_costs_the_consent(store: Any, portal: Any) -> None:
    """What the replay cures: the same retry without request_id is a stale token."""
    await linked(store, portal.url, "embedded")

    lost: list[int] = []

    def drop(number: int, method: str, body: dict[str, Any]) -> bool:
        if method == "fetch_consent_balances" and not lost:
            lost.append(number)
            return True
        return False

    proxy = PortalProxy(portal.url, drop=drop)
    try:
        async with client_for(proxy.url, backoff=0.01) as client:
            original = client._body
            client._body = lambda fields: original(  # type: ignore[method-assign]
                {k: v for k, v in fields.items() if k != "request_id"}
            )
            result = await SyncEngine(store, client).sync_account(store.accounts()[0].name)
    finally:
        proxy.close()
    assert result.error is not None and result.error.code == "CONSENT.INVALID_TOKEN"


async def test_a_call_left_pending_is_replayed_first_and_its_page_stored(
    store: Any, portal: Any
) -> None:
    consent = await linked(store, portal.url)
    account = store.accounts()[0]

    def drop(number: int, method: str, body: dict[str, Any]) -> bool:
        return method == "fetch_consent_transactions" and body.get("offset") is not None

    proxy = PortalProxy(portal.url, drop=drop)
    try:  # no retries: the answer of the second page is lost and the run gives up
        async with client_for(proxy.url, journal=journal(store), retries=0) as client:
            result = await SyncEngine(store, client).sync_account(account.name)
    finally:
        proxy.close()
    assert result.error is not None and result.error.code == "UNREACHABLE"
    pending = journal(store).pending(consent.consent_id)
    assert pending is not None and pending.method == "fetch_consent_transactions"
    assert pending.belongs_to(store.consent(consent.name).consent_token)
    assert journal(store).folder.stat().st_mode & 0o077 == 0
    raw = next(journal(store).folder.iterdir()).read_bytes()
    assert pending.consent_token.encode() not in raw  # encrypted like every token
    stored_before = store.book(account).count()

    async with client_for(portal.url, journal=journal(store)) as client:
        engine = SyncEngine(store, client)
        recovered = await engine.recover(store.consent(consent.name))
        assert journal(store).pending(consent.consent_id) is None
        assert recovered.consent_token != pending.consent_token
        assert store.book(account).count() > stored_before  # the replayed page is kept
        result = await engine.sync_account(account.name)
    assert result.ok, result.error
    assert set(store.book(account).ids()) == await full_ids(store, portal.url)


async def test_a_journal_entry_whose_outcome_was_stored_is_discarded(
    store: Any, portal: Any
) -> None:
    consent = await linked(store, portal.url, "embedded")
    async with client_for(portal.url, journal=journal(store)) as client:
        rotated = await client.fetch_consent_accounts(consent.consent_id, consent.consent_token)
        store.update_consent_token(consent.name, rotated.consent_token)  # then "killed"
        assert journal(store).pending(consent.consent_id) is not None
        result = await SyncEngine(store, client).sync_account(store.accounts()[0].name)
    assert result.ok, result.error
    assert journal(store).pending(consent.consent_id) is None


async def test_an_unwritable_journal_sends_nothing(
    store: Any, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk when the call is written down: nothing leaves, the consent is intact."""
    await linked(store, portal.url, "embedded")

    def disk_full(fd: int) -> None:  # only the journal uses fdatasync
        raise OSError(errno.ENOSPC, "No space left on device")

    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", disk_full)
    proxy = PortalProxy(portal.url)
    try:
        async with client_for(proxy.url, journal=journal(store)) as client:
            result = await SyncEngine(store, client).sync_account(store.accounts()[0].name)
    finally:
        proxy.close()
    assert result.status == "failed" and result.error.code == "STORE"
    assert "not sent" in result.error.message
    assert consent_calls(proxy) == []
    monkeypatch.setattr(os, "fdatasync", real)
    async with client_for(portal.url, journal=journal(store)) as client:
        assert (await SyncEngine(store, client).sync_account(store.accounts()[0].name)).ok


async def test_a_store_that_cannot_keep_the_new_token_does_not_lose_the_consent(
    store: Any, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk when the rotated token is saved: the next sync replays the call."""
    consent = await linked(store, portal.url, "embedded")
    from kosma_tui.core.store import repository

    real = repository.Store.update_consent_token

    def disk_full(self: Any, name: str, token: str) -> None:
        raise StoreError(
            f"Could not write the store file {self.meta_file} (No space left "
            "on device); the previous version was kept.",
            "Free some space.",
        )

    monkeypatch.setattr(repository.Store, "update_consent_token", disk_full)
    async with client_for(portal.url, journal=journal(store)) as client:
        result = await SyncEngine(store, client).sync_account(store.accounts()[0].name)
    assert result.status == "failed" and result.error.code == "STORE"
    assert "consent is not lost" in result.error.message
    assert journal(store).pending(consent.consent_id) is not None

    monkeypatch.setattr(repository.Store, "update_consent_token", real)
    async with client_for(portal.url, journal=journal(store)) as client:
        result = await SyncEngine(store, client).sync_account(store.accounts()[0].name)
    assert result.ok, result.error
    assert journal(store).pending(consent.consent_id) is None
    assert os.listdir(journal(store).folder) == []


async def test_revoking_after_a_cut_call_withdraws_the_consent_at_the_portal(
    store: Any, portal: Any
) -> None:
    """The stored token may be the consumed one: revoke replays the pending call first,
    instead of taking CONSENT.INVALID_TOKEN for "already ended" and leaving it live."""
    from kosma_tui.core import admin

    consent = await linked(store, portal.url)
    account = store.accounts()[0]

    def drop(number: int, method: str, body: dict[str, Any]) -> bool:
        return method == "fetch_consent_transactions"

    proxy = PortalProxy(portal.url, drop=drop)
    try:
        async with client_for(proxy.url, journal=journal(store), retries=0) as client:
            result = await SyncEngine(store, client).sync_account(account.name)
    finally:
        proxy.close()
    assert result.error is not None and result.error.code == "UNREACHABLE"
    async with client_for(portal.url, journal=journal(store)) as client:
        revoked = await admin.revoke_consent(store, client, store.consent(consent.name))
    assert revoked.portal_note == "" and store.consents() == []
    import orjson

    state = orjson.loads(Path(portal.state_path).read_bytes())
    assert state["consents"][consent.consent_id]["revoked"] is True

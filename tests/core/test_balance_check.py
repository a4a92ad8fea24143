# ruff: noqa: F811 - the engine tests' fixtures are imported by name and requested
"""Balance continuity and coverage in the sync engine, against the real Demo Bank portal
and a real store: the incremental settled total, and what a damaged book shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sync_support import link

# the engine tests' fixtures: the portal moved in time, a real store, an attended client
from test_sync_engine import TODAY, Portal, client, first_account, portal, store  # noqa: F401

from kosma_tui.core.sync import SyncEngine, balance_check, coverage


def full_total(where: Any, account: Any) -> int:
    return balance_check.settled_total(where.book(account).rows(raw=False))


async def sync_all(where: Any, through: Any) -> None:
    engine = SyncEngine(where, through)
    for account in where.accounts():
        result = await engine.sync_account(account.name, push=False)
        assert result.ok, result.error


async def test_the_incremental_total_is_the_sum_of_the_rows(
    store: Any,
    client: Any,
    portal: Portal,
) -> None:
    await link(store, client, "embedded", start=TODAY - timedelta(days=20))
    for days in (0, 2, 3, 7):  # pending ones settle, new days arrive
        portal.move(days)
        await sync_all(store, client)
        for account in store.accounts():
            assert account.settled["total"] == full_total(store, account)
            assert account.balance_check["status"] == "ok"
            assert account.balance_check["reported"] == account.balance.booked
            assert account.settled["fingerprint"] == balance_check.fingerprint(
                store.book(account).ids()
            )
    account = first_account(store)
    assert coverage.as_json(account.coverage) == {
        "from": (TODAY - timedelta(days=20)).isoformat(),
        "to": (TODAY + timedelta(days=7)).isoformat(),
        "gaps": [],
    }


async def test_a_booking_lost_or_doubled_behind_the_engine_shows_as_a_mismatch(
    store: Any,
    client: Any,
    portal: Portal,
) -> None:
    await link(store, client, "embedded", start=TODAY - timedelta(days=20))
    await sync_all(store, client)
    account = first_account(store)
    book = store.book(account)
    settled = next(r for r in book.rows(raw=False) if r["status"] == "Settled")
    lost = settled["deposit"] - settled["withdrawal"]
    book.update({settled["transaction_id"]: {"status": "Cancelled"}})  # a "lost" booking
    duplicate = dict(book.get(settled["transaction_id"]) or {})
    duplicate.update(transaction_id="X-duplicate", status="Settled")
    book.append([duplicate])  # and a stored duplicate of it: the two cancel out
    await sync_all(store, client)
    account = store.account(account.name)
    assert account.balance_check["status"] == "ok"

    other = next(
        r
        for r in book.rows(raw=False)
        if r["status"] == "Settled" and r["transaction_id"] != "X-duplicate"
    )
    book.update({other["transaction_id"]: {"status": "Cancelled"}})
    portal.move(1)
    await sync_all(store, client)
    account = store.account(account.name)
    check = account.balance_check
    assert check["status"] == "mismatch"
    assert check["difference"] == other["deposit"] - other["withdrawal"]
    assert account.settled["total"] == full_total(store, account)
    assert lost  # the first change moved the total, and was seen

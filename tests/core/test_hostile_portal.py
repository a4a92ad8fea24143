"""A misbehaving portal ends a sync in bounded time, with one sentence, keeping the consent.

Each test links for real through the hostile proxy (passing everything
through), turns a mode on, syncs, and then syncs again with the mode off:
what was stored is consistent and the consent still works.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hostile_portal import HostilePortal
from sync_support import client_for, link

from kosma_tui.core.sync import SyncEngine

TODAY = date.today()
FAST = {"retries": 1, "backoff": 0.001}


@pytest.fixture
def hostile(demo_portal: Any) -> Iterator[HostilePortal]:
    with HostilePortal(str(demo_portal.url)) as proxy:
        yield proxy


@pytest.fixture
def store(home: Any) -> Any:
    from kosma_tui.core.store import Store

    return Store.open()


async def linked(store: Any, hostile: HostilePortal, **options: Any) -> tuple[Any, Any]:
    """A Demo Bank account of 10 transactions a day for 31 days, linked through the proxy."""
    client = client_for(hostile.url, **{**FAST, **options})
    await link(store, client, "many-transactions10000", start=TODAY - timedelta(days=30))
    return client, store.accounts()[0]


async def assert_recovers(store: Any, hostile: HostilePortal, account: Any, **options: Any) -> None:
    """With the portal behaving again the same consent syncs everything, nothing twice."""
    hostile.mode = ""
    async with client_for(hostile.url, **FAST, **options) as client:
        again = await SyncEngine(store, client, page_size=50).sync_account(account.name)
        # it went on from the last day read whole (DESIGN 2), not from the start
        assert again.status == "ok", again.error
        assert again.fetched <= 310
        ids = [row["transaction_id"] for row in store.book(account).rows()]
        assert len(ids) == len(set(ids))
        assert store.account(account.name).last_integration_date == TODAY.isoformat()
        # and nothing is missing: reading the whole range again finds nothing new
        store.update_account(account.name, last_integration_date="")
        whole = await SyncEngine(store, client, page_size=50).sync_account(account.name)
    assert whole.status == "ok" and whole.fetched == 310 and whole.new == 0, whole.error


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("page-loop", "points back to offset"),
        ("page-loop-fresh", "3 pages in a row brought nothing new"),
    ],
)
async def test_a_page_loop_ends_the_sync_and_keeps_the_consent(
    store: Any, hostile: HostilePortal, mode: str, why: str
) -> None:
    client, account = await linked(store, hostile)
    hostile.mode = mode
    started = time.monotonic()
    async with client:
        result = await SyncEngine(store, client, page_size=50).sync_account(account.name)
    assert time.monotonic() - started < 10
    assert result.status == "failed"
    assert result.error.code == "PROTOCOL.PAGE_LOOP"
    assert why in result.error.message and "what it read is kept" in result.error.message
    assert hostile.count("fetch_consent_transactions") <= 6
    kept = store.book(account).count()
    assert 0 < kept < 310  # the pages read before the loop are stored
    assert store.account(account.name).last_sync.outcome == "failed"
    await assert_recovers(store, hostile, account)


async def test_a_trickling_answer_meets_the_deadline(store: Any, hostile: HostilePortal) -> None:
    client, account = await linked(store, hostile, deadline=1.0, timeout=30)
    hostile.mode, hostile.trickle_seconds = "trickle", 0.2  # a byte well within the read timeout
    started = time.monotonic()
    async with client:
        result = await SyncEngine(store, client).sync_account(account.name)
    elapsed = time.monotonic() - started
    assert result.status == "failed"
    assert result.error.message == (
        "The banking portal could not be reached (no complete answer within 1 s)."
    )
    assert elapsed < 4  # two attempts of one second each
    assert hostile.count("fetch_consent_transactions") == 2
    assert store.book(account).count() == 0
    await assert_recovers(store, hostile, account)


@pytest.mark.parametrize("declare", [True, False])
async def test_an_oversize_answer_is_refused_unread(
    store: Any, hostile: HostilePortal, declare: bool
) -> None:
    client, account = await linked(store, hostile, max_answer_bytes=2**20)
    hostile.mode, hostile.declare = "oversize", declare
    started = time.monotonic()
    async with client:
        result = await SyncEngine(store, client).sync_account(account.name)
    assert time.monotonic() - started < 5
    assert result.status == "failed"
    assert result.error.code == "PROTOCOL"
    assert "fetch_consent_transactions answered more than 1 MB; it was not read" in (
        result.error.message
    )
    assert hostile.count("fetch_consent_transactions") == 1  # never retried
    # the client stopped reading at the cap: most of the 75 MB never left the proxy
    assert hostile.sent_bytes < 20 * 2**20
    assert store.book(account).count() == 0
    await assert_recovers(store, hostile, account)


@pytest.mark.parametrize("bad", ["2026-11-31", "2026-11-00", "XXXXXXXXXX"])
async def test_an_impossible_bank_date_is_refused_by_name(
    store: Any, hostile: HostilePortal, bad: str
) -> None:
    client, account = await linked(store, hostile)
    hostile.mode, hostile.bad_date = "impossible-dates", bad
    async with client:
        result = await SyncEngine(store, client, page_size=50).sync_account(account.name)
    assert result.status == "failed"
    assert result.error.code == "PROTOCOL"
    assert f"has value_date '{bad}', which is not a calendar date" in result.error.message
    assert "transaction T" in result.error.message  # the row is named by its id
    assert all(row["date"] != bad for row in store.book(account).rows())
    assert store.account(account.name).last_integration_date == ""  # not moved
    await assert_recovers(store, hostile, account)


async def test_value_dates_before_booking_never_put_the_lid_before_the_consent_start(
    store: Any, hostile: HostilePortal
) -> None:
    client = client_for(hostile.url, **FAST)
    consent = await link(store, client, "many-transactions10000")  # linked today, from today
    account = store.accounts()[0]
    hostile.mode = "value-before-booking"
    engine = SyncEngine(store, client, page_size=50)
    async with client:
        first = await engine.sync_account(account.name)
        assert first.status == "ok", first.error
        rows = store.book(account).rows()
        assert rows and min(row["date"] for row in rows) < consent.consent_start  # value dates
        lid = store.account(account.name).last_integration_date
        assert lid == TODAY.isoformat() >= consent.consent_start  # the booking date
        second = await engine.sync_account(account.name)
    assert second.status == "ok", second.error  # not refused with the consent-start conflict


@pytest.mark.parametrize("mode", ["lost-reply", "slow-reply"])
async def test_linking_after_a_lost_reply_reads_the_current_step(
    store: Any, hostile: HostilePortal, mode: str
) -> None:
    from kosma_tui.core import clock
    from kosma_tui.core.forms import FINISHED, PROCESSING
    from kosma_tui.core.linking import LinkFlow, StartDate

    hostile.mode, hostile.methods = mode, {"submit_flow_step"}
    hostile.lose_forms, hostile.slow_seconds = {"login", "otp"}, 2.0
    async with client_for(hostile.url, retries=2, backoff=0.001, deadline=1.0) as client:
        flow = LinkFlow(store, client, "Demo Company", StartDate(clock.today(), None))
        step = await flow.start()
        for values in ({"country_code": "DE"}, {"bank_code": "88888888"}, {"interface": "PSD2"}):
            step = await flow.submit(values)
        assert step.form.form_identifier == "login"
        step = await flow.submit({"LOGINNAME": "embedded", "USER_PASSWORD": "12345"})
        assert step.form.form_identifier == "otp" and step.error is None  # not "Fix the field"
        step = await flow.submit({"TAN": "12345"})
        while step.state == PROCESSING:
            step = await flow.poll()
        assert step.state == FINISHED
        summary = flow.save(await flow.fetch_result())
    assert summary.added and store.consents()
    assert hostile.count("submit_flow_step") == 5  # each form sent once, none again
    assert hostile.count("get_flow_step") >= 3  # the first step, then once per lost answer

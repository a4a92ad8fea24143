"""The sync rules of DESIGN 2 against the real Demo Bank portal and a real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sync_support import client_for, link

from kosma_tui.core import clock
from kosma_tui.core.records import Company, Party
from kosma_tui.core.sync import (
    ConsentStartConflict,
    SyncEngine,
    SyncProgress,
    refusal,
    start_date,
)

TODAY = date.today()


class Portal:
    """The Demo Bank portal on loopback, movable in time."""

    def __init__(self, state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from kosma_tui.sandbox import start_portal

        self.monkeypatch = monkeypatch
        self.running = start_portal(state, today=TODAY)
        self.move(0)

    def move(self, days: int) -> None:
        """Portal and app both live ``days`` after the real today."""
        day = TODAY + timedelta(days=days)
        self.running.today = day
        self.monkeypatch.setenv(
            "KOSMA_TUI_NOW",
            datetime.now()
            .replace(year=day.year, month=day.month, day=day.day)
            .astimezone()
            .isoformat(),
        )

    @property
    def url(self) -> str:
        return str(self.running.url)

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture
def portal(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    running = Portal(tmp_path / "portal" / "state.json", monkeypatch)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def store(home: Path) -> Any:
    from kosma_tui.core.store import Store

    return Store.open()


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[Any]:
    async with client_for(portal.url) as c:
        yield c


def first_account(store: Any, bank_company: tuple[str, str] | None = None) -> Any:
    accounts = sorted(store.accounts(), key=lambda a: a.name)
    if bank_company:
        accounts = [a for a in accounts if (a.bank, a.company) == bank_company]
    return accounts[0]


# -- the start point ---------------------------------------------------------


def test_start_date_rule() -> None:
    assert start_date("2025-01-10", "", 7) == date(2025, 1, 10)
    assert start_date("2025-01-10", "2025-03-01", 7) == date(2025, 2, 22)
    assert start_date("2025-01-10", "2025-01-12", 7) == date(2025, 1, 10)
    assert start_date("2025-01-10", "2025-03-01", 0) == date(2025, 3, 1)


async def test_sync_reads_from_consent_start_then_from_lid_minus_lookback(
    store: Any, client: Any
) -> None:
    # many-transactions10000: exactly 10 a day, so "fetched" tells the start date
    await link(store, client, "many-transactions10000", start=TODAY - timedelta(days=30))
    account = first_account(store)
    engine = SyncEngine(store, client)
    first = await engine.sync_account(account.name)
    assert first.status == "ok", first.error
    assert first.fetched == 10 * 31
    store.update_account(
        account.name, last_integration_date=(TODAY - timedelta(days=5)).isoformat()
    )
    again = await engine.sync_account(account.name)
    assert again.fetched == 10 * (5 + 7 + 1)  # lookback_days 7
    assert again.new == 0
    settings = store.settings()
    settings.lookback_days = 60
    store.save_settings(settings)
    store.update_account(
        account.name, last_integration_date=(TODAY - timedelta(days=5)).isoformat()
    )
    capped = await engine.sync_account(account.name)
    assert capped.fetched == 10 * 31  # never before the consent start


# -- first sync, second sync, Last Integration Date, balances, Sync Run --------------


async def test_first_sync_stores_what_is_new_and_a_second_adds_nothing(
    store: Any, client: Any
) -> None:
    consent = await link(store, client, "embedded", start=TODAY - timedelta(days=60))
    account = first_account(store)
    seen: list[SyncProgress] = []
    engine = SyncEngine(store, client, on_progress=seen.append)
    token_before = store.consent(consent.name).consent_token

    first = await engine.sync_account(account.name)
    assert first.status == "ok", first.error
    assert first.new > 0
    assert first.fetched == first.new + first.skipped
    book = store.book(account)
    assert book.count() == first.new
    assert first.skipped == first.skipped_pending + first.skipped_cancelled
    assert all(row["transaction_id"] for row in book.rows())
    assert {row["status"] for row in book.rows()} <= {"Pending", "Settled"}

    stored = store.account(account.name)
    newest = max(row["date"] for row in book.rows())
    assert stored.last_integration_date == newest == first.last_integration_date
    assert stored.balance.currency == "EUR"
    assert isinstance(stored.balance.booked, int)
    assert stored.balance.date
    assert stored.last_sync.outcome == "ok"
    assert stored.last_sync.new == first.new
    runs = store.sync_runs(account.name)
    assert runs and runs[0].status == "ok" and runs[0].new == first.new
    assert seen[0].phase == "balances"
    assert seen[-1].phase == "done" and seen[-1].fetched == first.fetched
    assert store.consent(consent.name).consent_token != token_before

    second = await engine.sync_account(account.name)
    assert second.status == "ok", second.error
    assert (second.new, second.updated) == (0, 0)
    assert book.count() == first.new
    assert store.account(account.name).last_integration_date == newest


async def test_pending_without_id_is_skipped_and_every_row_has_an_id(
    store: Any, client: Any
) -> None:
    await link(store, client, "many-transactions100000", start=TODAY - timedelta(days=9))
    account = first_account(store)
    result = await SyncEngine(store, client).sync_account(account.name)
    assert result.status == "ok", result.error
    assert result.fetched == 1000
    assert result.skipped_pending > 0
    ids = store.book(account).ids()
    assert "" not in ids
    assert len(ids) == store.book(account).count() == result.new
    assert result.new + result.skipped_pending + result.skipped_cancelled == 1000


async def test_time_travel_new_days_settle_pending_and_cancel(store: Any, portal: Portal) -> None:
    async with client_for(portal.url) as client:
        await link(store, client, "many-transactions10000", start=TODAY - timedelta(days=20))
        account = first_account(store)
        first = await SyncEngine(store, client).sync_account(account.name)
    book = store.book(account)
    pending = {tid for tid, status in book.ids().items() if status == "Pending"}
    assert first.status == "ok" and pending

    portal.move(3)
    async with client_for(portal.url) as client:
        later = await SyncEngine(store, client).sync_account(account.name)
    assert later.status == "ok", later.error
    ids = book.ids()
    assert later.new >= 30 - 20  # three new days of 10, minus pending ones without id
    assert later.updated == len(pending)
    assert all(ids[tid] in ("Settled", "Cancelled") for tid in pending)
    assert "Cancelled" in {ids[tid] for tid in pending} or later.updated == len(pending)
    assert len(ids) == book.count()
    assert (
        store.account(account.name).last_integration_date == (TODAY + timedelta(days=3)).isoformat()
    )


async def test_a_stored_pending_that_is_cancelled_becomes_cancelled_never_new(
    store: Any, portal: Portal
) -> None:
    # 100 a day: some of the two pending days end CANCELED once they are old
    async with client_for(portal.url) as client:
        await link(store, client, "many-transactions100000", start=TODAY - timedelta(days=2))
        account = first_account(store)
        await SyncEngine(store, client).sync_account(account.name)
    book = store.book(account)
    pending = {tid for tid, status in book.ids().items() if status == "Pending"}
    rows_before = book.count()
    portal.move(3)
    async with client_for(portal.url) as client:
        later = await SyncEngine(store, client).sync_account(account.name)
    ids = book.ids()
    cancelled = {tid for tid in pending if ids[tid] == "Cancelled"}
    assert cancelled, "the Demo Bank cancels some transactions after they were pending"
    assert book.count() == rows_before + later.new
    rows = {row["transaction_id"]: row for row in book.rows()}
    assert all(rows[tid]["status"] == "Cancelled" for tid in cancelled)
    assert later.skipped_cancelled > 0  # cancelled before we ever saw them: not stored


async def test_expiry_after_90_days(store: Any, portal: Portal) -> None:
    async with client_for(portal.url) as client:
        consent = await link(store, client, "embedded")
    assert clock.days_left(datetime.fromisoformat(consent.consent_expiry)) == 90
    account = first_account(store)
    portal.move(89)
    async with client_for(portal.url) as client:
        assert (await SyncEngine(store, client).sync_account(account.name)).status == "ok"
    portal.move(91)
    async with client_for(portal.url) as client:
        result = await SyncEngine(store, client).sync_account(account.name)
    assert result.status == "refused"
    assert result.error.code == "CONSENT_EXPIRED"
    assert "expired" in result.error.message and "Link Bank and Accounts" in result.error.remedy
    assert store.account(account.name).last_sync.outcome == "refused"


# -- refusals ----------------------------------------------------------------------


async def test_refused_within_the_hour_before_expiry(
    store: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    consent = await link(store, client)
    expiry = datetime.fromisoformat(consent.consent_expiry)
    monkeypatch.setenv("KOSMA_TUI_NOW", (expiry - timedelta(minutes=50)).isoformat())
    result = await SyncEngine(store, client).sync_account(first_account(store).name)
    assert (result.status, result.error.code) == ("refused", "CONSENT_EXPIRING")
    assert "within the hour" in result.error.message
    monkeypatch.setenv("KOSMA_TUI_NOW", (expiry - timedelta(minutes=70)).isoformat())
    assert refusal(store, first_account(store)) is None


async def test_refused_when_settings_are_disabled(store: Any, client: Any) -> None:
    await link(store, client)
    settings = store.settings()
    settings.admin_url, settings.enabled = "https://portal.example.com", False
    store.save_settings(settings)
    result = await SyncEngine(store, client).sync_account(first_account(store).name)
    assert (result.status, result.error.code) == ("refused", "SETTINGS_DISABLED")
    assert result.fetched == 0


async def test_refused_without_consent(store: Any, client: Any) -> None:
    consent = await link(store, client)
    store.delete_consent(consent.name)
    result = await SyncEngine(store, client).sync_account(first_account(store).name)
    assert (result.status, result.error.code) == ("refused", "NO_CONSENT")


async def test_lid_before_consent_start_explains_both_remedies(store: Any, client: Any) -> None:
    consent = await link(store, client, start=TODAY - timedelta(days=10))
    account = first_account(store)
    lid = (TODAY - timedelta(days=40)).isoformat()
    store.update_account(account.name, last_integration_date=lid)
    error = refusal(store, store.account(account.name))
    assert isinstance(error, ConsentStartConflict)
    assert (error.last_integration_date, error.consent_start) == (lid, consent.consent_start)
    result = await SyncEngine(store, client).sync_account(account.name)
    assert (result.status, result.error.code) == ("refused", "CONSENT_START_CONFLICT")
    text = result.error.message + " " + result.error.remedy
    assert lid in text and consent.consent_start in text
    assert "set-last-integration-date" in text and "Link Bank and Accounts" in text
    assert store.book(account).count() == 0

    from kosma_tui.core.sync import set_last_integration_date

    set_last_integration_date(store, account.name, date.fromisoformat(consent.consent_start))
    assert (await SyncEngine(store, client).sync_account(account.name)).status == "ok"


# -- protocol errors reach the user as their sentence ----------------------------


async def test_refused_date_range_is_its_sentence_and_the_error_token_is_kept(
    store: Any, client: Any
) -> None:
    consent = await link(store, client, "invalid-transactions-timerange")
    account = first_account(store)
    result = await SyncEngine(store, client).sync_account(account.name)
    assert result.status == "failed"
    assert result.error.code.startswith("NOT_SUPPORTED.TRANSACTIONS_DATE_RANGE")
    assert result.error.message.startswith("The bank refuses transactions for that date range")
    # a remedy the admin can act on (the range is not chosen by hand when syncing)
    assert "move the Last Integration Date later" in result.error.remedy
    # the error response carried the live token: the consent still works
    stored = store.consent(consent.name)
    balances = await client.fetch_consent_balances(
        stored.consent_id, stored.consent_token, account.kosma_account_id
    )
    assert balances.consent_token


async def test_a_stale_stored_token_is_invalid_token(store: Any, client: Any) -> None:
    consent = await link(store, client)
    account = first_account(store)
    # another program used the token and lost the rotated one
    await client.fetch_consent_balances(
        consent.consent_id, consent.consent_token, account.kosma_account_id
    )
    result = await SyncEngine(store, client).sync_account(account.name)
    assert result.status == "failed"
    assert result.error.code == "CONSENT.INVALID_TOKEN"
    assert "no longer valid" in result.error.message
    assert "Link Bank and Accounts" in result.error.remedy
    assert store.account(account.name).last_sync.error["code"] == "CONSENT.INVALID_TOKEN"


async def test_portal_expired_consent_is_its_sentence(
    store: Any, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_for(portal.url) as client:
        await link(store, client)
    portal.move(91)
    monkeypatch.setenv("KOSMA_TUI_NOW", datetime.now().astimezone().isoformat())  # app: today
    async with client_for(portal.url) as client:
        result = await SyncEngine(store, client).sync_account(first_account(store).name)
    assert (result.status, result.error.code) == ("failed", "CONSENT.EXPIRED")
    assert result.error.message == "The Bank Consent has expired."


# -- batching, cancellation, kills ----------------------------------------------------


async def test_small_batches_and_a_cancel_lose_nothing(store: Any, client: Any) -> None:
    await link(store, client, "many-transactions10000", start=TODAY - timedelta(days=99))
    account = first_account(store)
    cancel = asyncio.Event()

    def stop_after_two_pages(p: SyncProgress) -> None:
        if p.phase == "transactions" and p.page == 2:
            cancel.set()

    engine = SyncEngine(
        store, client, on_progress=stop_after_two_pages, page_size=100, flush_rows=150
    )
    cut = await engine.sync_account(account.name, cancel)
    assert (cut.status, cut.error.code) == ("failed", "CANCELLED")
    assert store.book(account).count() == cut.new > 0  # what was read is kept
    # 10 a day, 100 a page: two pages reach day 19 of the range, whose end may go on on the
    # third page; day 18 was read whole, and the next sync continues from there (DESIGN 2)
    start = TODAY - timedelta(days=99)
    through = (start + timedelta(days=18)).isoformat()
    assert cut.read_from == start.isoformat() and cut.read_through == through
    assert store.account(account.name).last_integration_date == through
    assert cut.stopped == (
        f"stopped at {through}: the sync was stopped; the next sync continues from there"
    )
    run = store.sync_runs(account.name)[0]
    assert (run.read_through, run.last_integration_date, run.stopped) == (
        through,
        through,
        cut.stopped,
    )
    assert store.account(account.name).last_sync.stopped == cut.stopped

    whole = await SyncEngine(store, client, page_size=100, flush_rows=150).sync_account(
        account.name
    )
    assert whole.status == "ok", whole.error
    ids = store.book(account).ids()
    assert len(ids) == store.book(account).count() == cut.new + whole.new
    # it read from the Last Integration Date minus the 7 lookback days, not from the start
    assert whole.fetched == ((TODAY - (start + timedelta(days=18 - 7))).days + 1) * 10 < 1000
    assert whole.read_through == TODAY.isoformat() and not whole.stopped


# -- party matching and the ERPNext hook -------------------------------------------


async def test_party_matching_runs_on_new_rows(store: Any, client: Any) -> None:
    await link(store, client, start=TODAY - timedelta(days=80))
    first, second = sorted(store.accounts(), key=lambda a: a.name)[:2]
    engine = SyncEngine(store, client)
    await engine.sync_account(first.name)
    counts: dict[str, int] = {}
    for row in store.book(first).rows():
        counts[row["bank_party_iban"]] = counts.get(row["bank_party_iban"], 0) + 1
    iban = max(counts, key=lambda k: counts[k])
    store.save_party(Party("Supplier", "Known Supplier", ibans=[iban]))
    settings = store.settings()
    settings.enable_party_matching = True
    store.save_settings(settings)

    result = await engine.sync_account(second.name)
    rows = list(store.book(second).rows())
    expected = [r for r in rows if r["bank_party_iban"] == iban]
    assert expected and result.matched == len(expected)
    assert all((r["party_type"], r["party"]) == ("Supplier", "Known Supplier") for r in expected)
    assert all(r["party"] == "" for r in rows if r["bank_party_iban"] != iban)


class RecordingHooks:
    """After-sync hooks that record what the engine hands them."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail
        self.matched: list[list[str]] = []  # the ids of each batch handed to the matcher
        self.pushed: list[dict[str, list[str] | None]] = []

    def party_matcher(self, store: Any) -> Any:
        def match(rows: list[dict[str, Any]]) -> int:
            self.matched.append([r["transaction_id"] for r in rows])
            return 0

        return match

    async def push(self, store: Any, stored: Any) -> Any:
        self.pushed.append(
            {name: None if ids is None else list(ids) for name, ids in stored.items()}
        )
        if self.fail is not None:
            raise self.fail
        return None


async def test_the_push_hook_gets_the_ids_this_sync_stored(store: Any, client: Any) -> None:
    await link(store, client, start=TODAY - timedelta(days=30))
    account = first_account(store)
    hooks = RecordingHooks()
    engine = SyncEngine(store, client, hooks=hooks)
    first = await engine.sync_account(account.name)
    assert first.status == "ok", first.error
    stored = {r["transaction_id"] for r in store.book(account).rows()}
    assert first.new == len(stored) > 0
    (pushed,) = hooks.pushed
    assert list(pushed) == [account.name] and set(pushed[account.name]) == stored
    assert sorted(i for batch in hooks.matched for i in batch) == sorted(stored)  # matched

    again = await engine.sync_account(account.name)  # nothing new: nothing to hand over
    assert again.status == "ok" and again.new == again.updated == 0
    assert hooks.pushed[1] == {account.name: []}


async def test_past_the_cap_the_push_is_told_to_read_the_whole_history(
    store: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync of a million rows must not hold a million ids for the push: past
    the cap the hook gets None for the account (its whole history is read)."""
    import kosma_tui.core.sync.result as sync_result

    monkeypatch.setattr(sync_result, "STORED_IDS_KEPT", 5)
    await link(store, client, start=TODAY - timedelta(days=30))
    account = first_account(store)
    hooks = RecordingHooks()
    result = await SyncEngine(store, client, hooks=hooks).sync_account(account.name)
    assert result.ok and result.new > 5
    assert result.stored_ids is None
    assert hooks.pushed == [{account.name: None}]


async def test_the_daily_job_pushes_once_with_each_accounts_ids(store: Any, client: Any) -> None:
    await link(store, client, start=TODAY - timedelta(days=20))
    hooks = RecordingHooks()
    results = await SyncEngine(store, client, hooks=hooks).sync_all()
    assert results and all(r.ok for r in results)
    (pushed,) = hooks.pushed
    for account in store.accounts():
        assert set(pushed[account.name]) == {
            r["transaction_id"] for r in store.book(account).rows()
        }


async def test_a_dry_run_hands_nothing_to_the_push(store: Any, client: Any) -> None:
    await link(store, client, start=TODAY - timedelta(days=20))
    hooks = RecordingHooks()
    result = await SyncEngine(store, client, hooks=hooks, dry_run=True).sync_account(
        first_account(store).name
    )
    assert result.ok and result.new > 0
    assert hooks.pushed == []


@pytest.mark.parametrize(
    "error", [pytest.param("kosma", id="a-sentence"), pytest.param("bug", id="a-bug")]
)
async def test_erpnext_push_failure_never_fails_the_sync(
    store: Any, client: Any, error: str
) -> None:
    from kosma_tui.core.errors import KosmaError

    fail = (
        KosmaError("ERPNext did not answer.", "Check the ERPNext connection.")
        if error == "kosma"
        else RuntimeError("boom")
    )
    hooks = RecordingHooks(fail)
    await link(store, client)
    account = first_account(store)
    result = await SyncEngine(store, client, hooks=hooks).sync_account(account.name)
    assert result.status == "ok"
    assert list(hooks.pushed[0]) == [account.name]
    assert result.push_error is not None
    if error == "kosma":
        assert result.push_error.message == "ERPNext did not answer."
        assert result.push_error.remedy == "Check the ERPNext connection."
    else:
        assert result.push_error.code == "UNEXPECTED"
        assert "RuntimeError" in result.push_error.message


async def test_attended_is_what_the_engine_is_told(store: Any, client: Any) -> None:
    await link(store, client, start=TODAY - timedelta(days=5))
    account = first_account(store)
    engine = SyncEngine(store, client, hooks=RecordingHooks(), attended=False)
    await engine.sync_account(account.name)
    assert store.account(account.name).last_sync.unattended is True
    await SyncEngine(store, client, hooks=RecordingHooks()).sync_account(account.name)
    assert store.account(account.name).last_sync.unattended is False  # the client's


# -- the daily job ---------------------------------------------------------------------


def add_company(store: Any, name: str) -> None:
    store.save_company(Company(name, "DE", "01-01", "EUR"))


async def test_daily_job_continues_past_an_expired_consent_and_a_failing_account(
    store: Any, portal: Portal
) -> None:
    add_company(store, "Broken Range GmbH")
    add_company(store, "Expired AG")
    async with client_for(portal.url) as client:
        good = await link(store, client, "embedded")
        bad = await link(
            store, client, "invalid-transactions-timerange", company="Broken Range GmbH"
        )
        old = await link(store, client, "embedded", company="Expired AG")
    stale = store.consent(old.name)
    stale.consent_expiry = (datetime.now().astimezone() - timedelta(days=1)).isoformat()
    store.save_consent(stale)
    # ids rotate between consents: a stale id is refreshed by IBAN before the sync
    victim = first_account(store, (good.bank, good.company))
    store.update_account(victim.name, kosma_account_id="acc-stale")

    async with client_for(portal.url, attended=False) as client:
        results = await SyncEngine(store, client).sync_all()
    by_company: dict[str, set[str]] = {}
    for result in results:
        company = store.account(result.name).company
        by_company.setdefault(company, set()).add(result.status)
    assert by_company == {
        "Demo Company": {"ok"},
        "Broken Range GmbH": {"failed"},
        "Expired AG": {"refused"},
    }
    assert len(results) == len(store.accounts())
    assert store.account(victim.name).kosma_account_id != "acc-stale"
    assert all(store.account(r.name).last_sync.unattended for r in results)
    assert bad.name and good.name


async def test_daily_job_falls_back_to_stored_accounts_when_the_limit_is_reached(
    store: Any, portal: Portal
) -> None:
    async with client_for(portal.url) as client:
        consent = await link(store, client, "embedded")
    async with client_for(portal.url, attended=False) as client:
        engine = SyncEngine(store, client)
        for _ in range(4):  # the bank's 4 unattended account reads of the day
            await engine.refresh_accounts(consent.name)
        from kosma_tui.core.errors import PortalError

        with pytest.raises(PortalError) as error:
            await engine.refresh_accounts(consent.name)
        assert error.value.code == "CONSENT.LIMIT_EXCEEDED"
        results = await engine.sync_all()
    assert [r.status for r in results] == ["ok"] * len(store.accounts())


async def test_daily_job_falls_back_to_stored_accounts_when_rate_limited(
    store: Any, portal: Portal
) -> None:
    async with client_for(portal.url) as client:
        await link(store, client, "embedded")
    portal.running.fail_next(5, 429, retry_after=0)  # the first call and its 4 retries
    async with client_for(portal.url, attended=False, backoff=0.0) as client:
        results = await SyncEngine(store, client).sync_all()
    assert [r.status for r in results] == ["ok"] * len(store.accounts())


async def test_a_revoked_consent_is_its_sentence(store: Any, portal: Portal) -> None:
    async with client_for(portal.url) as client:
        consent = await link(store, client, "embedded")
        portal.running.revoke_consent(consent.consent_id)
        results = await SyncEngine(store, client).sync_all()
    assert {r.status for r in results} == {"failed"}
    assert {r.error.message for r in results} == {"The Bank Consent was withdrawn at the bank."}


async def test_refresh_accounts_matches_by_iban(store: Any, client: Any) -> None:
    consent = await link(store, client)
    before = {a.iban: a.kosma_account_id for a in store.accounts()}
    for account in store.accounts():
        store.update_account(account.name, kosma_account_id="old-" + account.iban)
    refreshed = await SyncEngine(store, client).refresh_accounts(consent.name)
    assert {a.iban: a.kosma_account_id for a in refreshed} == before


async def test_a_damaged_last_integration_date_is_refused_with_its_remedy(
    store: Any, client: Any
) -> None:
    await link(store, client)
    account = first_account(store)
    store.update_account(account.name, last_integration_date="last tuesday")
    result = await SyncEngine(store, client).sync_account(account.name)
    assert (result.status, result.error.code) == ("refused", "INVALID_LAST_INTEGRATION_DATE")
    assert "set-last-integration-date" in result.error.remedy


async def test_two_syncs_of_one_consent_at_once_take_turns(store: Any, client: Any) -> None:
    """Every call kills the token it used: concurrent syncs must not interleave."""
    await link(store, client, start=TODAY - timedelta(days=60))
    accounts = sorted(store.accounts(), key=lambda a: a.name)
    engine = SyncEngine(store, client, page_size=10)  # many calls, many chances to clash
    results = await asyncio.gather(*(engine.sync_account(a.name) for a in accounts))
    assert [r.status for r in results] == ["ok"] * len(accounts), [r.error for r in results]
    assert all(r.new > 0 for r in results)


async def test_the_embedded_portals_own_failure_is_named_as_such(
    store: Any, portal: Portal, tmp_path: Path
) -> None:
    """A Demo Bank portal that cannot write its state (a full disk, a read-only folder)
    says so, instead of passing for a banking portal's technical error."""
    import shutil

    from kosma_tui.core.errors import PortalError

    async with client_for(portal.url) as linking:
        consent = await link(store, linking)
    account = first_account(store)
    shutil.rmtree(tmp_path / "portal")  # its state folder: every write now fails
    for embedded, message in (
        (
            True,
            "The built-in Demo Bank portal failed on its own side: The Demo Bank portal cannot ",
        ),
        (False, "The banking portal had a technical error."),
    ):
        async with client_for(portal.url, embedded=embedded, retries=0) as client:
            with pytest.raises(PortalError) as info:
                await client.fetch_consent_balances(
                    consent.consent_id, consent.consent_token, account.kosma_account_id
                )
        assert info.value.message.startswith(message), info.value.message
    async with client_for(portal.url, embedded=True) as client:
        result = await SyncEngine(store, client).sync_account(account.name)
    assert result.status == "failed"
    assert result.error.message.startswith("The built-in Demo Bank portal failed on its own side")
    assert "data folder" in result.error.remedy

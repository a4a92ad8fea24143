"""Link Bank and Accounts (DESIGN 2) against the real Demo Bank portal and a real store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from kosma_tui.core import clock
from kosma_tui.core.errors import PortalError, UsageError
from kosma_tui.core.forms import CONSUMER_INPUT_NEEDED, FINISHED, PROCESSING, Step
from kosma_tui.core.linking import (
    LinkCancelled,
    LinkFlow,
    StartDate,
    default_start_text,
    end_abandoned_sessions,
    failure,
    renewal_note,
    resolve_start_date,
)
from kosma_tui.core.portal import PortalClient
from kosma_tui.core.records import BankAccount, Company, LinkSession
from kosma_tui.core.store import Store

COMPANY = "Demo Company"
OTP = "12345"


@pytest.fixture
def store(home: Path) -> Store:
    return Store.open()


@pytest.fixture
async def client(demo_portal: Any) -> AsyncIterator[PortalClient]:
    async with PortalClient(
        demo_portal.url, "demo-customer", "demo-token", ip_address="127.0.0.1", retries=0
    ) as portal:
        yield portal


def today_start() -> StartDate:
    return StartDate(clock.today(), None)


async def to_login(flow: LinkFlow) -> Step:
    """Country, bank and method of the Demo Bank: the login step."""
    step = await flow.start()
    assert step.state == CONSUMER_INPUT_NEEDED
    step = await flow.submit({"country_code": "DE"})
    step = await flow.submit({"bank_code": "88888888"})
    step = await flow.submit({"interface": "PSD2"})
    assert step.form is not None and step.key  # the login step is sealed
    return step


async def link(flow: LinkFlow, username: str = "embedded") -> Step:
    """Walk a flow to FINISHED with the right password and OTP."""
    await to_login(flow)
    step = await flow.submit({"LOGINNAME": username, "USER_PASSWORD": "12345"})
    if step.state == CONSUMER_INPUT_NEEDED:
        step = await flow.submit({"TAN": OTP})
    while step.state == PROCESSING:
        step = await flow.poll()
    assert step.state == FINISHED
    return step


async def session_is_dead(client: PortalClient, session: LinkSession) -> bool:
    try:
        await client.get_flow_step(session.session_id, session.flow_id)
    except PortalError as exc:
        return exc.code == "USER.SESSION.TIMEOUT"
    return False


def closed(store: Store) -> bool:
    return not store.link_sessions(status="Running")


# ---------------------------------------------------------------- start date


def test_start_date_defaults_to_today_without_warning(store: Store) -> None:
    text = default_start_text(store, COMPANY)
    assert text == clock.today().isoformat()
    start = resolve_start_date(store, COMPANY, text)
    assert start.date == clock.today() and start.warning is None


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-26", date(2026, 4, 1)),
        ("2026-02-01", date(2025, 4, 1)),
        ("2026-04-01", date(2026, 4, 1)),
    ],
)
def test_empty_start_date_is_the_current_fiscal_year_start(
    store: Store, monkeypatch: pytest.MonkeyPatch, now: str, expected: date
) -> None:
    monkeypatch.setenv("KOSMA_TUI_NOW", now)
    store.save_company(Company("Fiscal April", "DE", "04-01", "EUR"))
    for text in ("", "  ", None):
        assert resolve_start_date(store, "Fiscal April", text).date == expected


def test_empty_start_date_of_a_calendar_year_company(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOSMA_TUI_NOW", "2026-11-26T09:00:00+01:00")
    start = resolve_start_date(store, COMPANY, "")
    assert start.date == date(2026, 1, 1)
    assert start.warning is not None and "transaction limit" in start.warning


def test_future_start_date_is_refused(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOSMA_TUI_NOW", "2026-11-26")
    with pytest.raises(UsageError, match="future"):
        resolve_start_date(store, COMPANY, "2026-11-27")
    assert resolve_start_date(store, COMPANY, "2026-11-26").warning is None


def test_past_start_date_warns_about_the_transaction_limit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOSMA_TUI_NOW", "2026-11-26")
    start = resolve_start_date(store, COMPANY, "2026-10-01")
    assert start.date == date(2026, 10, 1)
    assert start.warning is not None
    assert "2026-10-01" in start.warning and "transaction limit" in start.warning


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "26.11.2026"])
def test_invalid_start_date_is_refused(store: Store, text: str) -> None:
    with pytest.raises(UsageError, match="Start Date"):
        resolve_start_date(store, COMPANY, text)


def test_unknown_company_is_refused(store: Store) -> None:
    with pytest.raises(UsageError, match="no company named 'Nobody'"):
        resolve_start_date(store, "Nobody", "")


# ---------------------------------------------------------------- a link


async def test_embedded_link_creates_bank_accounts_and_consent(
    store: Store, client: PortalClient
) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    step = await flow.submit({"LOGINNAME": "embedded", "USER_PASSWORD": "12345"})
    assert step.state == CONSUMER_INPUT_NEEDED and step.key  # the OTP step, sealed too
    assert store.link_sessions(status="Running")  # visible while the flow runs
    step = await flow.submit({"TAN": OTP})
    assert step.state == FINISHED
    result = await flow.fetch_result()
    assert closed(store) and flow.session is not None
    assert await session_is_dead(client, flow.session)

    summary = flow.save(result)
    assert summary.bank_created and summary.bank.name == "Demo Bank"
    assert summary.bank.swift_number == "TESTDE10XXX" and summary.bank.bank_code == "88888888"
    assert len(summary.added) == 3 and summary.updated == []
    accounts = store.accounts(bank="Demo Bank", company=COMPANY)
    assert {a.name for a in accounts} == {a.name for a in summary.added}
    portal_ids = {a.id for a in result.accounts}
    for account in accounts:
        portal = next(p for p in result.accounts if p.iban == account.iban)
        assert account.name == f"{portal.alias} ({portal.holder_name})"
        assert account.kosma_account_id in portal_ids
        assert account.last_integration_date == ""  # sync starts from the consent start
        assert account.key
    consent = store.consent("Demo Bank-Demo Company")
    assert consent is not None
    assert consent.consent_token == result.consent.consent_token
    assert consent.consent_start == clock.today().isoformat()
    assert summary.days_left == 90
    raw = (store.paths.store_dir / "meta.json").read_text()
    assert result.consent.consent_token not in raw
    assert flow.session.session_id not in raw
    stored = json.loads(raw)
    consent_doc = next(iter(stored["consents"].values()))
    assert consent_doc["consent_token"].startswith("enc:v1:")


async def test_relink_creates_the_bank_once_and_matches_accounts_by_iban(
    store: Store, client: PortalClient
) -> None:
    first_flow = LinkFlow(store, client, COMPANY, today_start())
    await link(first_flow)
    first = first_flow.save(await first_flow.fetch_result())
    before = {a.iban: a for a in store.accounts(company=COMPANY)}

    second_flow = LinkFlow(store, client, COMPANY, today_start())
    await link(second_flow)
    result = await second_flow.fetch_result()
    second = second_flow.save(result)

    assert first.bank_created and not second.bank_created
    assert [b.name for b in store.banks()] == ["Demo Bank"]
    assert second.added == [] and len(second.updated) == 3
    after = {a.iban: a for a in store.accounts(company=COMPANY)}
    assert after.keys() == before.keys()
    for iban, account in after.items():
        assert account.name == before[iban].name and account.key == before[iban].key
        assert account.kosma_account_id != before[iban].kosma_account_id  # ids rotate
        assert account.kosma_account_id == next(p.id for p in result.accounts if p.iban == iban)
    assert len(store.consents()) == 1
    consent = store.consent("Demo Bank-Demo Company")
    assert consent is not None and consent.consent_id == result.consent.consent_id


async def test_relink_keeps_last_integration_dates(store: Store, client: PortalClient) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await link(flow)
    flow.save(await flow.fetch_result())
    account = store.accounts(company=COMPANY)[0]
    store.update_account(account.name, last_integration_date="2020-05-05")
    again = LinkFlow(store, client, COMPANY, today_start())
    await link(again)
    again.save(await again.fetch_result())
    kept = store.account(account.name)
    assert kept is not None and kept.last_integration_date == "2020-05-05"


async def test_choose_a_subset_of_accounts(store: Store, client: PortalClient) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await link(flow)
    result = await flow.fetch_result()
    chosen = result.accounts[1]
    summary = flow.save(result, [chosen.id])
    assert [a.iban for a in summary.added] == [chosen.iban]
    assert [a.iban for a in store.accounts(company=COMPANY)] == [chosen.iban]
    with pytest.raises(UsageError):
        flow.save(result, ["acc-not-returned"])


async def test_account_name_taken_by_another_iban_gets_a_suffix(
    store: Store, client: PortalClient
) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await link(flow)
    result = await flow.fetch_result()
    portal = result.accounts[0]
    base = f"{portal.alias} ({portal.holder_name})"
    store.save_account(
        BankAccount(
            name=base, bank="Other Bank", company="Other Company", iban="DE02120300000000202051"
        )
    )
    summary = flow.save(result)
    names = {a.iban: a.name for a in summary.added}
    # the end of its own IBAN, right after the alias: visible even in a cut column
    assert names[portal.iban] == f"{portal.alias} …{portal.iban[-4:]} ({portal.holder_name})"
    assert store.account(base) is not None and store.account(base).iban.startswith("DE02")


async def test_accounts_another_login_does_not_return_are_named(
    store: Store, client: PortalClient
) -> None:
    first = LinkFlow(store, client, COMPANY, today_start())
    await link(first, "embedded")
    first.save(await first.fetch_result())
    other = LinkFlow(store, client, COMPANY, today_start())
    await link(other, "decoupled")  # another login at the same bank: other accounts
    summary = other.save(await other.fetch_result())
    assert len(summary.added) == 3 and len(summary.not_covered) == 3
    assert summary.warnings and summary.not_covered[0].name in summary.warnings[0]
    assert len(store.consents()) == 1  # one Bank Consent per bank and company


# ---------------------------------------------------------------- renewal


async def test_renewal_prefills_the_oldest_last_integration_date(
    store: Store, client: PortalClient
) -> None:
    assert default_start_text(store, COMPANY, "Demo Bank") == clock.today().isoformat()
    flow = LinkFlow(store, client, COMPANY, today_start())
    await link(flow)
    flow.save(await flow.fetch_result())
    # linked, never synced: the consent start is where the history ends
    assert default_start_text(store, COMPANY, "Demo Bank") == clock.today().isoformat()

    today = clock.today()
    oldest, newer = today - timedelta(days=20), today - timedelta(days=3)
    names = [a.name for a in store.accounts(bank="Demo Bank", company=COMPANY)]
    store.update_account(names[0], last_integration_date=newer.isoformat())
    store.update_account(names[1], last_integration_date=oldest.isoformat())
    assert default_start_text(store, COMPANY, "Demo Bank") == oldest.isoformat()
    assert default_start_text(store, COMPANY) == today.isoformat()  # no bank: not a renewal
    assert default_start_text(store, COMPANY, "Other Bank") == today.isoformat()

    assert renewal_note(store, COMPANY, "Demo Bank", oldest) is None
    assert renewal_note(store, COMPANY, "Demo Bank", oldest - timedelta(days=1)) is None
    note = renewal_note(store, COMPANY, "Demo Bank", today)
    assert note is not None and oldest.isoformat() in note and "gap" in note
    assert renewal_note(store, COMPANY, "Other Bank", today) is None

    # the renewal itself from the pre-filled date: the new consent starts there
    start = resolve_start_date(store, COMPANY, default_start_text(store, COMPANY, "Demo Bank"))
    renewal = LinkFlow(store, client, COMPANY, start)
    await link(renewal)
    summary = renewal.save(await renewal.fetch_result())
    assert summary.consent.consent_start == oldest.isoformat()
    assert summary.days_left == 90


# ---------------------------------------------------------------- OTP and failures


async def test_wrong_otp_once_then_right(store: Store, client: PortalClient) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    await flow.submit({"LOGINNAME": "embedded", "USER_PASSWORD": "12345"})
    step = await flow.submit({"TAN": "99999"})
    assert step.state == CONSUMER_INPUT_NEEDED
    assert step.error_message and "OTP" in step.error_message
    assert step.form is not None and [e.key for e in step.form.inputs] == ["TAN"]
    step = await flow.submit({"TAN": OTP})
    assert step.state == FINISHED
    assert len((await flow.fetch_result()).accounts) == 3


async def test_three_wrong_otps_block_and_end_the_session(
    store: Store, client: PortalClient
) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    await flow.submit({"LOGINNAME": "embedded", "USER_PASSWORD": "12345"})
    for _ in range(2):
        assert (await flow.submit({"TAN": "99999"})).error is not None
    with pytest.raises(PortalError) as caught:
        await flow.submit({"TAN": "99999"})
    assert caught.value.code == "USER.ACCESS_DENIED.BLOCKED"
    assert "Contact your bank" in caught.value.sentence()
    assert flow.closed and closed(store)
    assert flow.session is not None and await session_is_dead(client, flow.session)
    assert store.banks() == [] and store.consents() == []


async def test_inputs_are_checked_before_they_are_sent(store: Store, client: PortalClient) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    await flow.submit({"LOGINNAME": "embedded", "USER_PASSWORD": "12345"})
    for bad in ("", "12a45"):
        with pytest.raises(UsageError):
            await flow.submit({"TAN": bad})
    assert not flow.closed  # the OTP can still be typed again
    assert (await flow.submit({"TAN": OTP})).state == FINISHED
    await flow.cancel()


async def test_unknown_choice_is_refused_before_sending(store: Store, client: PortalClient) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await flow.start()
    with pytest.raises(UsageError, match="offered options"):
        await flow.submit({"country_code": "XX"})
    assert (await flow.submit({"country_code": "DE"})).state == CONSUMER_INPUT_NEEDED
    await flow.cancel()
    assert closed(store)


async def test_invalid_username_comes_back_on_the_login_form(
    store: Store, client: PortalClient
) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    step = await flow.submit({"LOGINNAME": "invalid", "USER_PASSWORD": "12345"})
    assert step.state == CONSUMER_INPUT_NEEDED and step.error_message
    assert step.form is not None and "LOGINNAME" in [e.key for e in step.form.inputs]
    await flow.cancel()


@pytest.mark.parametrize(
    ("username", "code", "sentence"),
    [
        ("wrong", "USER.ACCESS_DENIED.CREDENTIALS", "The bank refused the login."),
        ("bank-maintenance", "MAINTENANCE", "The bank is in maintenance."),
        ("technical", "TECHNICAL", "The banking portal had a technical error."),
    ],
)
async def test_failing_logins_surface_their_sentence_and_end_the_session(
    store: Store, client: PortalClient, username: str, code: str, sentence: str
) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    with pytest.raises(PortalError) as caught:
        await flow.submit({"LOGINNAME": username, "USER_PASSWORD": "12345"})
    assert caught.value.code == code
    assert caught.value.message == sentence and caught.value.remedy
    assert caught.value.portal_message  # the portal's own words are kept for the log
    assert flow.closed and closed(store)
    assert flow.session is not None and await session_is_dead(client, flow.session)


def test_failure_of_a_step_without_error() -> None:
    assert failure(Step("ABORTED")).code == "USER.ABORTED"  # type: ignore[union-attr]
    assert failure(Step("EXCEPTION")).code == "TECHNICAL"  # type: ignore[union-attr]
    assert failure(Step("FINISHED")) is None
    assert LinkFlow.failure(Step("PROCESSING")) is None


# ---------------------------------------------------------------- decoupled


async def test_decoupled_approval(store: Store, client: PortalClient) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    step = await flow.submit({"LOGINNAME": "decoupled", "USER_PASSWORD": "12345"})
    assert step.state == PROCESSING and step.poll_after_ms is not None
    polls = 0
    while step.state == PROCESSING:
        step = await flow.poll()
        polls += 1
    assert step.state == FINISHED and polls >= 2
    summary = flow.save(await flow.fetch_result())
    assert len(summary.added) == 3 and closed(store)


async def test_decoupled_abort_ends_the_session(store: Store, client: PortalClient) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    step = await flow.submit({"LOGINNAME": "decoupled-abort", "USER_PASSWORD": "12345"})
    with pytest.raises(PortalError) as caught:
        while step.state == PROCESSING:
            step = await flow.poll()
    assert caught.value.code == "USER.ABORTED"
    assert flow.closed and closed(store)
    assert flow.session is not None and await session_is_dead(client, flow.session)


async def test_cancel_during_the_decoupled_wait_ends_the_session(
    store: Store, client: PortalClient
) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    step = await flow.submit({"LOGINNAME": "decoupled", "USER_PASSWORD": "12345"})
    assert step.state == PROCESSING
    waiting = asyncio.create_task(flow.poll())
    await asyncio.sleep(0.05)
    await flow.cancel()
    with pytest.raises(LinkCancelled):
        await asyncio.wait_for(waiting, 2)  # woken at once, not after poll_after_ms
    assert closed(store)
    assert flow.session is not None and await session_is_dead(client, flow.session)
    await flow.cancel()  # idempotent
    with pytest.raises(UsageError):
        await flow.submit({"TAN": OTP})


async def test_cancelling_the_polling_task_ends_the_session(
    store: Store, client: PortalClient
) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    await flow.submit({"LOGINNAME": "decoupled", "USER_PASSWORD": "12345"})
    waiting = asyncio.create_task(flow.poll())
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert flow.closed and closed(store)
    assert flow.session is not None and await session_is_dead(client, flow.session)


async def test_cancel_at_a_form_ends_the_session(store: Store, client: PortalClient) -> None:
    flow = LinkFlow(store, client, COMPANY, today_start())
    await to_login(flow)
    await flow.cancel()
    assert closed(store)
    assert flow.session is not None and await session_is_dead(client, flow.session)
    assert store.banks() == [] and store.accounts() == [] and store.consents() == []


# ---------------------------------------------------------------- abandoned sessions


async def test_abandoned_session_is_ended_on_the_next_start(
    store: Store, client: PortalClient
) -> None:
    # what a run that crashed after get_client_token leaves behind
    token = await client.get_client_token(clock.today(), clock.today())
    crashed = LinkSession(
        token.session_id, token.session_id_short, token.flow_id, "Running", clock.now().isoformat()
    )
    store.save_link_session(crashed)
    assert (
        await client.get_flow_step(token.session_id, token.flow_id)
    ).state == CONSUMER_INPUT_NEEDED

    flow = LinkFlow(store, client, COMPANY, today_start())
    await flow.start()
    assert await session_is_dead(client, crashed)
    states = {s.session_id: s.status for s in store.link_sessions()}
    assert states[token.session_id] == "Closed"
    assert states[flow.session_id] == "Running"
    await flow.cancel()
    assert closed(store)


async def test_a_live_flow_is_not_taken_for_abandoned(store: Store, client: PortalClient) -> None:
    first = LinkFlow(store, client, COMPANY, today_start())
    await first.start()
    second = LinkFlow(store, client, COMPANY, today_start())
    await second.start()
    assert first.session is not None and not await session_is_dead(client, first.session)
    assert await end_abandoned_sessions(store, client) == 0
    await second.cancel()
    await first.cancel()
    assert closed(store)
    assert await end_abandoned_sessions(store, client) == 0

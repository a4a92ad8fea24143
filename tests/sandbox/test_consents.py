"""Consent calls over real HTTP: rotation, scope, limits, paging, expiry, usage."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from conftest import TODAY
from sandbox_wire import Wire

from kosma_tui.sandbox import RunningPortal


def test_every_call_rotates_the_token_and_the_old_one_dies(wire: Wire) -> None:
    consent = wire.link("embedded", TODAY)
    first = consent.token
    accounts = consent.ok("fetch_consent_accounts")["accounts"]
    assert [a["iban"] for a in accounts] == [a["iban"] for a in consent.accounts]
    assert consent.token != first
    stale = wire.call("fetch_consent_accounts", consent_id=consent.id, consent_token=first)
    message = wire.error(stale, 400, "CONSENT.INVALID_TOKEN")
    assert "consent_token" not in message
    # the stale attempt did not disturb the live token
    balances = consent.ok("fetch_consent_balances", account_id=accounts[0]["id"])
    assert balances["date"] == TODAY.isoformat()
    assert balances["booked"]["currency"] == "EUR"
    assert balances["available"]["amount"] >= 0


def test_fetch_accounts_and_bank_again_rotates_the_same_consent(wire: Wire) -> None:
    flow = wire.start(TODAY, TODAY)
    step = flow.submit(flow.step(), country_code="DE")
    step = flow.submit(step, bank_code="88888888")
    step = flow.submit(step, interface="PSD2")
    flow.submit(step, LOGINNAME="generate-new-accounts1", USER_PASSWORD="12345")
    first, second = flow.finish(), flow.finish()
    assert first.id == second.id and first.token != second.token
    assert first.accounts == second.accounts
    wire.error(first.call("fetch_consent_accounts"), 400, "CONSENT.INVALID_TOKEN")
    second.ok("fetch_consent_accounts")


def test_start_date_before_consent_start_is_refused_with_a_fresh_token(wire: Wire) -> None:
    start = TODAY - timedelta(days=10)
    consent = wire.link("embedded", TODAY, from_date=start)
    account = consent.accounts[0]["id"]
    sent = consent.token
    response = consent.call(
        "fetch_consent_transactions",
        account_id=account,
        start_date=(start - timedelta(days=1)).isoformat(),
    )
    message = wire.error(response, 400, "VALIDATION")
    assert message["error"]["errors"][0]["location"] == "start_date"
    assert message["consent_token"] and message["consent_token"] != sent
    wire.error(
        wire.call("fetch_consent_accounts", consent_id=consent.id, consent_token=sent),
        400,
        "CONSENT.INVALID_TOKEN",
    )
    rows, _pages = consent.all_transactions(account, start)
    assert rows and all(r["booking_date"] >= start.isoformat() for r in rows)


def test_unknown_account_id_is_not_granted(wire: Wire) -> None:
    consent = wire.link("embedded", TODAY)
    other = wire.link("embedded", TODAY)
    assert consent.accounts[0]["iban"] == other.accounts[0]["iban"]
    assert consent.accounts[0]["id"] != other.accounts[0]["id"]  # ids rotate per consent
    response = consent.call("fetch_consent_balances", account_id=other.accounts[0]["id"])
    message = wire.error(response, 400, "CONSENT.RESOURCE_NOT_GRANTED")
    assert message["consent_token"] == consent.token
    consent.ok("fetch_consent_balances", account_id=consent.accounts[0]["id"])


def test_unattended_calls_are_limited_to_four_per_account_kind_and_day(
    wire: Wire, portal: RunningPortal
) -> None:
    consent = wire.link("many-transactions3000", TODAY, from_date=TODAY - timedelta(days=30))
    account = consent.accounts[0]["id"]
    for _ in range(4):
        consent.ok("fetch_consent_accounts", ip=None)
    refused = consent.call("fetch_consent_accounts", ip=None)
    message = wire.error(refused, 400, "CONSENT.LIMIT_EXCEEDED")
    assert message["consent_token"] == consent.token  # the consent stays usable
    for _ in range(6):  # attended calls are not limited
        consent.ok("fetch_consent_accounts")
    consent.ok("fetch_consent_balances", account_id=account, ip=None)  # another data type

    # transactions: first pages count, next pages (offset given) never do
    start = TODAY - timedelta(days=30)
    first = consent.ok(
        "fetch_consent_transactions",
        account_id=account,
        start_date=start.isoformat(),
        preferred_pagination_size=10,
        ip=None,
    )
    for _ in range(3):
        consent.ok(
            "fetch_consent_transactions",
            account_id=account,
            start_date=start.isoformat(),
            preferred_pagination_size=10,
            ip=None,
        )
    pagination = first["pagination"]
    for offset in (10, 20, 30, 40, 50):
        page = consent.ok(
            "fetch_consent_transactions",
            account_id=account,
            start_date=start.isoformat(),
            url=pagination["url"],
            offset=offset,
            ip=None,
        )
        assert len(page["transactions"]) == 10
    wire.error(
        consent.call(
            "fetch_consent_transactions", account_id=account, start_date=start.isoformat(), ip=None
        ),
        400,
        "CONSENT.LIMIT_EXCEEDED",
    )
    # a new UTC day, a new allowance
    portal.today = TODAY + timedelta(days=1)
    consent.ok("fetch_consent_accounts", ip=None)


def test_100000_transactions_page_to_the_end(wire: Wire, portal: RunningPortal) -> None:
    start = TODAY - timedelta(days=999)
    consent = wire.link("many-transactions100000", TODAY, from_date=start)
    assert len(consent.accounts) == 1
    account = consent.accounts[0]["id"]
    # correctness only: how fast paging is, tests/benchmarks measures (a timed assert
    # here fails whenever the machine is busy, e.g. with the suite's other workers)
    rows, pages = consent.all_transactions(account, start)
    assert len(rows) == 100_000 and pages == 100
    ids = [r["transaction_id"] for r in rows if "transaction_id" in r]
    assert len(ids) == len(set(ids)) and len(ids) > 99_800
    dates = [r["booking_date"] for r in rows]
    assert dates == sorted(dates)  # oldest first, across pages
    assert dates[0] == start.isoformat() and dates[-1] == TODAY.isoformat()
    per_day = Counter(dates)
    assert set(per_day.values()) == {100}
    usage = wire.ok("fetch_subscription_details")[0]["usage"]
    assert usage == 100_000
    # the next day brings exactly 100 new ones
    portal.today = TODAY + timedelta(days=1)
    page = consent.ok(
        "fetch_consent_transactions", account_id=account, start_date=TODAY.isoformat()
    )
    assert len(page["transactions"]) == 200 and "pagination" not in page


def test_pending_transactions_settle_as_today_moves(wire: Wire, portal: RunningPortal) -> None:
    start = TODAY - timedelta(days=6)
    consent = wire.link("many-transactions30000", TODAY, from_date=start)
    account = consent.accounts[0]["id"]
    rows, _ = consent.all_transactions(account, start)
    recent = [r for r in rows if r["booking_date"] >= (TODAY - timedelta(days=1)).isoformat()]
    older = [r for r in rows if r not in recent]
    assert recent and all(r["state"] == "PENDING" for r in recent)
    assert any("transaction_id" not in r for r in recent)
    assert {r["state"] for r in older} <= {"PROCESSED", "CANCELED"}
    assert all("transaction_id" in r for r in older)
    pending_ids = {r["transaction_id"] for r in recent if "transaction_id" in r}

    portal.today = TODAY + timedelta(days=3)
    later, _ = consent.all_transactions(account, start, to_date=TODAY.isoformat())
    assert len(later) == len(rows)
    states = {r["transaction_id"]: r["state"] for r in later if "transaction_id" in r}
    assert {states[i] for i in pending_ids} <= {"PROCESSED", "CANCELED"}
    assert len(states) == len(rows)  # every transaction now carries its id


def test_transactions_carry_verbatim_bank_text(wire: Wire) -> None:
    start = TODAY - timedelta(days=999)
    consent = wire.link("many-transactions20000", TODAY, from_date=start)
    rows, _ = consent.all_transactions(consent.accounts[0]["id"], start)
    names = {r["counter_party"]["holder_name"] for r in rows}
    assert "[bold]ACME[/] Corp." in names
    text = " ".join(names) + " ".join(r["reference"] for r in rows)
    for script_sample in ("ü", "Δ", "Р", "株", "北", "ش"):
        assert script_sample in text
    assert any("\x1b" in r["reference"] or "\x07" in r["reference"] for r in rows)
    sample = rows[0]
    assert set(sample) >= {
        "amount",
        "type",
        "state",
        "booking_date",
        "value_date",
        "date",
        "reference",
        "bank_references",
        "counter_party",
        "method",
    }
    assert set(sample["counter_party"]) >= {"holder_name", "iban", "account_number", "bic"}
    assert {r["type"] for r in rows} == {"CREDIT", "DEBIT"}
    assert {r["method"] for r in rows} <= {"TRANSFER", "DIRECT_DEBIT", "INSTANT", "UNKNOWN"}
    assert all(isinstance(r["amount"]["amount"], int) and r["amount"]["amount"] > 0 for r in rows)


def test_consent_expires_after_90_days(wire: Wire, portal: RunningPortal) -> None:
    consent = wire.link("embedded", TODAY)
    portal.today = TODAY + timedelta(days=89)
    consent.ok("fetch_consent_accounts")
    portal.today = TODAY + timedelta(days=91)
    message = wire.error(consent.call("fetch_consent_accounts"), 400, "CONSENT.EXPIRED")
    assert "consent_token" not in message


def test_revoked_consent(wire: Wire, portal: RunningPortal) -> None:
    consent = wire.link("embedded", TODAY)
    portal.revoke_consent(consent.id)
    wire.error(consent.call("fetch_consent_accounts"), 400, "CONSENT.REVOKED")


def test_usage_counts_and_the_plan_limit_refuses(wire: Wire, portal: RunningPortal) -> None:
    portal.transaction_limit = 1500
    start = TODAY - timedelta(days=999)
    consent = wire.link("many-transactions100000", TODAY, from_date=start)
    account = consent.accounts[0]["id"]
    details = wire.ok("fetch_subscription_details")
    assert details[0]["usage"] == 0 and details[0]["transaction_limit"] == 1500
    assert set(details[0]) == {
        "full_name",
        "subscription_status",
        "usage",
        "transaction_limit",
        "plan_end_date",
        "last_paid_on",
        "billing_portal",
    }
    first = consent.ok(
        "fetch_consent_transactions", account_id=account, start_date=start.isoformat()
    )
    assert wire.ok("fetch_subscription_details")[0]["usage"] == 1000
    response = consent.call(
        "fetch_consent_transactions",
        account_id=account,
        start_date=start.isoformat(),
        url=first["pagination"]["url"],
        offset=first["pagination"]["next"]["offset"],
    )
    message = wire.error(response, 403, "PLAN.LIMIT_EXCEEDED")
    assert message["consent_token"] == consent.token
    assert wire.ok("fetch_subscription_details")[0]["usage"] == 1000
    small = consent.ok(
        "fetch_consent_transactions",
        account_id=account,
        start_date=start.isoformat(),
        preferred_pagination_size=500,
    )
    assert len(small["transactions"]) == 500


def test_refused_date_range_scenario(wire: Wire) -> None:
    consent = wire.link("invalid-transactions-timerange", TODAY)
    account = consent.accounts[0]["id"]
    response = consent.call(
        "fetch_consent_transactions", account_id=account, start_date=TODAY.isoformat()
    )
    message = wire.error(response, 400, "NOT_SUPPORTED.TRANSACTIONS_DATE_RANGE")
    assert message["consent_token"] == consent.token
    consent.ok("fetch_consent_balances", account_id=account)


def test_paging_parameters_are_checked(wire: Wire) -> None:
    start = TODAY - timedelta(days=200)
    consent = wire.link("many-transactions10000", TODAY, from_date=start)
    account = consent.accounts[0]["id"]
    big = consent.ok(
        "fetch_consent_transactions",
        account_id=account,
        start_date=start.isoformat(),
        preferred_pagination_size=5000,
    )
    assert len(big["transactions"]) == 1000  # at most 1000 a page
    url = big["pagination"]["url"]
    for fields, location in (
        ({"url": url, "offset": 10**9}, "offset"),
        ({"url": "http://elsewhere/x", "offset": 5}, "url"),
        ({"offset": 5}, "url"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"to_date": (start - timedelta(days=1)).isoformat()}, "to_date"),
    ):
        body = {"account_id": account, "start_date": start.isoformat(), **fields}
        response = consent.call("fetch_consent_transactions", **body)
        message = wire.error(response, 400, "VALIDATION")
        assert message["error"]["errors"][0]["location"] == location
    future = consent.ok(
        "fetch_consent_transactions",
        account_id=account,
        start_date=(TODAY + timedelta(days=3)).isoformat(),
    )
    assert future == {"transactions": []}
    string_offset = consent.ok(
        "fetch_consent_transactions",
        account_id=account,
        start_date=start.isoformat(),
        url=url,
        offset="1000",
    )
    assert string_offset["transactions"][0] != big["transactions"][0]


def test_other_users_have_zero_to_three_transactions_a_day(wire: Wire) -> None:
    start = TODAY - timedelta(days=200)
    consent = wire.link("embedded", TODAY, from_date=start)
    for account in consent.accounts:
        rows, _ = consent.all_transactions(account["id"], start)
        per_day = Counter(r["booking_date"] for r in rows)
        assert max(per_day.values()) <= 3
        assert 100 < len(rows) < 500
    assert date.fromisoformat(consent.start) == start

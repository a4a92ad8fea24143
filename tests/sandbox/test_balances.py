"""PROTOCOL v1.1 over real HTTP: balances consistent with the transactions, and the
``late-booking`` user whose one late transaction the balance holds before the list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from conftest import TODAY
from sandbox_wire import Consent, Wire

from kosma_tui.sandbox import RunningPortal


def _signed(tx: dict[str, Any]) -> int:
    amount = tx["amount"]["amount"]
    return amount if tx["type"] == "CREDIT" else -amount


def _booked(consent: Consent, account: str) -> int:
    return consent.ok("fetch_consent_balances", account_id=account)["booked"]["amount"]


def _processed(consent: Consent, account: str, start: date) -> dict[str, int]:
    rows, _ = consent.all_transactions(account, start)
    return {r["transaction_id"]: _signed(r) for r in rows if r["state"] == "PROCESSED"}


def test_booked_balance_moves_by_the_processed_transactions(
    wire: Wire, portal: RunningPortal
) -> None:
    start = TODAY - timedelta(days=10)
    consent = wire.link("embedded", TODAY, from_date=start)
    for account in consent.accounts:
        first = _booked(consent, account["id"])
        assert account["balance"]["amount"] == first
        before = _processed(consent, account["id"], start)
        portal.today = TODAY + timedelta(days=9)
        later = _booked(consent, account["id"])
        after = _processed(consent, account["id"], start)
        moved = sum(v for k, v in after.items() if k not in before)
        assert moved != 0  # nine days of a demo account always move it
        assert later - first == moved
        # pending ones move only the available balance
        balances = consent.ok("fetch_consent_balances", account_id=account["id"])
        rows, _ = consent.all_transactions(account["id"], portal.today - timedelta(days=1))
        pending = sum(_signed(r) for r in rows if r["state"] == "PENDING")
        line = {"DEFAULT": 200_000, "CREDITCARD": 500_000}.get(account["account_type"], 0)
        assert balances["available"]["amount"] == later + pending + line
        portal.today = TODAY


def test_balances_outlive_the_portal_process(wire: Wire, portal: RunningPortal) -> None:
    consent = wire.link("embedded", TODAY)
    account = consent.accounts[0]["id"]
    first = _booked(consent, account)
    portal.stop()
    from kosma_tui.sandbox import start_portal

    with start_portal(portal.state_path, today=TODAY) as again:
        other = Wire(again.url)
        try:
            consent.wire = other
            assert _booked(consent, account) == first
        finally:
            other.close()


def test_late_booking_is_in_the_balance_before_it_is_listed(
    wire: Wire, portal: RunningPortal
) -> None:
    start = TODAY - timedelta(days=5)
    consent = wire.link("late-booking", TODAY, from_date=start)
    account = consent.accounts[0]["id"]
    known = _processed(consent, account, start)  # the consent's first read: TODAY
    opening = _booked(consent, account) - sum(known.values())
    missing: dict[int, int] = {}
    for days in range(1, 8):
        portal.today = TODAY + timedelta(days=days)
        listed = _processed(consent, account, start)
        missing[days] = _booked(consent, account) - opening - sum(listed.values())
    late = [d for d, m in missing.items() if m]
    # a hole of one transaction's amount for three days, then listed for good
    assert len(late) == 3 and late == list(range(late[0], late[0] + 3))
    assert len({missing[d] for d in late}) == 1
    portal.today = TODAY + timedelta(days=late[-1] + 1)
    rows, _ = consent.all_transactions(account, start)
    booked_day = (TODAY + timedelta(days=late[0])).isoformat()
    assert [r for r in rows if r["booking_date"] == booked_day and _signed(r) == missing[late[0]]]


def test_embedded_lists_every_transaction_on_time(wire: Wire, portal: RunningPortal) -> None:
    start = TODAY - timedelta(days=5)
    consent = wire.link("embedded", TODAY, from_date=start)
    account = consent.accounts[0]["id"]
    known = _processed(consent, account, start)
    opening = _booked(consent, account) - sum(known.values())
    for days in range(1, 6):
        portal.today = TODAY + timedelta(days=days)
        listed = _processed(consent, account, start)
        assert _booked(consent, account) - opening == sum(listed.values())


def test_small_pages_around_the_hidden_late_booking(wire: Wire, portal: RunningPortal) -> None:
    start = TODAY - timedelta(days=3)
    consent = wire.link("late-booking", TODAY, from_date=start)
    account = consent.accounts[0]["id"]
    consent.all_transactions(account, start)  # the first read: TODAY
    for days in range(1, 5):
        portal.today = TODAY + timedelta(days=days)
        whole, _ = consent.all_transactions(account, start)
        paged, pages = consent.all_transactions(account, start, preferred_pagination_size=2)
        assert pages > 2
        key = [(r["booking_date"], r["amount"]["amount"], r["type"]) for r in whole]
        assert [(r["booking_date"], r["amount"]["amount"], r["type"]) for r in paged] == key

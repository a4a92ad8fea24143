"""PROTOCOL v1.1 "Replaying a consent call": each rule, over real HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import TODAY
from sandbox_wire import Wire, body

from kosma_tui.sandbox import RunningPortal, start_portal


def _rid() -> str:
    return uuid.uuid4().hex


def _page(
    wire: Wire,
    consent_id: str,
    token: str,
    account: str,
    rid: str | None,
    method: str = "fetch_consent_transactions",
    **extra: object,
) -> httpx.Response:
    fields = {"consent_id": consent_id, "consent_token": token, **extra}
    if method == "fetch_consent_transactions":
        fields.update(
            account_id=account,
            start_date=(TODAY - timedelta(days=30)).isoformat(),
            preferred_pagination_size=5,
        )
    elif method == "fetch_consent_balances":
        fields.update(account_id=account)
    if rid is not None:
        fields["request_id"] = rid
    return wire.call(method, **fields)


def test_a_replay_returns_the_same_answer_and_counts_nothing(wire: Wire) -> None:
    consent = wire.link("many-transactions1000", TODAY, from_date=TODAY - timedelta(days=60))
    account = consent.accounts[0]["id"]
    rid = _rid()
    first = _page(wire, consent.id, consent.token, account, rid, ip=None)
    assert first.status_code == 200
    usage = wire.ok("fetch_subscription_details")[0]["usage"]
    again = _page(wire, consent.id, consent.token, account, rid, ip=None)
    assert again.status_code == 200 and again.content == first.content  # same token, same page
    assert wire.ok("fetch_subscription_details")[0]["usage"] == usage == 5
    # the unattended limit did not count the replay: 3 more first pages still pass
    token = body(first)["message"]["consent_token"]
    for _ in range(3):
        response = _page(wire, consent.id, token, account, _rid(), ip=None)
        assert response.status_code == 200, response.text
        token = body(response)["message"]["consent_token"]
    wire.error(
        _page(wire, consent.id, token, account, _rid(), ip=None), 400, "CONSENT.LIMIT_EXCEEDED"
    )


def test_an_error_answer_is_replayed_too(wire: Wire) -> None:
    start = TODAY - timedelta(days=10)
    consent = wire.link("embedded", TODAY, from_date=start)
    account = consent.accounts[0]["id"]
    rid = _rid()
    early = (start - timedelta(days=1)).isoformat()
    first = wire.call(
        "fetch_consent_transactions",
        consent_id=consent.id,
        consent_token=consent.token,
        account_id=account,
        start_date=early,
        request_id=rid,
    )
    message = wire.error(first, 400, "VALIDATION")
    again = wire.call(
        "fetch_consent_transactions",
        consent_id=consent.id,
        consent_token=consent.token,
        account_id=account,
        start_date=early,
        request_id=rid,
    )
    assert (again.status_code, again.content) == (400, first.content)
    consent.token = message["consent_token"]
    consent.ok("fetch_consent_accounts")


@pytest.mark.parametrize("change", ["missing", "other id", "other method"])
def test_the_consumed_token_otherwise_is_stale(wire: Wire, change: str) -> None:
    consent = wire.link("embedded", TODAY)
    account = consent.accounts[0]["id"]
    rid = _rid()
    first = _page(wire, consent.id, consent.token, account, rid, method="fetch_consent_balances")
    assert first.status_code == 200
    method = "fetch_consent_accounts" if change == "other method" else "fetch_consent_balances"
    other = {"missing": None, "other id": _rid(), "other method": rid}[change]
    response = _page(wire, consent.id, consent.token, account, other, method=method)
    message = wire.error(response, 400, "CONSENT.INVALID_TOKEN")
    assert "consent_token" not in message
    # the refusal disturbed nothing: the replay and the new token still work
    again = _page(wire, consent.id, consent.token, account, rid, method="fetch_consent_balances")
    assert again.content == first.content
    consent.token = body(first)["message"]["consent_token"]
    consent.ok("fetch_consent_accounts")


def test_the_replay_ends_once_the_new_token_is_used(wire: Wire) -> None:
    consent = wire.link("embedded", TODAY)
    rid = _rid()
    sent = consent.token
    first = wire.call(
        "fetch_consent_accounts", consent_id=consent.id, consent_token=sent, request_id=rid
    )
    consent.token = body(first)["message"]["consent_token"]
    consent.ok("fetch_consent_accounts")  # the new token is used (without request_id)
    stale = wire.call(
        "fetch_consent_accounts", consent_id=consent.id, consent_token=sent, request_id=rid
    )
    wire.error(stale, 400, "CONSENT.INVALID_TOKEN")


def test_a_call_without_request_id_cannot_be_replayed(wire: Wire) -> None:
    consent = wire.link("embedded", TODAY)
    sent = consent.token
    consent.ok("fetch_consent_accounts")
    for rid in (None, _rid()):
        fields = {} if rid is None else {"request_id": rid}
        wire.error(
            wire.call(
                "fetch_consent_accounts", consent_id=consent.id, consent_token=sent, **fields
            ),
            400,
            "CONSENT.INVALID_TOKEN",
        )


@pytest.mark.parametrize("bad", ["short", "x" * 65, "has space in it 123", 12345678901234567])
def test_a_malformed_request_id_is_refused_without_consuming_the_token(
    wire: Wire, bad: object
) -> None:
    consent = wire.link("embedded", TODAY)
    response = wire.call(
        "fetch_consent_accounts", consent_id=consent.id, consent_token=consent.token, request_id=bad
    )
    message = wire.error(response, 400, "VALIDATION")
    assert message["error"]["errors"][0]["location"] == "request_id"
    assert "consent_token" not in message
    consent.ok("fetch_consent_accounts")


def test_a_revoked_consent_is_not_replayed(wire: Wire, portal: RunningPortal) -> None:
    consent = wire.link("embedded", TODAY)
    rid = _rid()
    wire.call(
        "fetch_consent_accounts", consent_id=consent.id, consent_token=consent.token, request_id=rid
    )
    portal.revoke_consent(consent.id)
    wire.error(
        wire.call(
            "fetch_consent_accounts",
            consent_id=consent.id,
            consent_token=consent.token,
            request_id=rid,
        ),
        400,
        "CONSENT.REVOKED",
    )


def test_the_replay_survives_a_restart_and_the_state_file_holds_no_token(
    portal: RunningPortal, state_path: Path
) -> None:
    wire = Wire(portal.url)
    try:
        consent = wire.link("embedded", TODAY)
        rid = _rid()
        first = wire.call(
            "fetch_consent_accounts",
            consent_id=consent.id,
            consent_token=consent.token,
            request_id=rid,
        )
    finally:
        wire.close()
    portal.stop()
    fresh = body(first)["message"]["consent_token"]
    kept = state_path.read_bytes()
    assert fresh.encode() not in kept and consent.token.encode() not in kept
    assert b"Girokonto" not in kept  # the kept answer is sealed, not bank data in clear
    with start_portal(state_path, today=TODAY) as again:
        wire = Wire(again.url)
        try:
            replayed = wire.call(
                "fetch_consent_accounts",
                consent_id=consent.id,
                consent_token=consent.token,
                request_id=rid,
            )
            assert (replayed.status_code, replayed.content) == (200, first.content)
            consent.wire, consent.token = wire, fresh
            consent.ok("fetch_consent_accounts")
        finally:
            wire.close()

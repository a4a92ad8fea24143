"""revoke_consent (v1.1) over real HTTP: the consent ends at once and says so afterwards."""

from __future__ import annotations

from datetime import timedelta

from conftest import TODAY
from sandbox_wire import Wire, body

from kosma_tui.sandbox import RunningPortal


def test_revoke_ends_the_consent_and_later_calls_say_revoked(wire: Wire) -> None:
    consent = wire.link("embedded", TODAY)
    consent.ok("fetch_consent_accounts")  # a live, rotated token
    response = consent.call("revoke_consent")
    assert response.status_code == 200, response.text
    assert body(response) == {"message": {}}  # no new token: nothing is left to use
    for method, extra in (
        ("fetch_consent_accounts", {}),
        ("fetch_consent_balances", {"account_id": consent.accounts[0]["id"]}),
        ("revoke_consent", {}),
    ):
        message = wire.error(consent.call(method, **extra), 400, "CONSENT.REVOKED")
        assert "consent_token" not in message


def test_revoke_with_a_stale_token_changes_nothing(wire: Wire) -> None:
    consent = wire.link("embedded", TODAY)
    stale = consent.token
    consent.ok("fetch_consent_accounts")
    refused = wire.call("revoke_consent", consent_id=consent.id, consent_token=stale)
    wire.error(refused, 400, "CONSENT.INVALID_TOKEN")
    consent.ok("fetch_consent_accounts")  # still alive


def test_revoke_needs_its_fields_and_refuses_an_expired_consent(
    wire: Wire, portal: RunningPortal
) -> None:
    missing = wire.call("revoke_consent", consent_id="cns-x")
    assert (
        wire.error(missing, 400, "VALIDATION")["error"]["errors"][0]["location"] == "consent_token"
    )
    consent = wire.link("embedded", TODAY)
    portal.today = TODAY + timedelta(days=91)
    wire.error(consent.call("revoke_consent"), 400, "CONSENT.EXPIRED")

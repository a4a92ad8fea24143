"""The linking flow over real HTTP: forms, keyed steps, every username scenario."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest
from conftest import TODAY
from sandbox_wire import Flow, Wire, seal, values

from kosma_tui.sandbox import RunningPortal


def iban_valid(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def to_login(wire: Wire, *, country: str | None = None) -> tuple[Flow, dict]:
    flow = wire.start(TODAY - timedelta(days=30), TODAY, country)
    step = flow.step()
    if country is None:
        step = flow.submit(step, country_code="DE")
    step = flow.submit(step, bank_code="88888888")
    step = flow.submit(step, interface="PSD2")
    return flow, step


def test_embedded_flow_with_envelopes_links_three_accounts(wire: Wire) -> None:
    from_date = TODAY - timedelta(days=60)
    flow = wire.start(from_date, TODAY)
    assert flow.token["session_data"]["consent_scope"] == {
        "lifetime": 90,
        "transactions": {"from_date": from_date.isoformat(), "to_date": TODAY.isoformat()},
    }
    assert flow.token["flow_data"]["state"] == "CONSUMER_INPUT_NEEDED"

    step = flow.step()
    assert step["state"] == "CONSUMER_INPUT_NEEDED" and step["key"] is None
    countries = {o["value"]: o["label"] for o in step["form"]["elements"][1]["options"]}
    assert countries["DE"] == "Deutschland" and countries["AT"] == "Österreich"
    assert {"NL", "GB"} <= countries.keys()

    step = flow.submit(step, country_code="DE")
    banks = step["form"]["elements"][1]["options"]
    assert len(banks) >= 20
    demo = next(o for o in banks if o["value"] == "88888888")
    assert demo["label"] == "Demo Bank" and "TESTDE10XXX" in demo["description"]
    assert any(o["label"] == "Demo Sparkasse" and o["value"] == "88888889" for o in banks)

    step = flow.submit(step, bank_code="88888888")
    methods = [o["label"] for o in step["form"]["elements"][1]["options"]]
    assert "Demo Bank PSD2" in methods and len(methods) >= 2

    step = flow.submit(step, interface="PSD2")
    assert step["form"]["form_identifier"] == "login"
    assert step["key"].startswith("-----BEGIN PUBLIC KEY-----")
    inputs = {e["key"]: e for e in step["form"]["elements"] if e["type"] == "input"}
    assert inputs["USER_PASSWORD"]["password"] is True
    assert inputs["LOGINNAME"]["validator"]["required"] is True
    login_key = step["key"]
    assert flow.step()["key"] == login_key  # fetching the same step again: same key

    step = flow.submit(step, LOGINNAME="embedded", USER_PASSWORD="12345")
    assert step["form"]["form_identifier"] == "otp" and step["error"] is None
    assert step["key"] and step["key"] != login_key  # keys are per step

    step = flow.submit(step, TAN="12345")
    assert step == {
        "state": "FINISHED",
        "form": None,
        "key": None,
        "error": None,
        "poll_after_ms": None,
    }

    message = wire.ok("fetch_accounts_and_bank", session_id=flow.session_id, flow_id=flow.flow_id)
    assert message["state"] == "FINISHED"
    result = message["result"]
    assert result["bank_data"] == {
        "bank_name": "Demo Bank",
        "bank_code": "88888888",
        "country_code": "DE",
        "bic": "TESTDE10XXX",
    }
    accounts = result["accounts"]
    assert [a["alias"] for a in accounts] == ["Girokonto", "Tagesgeld", "Kreditkarte"]
    assert [a["account_type"] for a in accounts] == ["DEFAULT", "SAVING", "CREDITCARD"]
    for account in accounts:
        assert account["holder_name"] == "Max Mustermann"
        assert account["iban"].startswith("DE") and account["iban"][4:12] == "88888888"
        assert len(account["iban"]) == 22 and iban_valid(account["iban"])
        assert account["iban"].endswith(account["account_number"])
        assert account["balance"]["currency"] == "EUR"
        assert isinstance(account["balance"]["amount"], int)
        assert account["capabilities"]["transactions"]["available"] is True
        assert account["bic"] == "TESTDE10XXX" and account["bank_name"] == "Demo Bank"
    consent = result["consent_data"]
    assert consent["consent_start"] == from_date.isoformat()
    expiry = datetime.fromisoformat(consent["consent_expiry"])
    assert expiry.tzinfo is not None
    assert expiry.date() == TODAY + timedelta(days=90)

    assert wire.ok("end_session", session_id=flow.session_id) == {}
    assert wire.ok("end_session", session_id=flow.session_id) == {}  # idempotent
    ended = flow.call("get_flow_step")
    wire.error(ended, 400, "USER.SESSION.TIMEOUT")


def test_clear_data_to_a_keyed_step_is_refused(wire: Wire) -> None:
    flow, step = to_login(wire)
    response = flow.call(
        "submit_flow_step",
        form_identifier="login",
        data=values(LOGINNAME="embedded", USER_PASSWORD="12345"),
    )
    message = wire.error(response, 400, "VALIDATION")
    assert message["error"]["errors"][0]["location"] == "data"
    # an envelope sealed with someone else's key is refused too
    _, other = to_login(wire)
    response = flow.call(
        "submit_flow_step",
        form_identifier="login",
        envelope=seal(other["key"], "login", values(LOGINNAME="embedded", USER_PASSWORD="1")),
    )
    assert wire.error(response, 400, "VALIDATION")["error"]["errors"][0]["location"] == "envelope"
    # the step is still usable with a proper envelope
    assert flow.submit(step, LOGINNAME="embedded", USER_PASSWORD="12345")["state"] == (
        "CONSUMER_INPUT_NEEDED"
    )


def test_wrong_form_identifier_and_unknown_choice_are_refused(wire: Wire) -> None:
    flow = wire.start(TODAY, TODAY)
    flow.step()
    response = flow.call(
        "submit_flow_step", form_identifier="login", data=values(country_code="DE")
    )
    message = wire.error(response, 400, "VALIDATION")
    assert message["error"]["errors"][0]["location"] == "form_identifier"
    response = flow.call(
        "submit_flow_step", form_identifier="select-country", data=values(country_code="XX")
    )
    message = wire.error(response, 400, "VALIDATION")
    assert message["error"]["errors"][0]["location"] == "country_code"


def test_country_preselection_skips_the_country_step(wire: Wire) -> None:
    flow = wire.start(TODAY, TODAY, country="AT")
    step = flow.step()
    assert step["form"]["form_identifier"] == "select-bank"
    assert all(o["description"] for o in step["form"]["elements"][1]["options"])
    bad = wire.call(
        "get_client_token",
        current_flow="accounts",
        from_date=TODAY.isoformat(),
        to_date=TODAY.isoformat(),
        country_code="XX",
    )
    assert wire.error(bad, 400, "VALIDATION")["error"]["errors"][0]["location"] == "country_code"


def test_wrong_otp_three_times_blocks(wire: Wire) -> None:
    flow, step = to_login(wire)
    step = flow.submit(step, LOGINNAME="embedded", USER_PASSWORD="12345")
    keys = {step["key"]}
    step = flow.submit(step, TAN="99999")
    assert step["state"] == "CONSUMER_INPUT_NEEDED"
    assert step["form"]["form_identifier"] == "otp"
    assert "2 attempts left" in step["error"]["message"]
    keys.add(step["key"])
    step = flow.submit(step, TAN="11111")
    assert "1 attempt left" in step["error"]["message"]
    keys.add(step["key"])
    assert len(keys) == 3  # a fresh key for every step
    step = flow.submit(step, TAN="22222")
    assert step["state"] == "EXCEPTION"
    assert step["error"]["code"] == "USER.ACCESS_DENIED.BLOCKED"
    assert step["form"] is None and step["key"] is None
    refused = flow.send({"form": {"form_identifier": "otp"}, "key": None}, TAN="12345")
    wire.error(refused, 400, "VALIDATION")


def test_wrong_otp_then_right_one_finishes(wire: Wire) -> None:
    flow, step = to_login(wire)
    step = flow.submit(step, LOGINNAME="embedded", USER_PASSWORD="12345")
    step = flow.submit(step, TAN="54321")
    assert step["error"] is not None
    assert flow.submit(step, TAN="12345")["state"] == "FINISHED"


@pytest.mark.parametrize(
    ("username", "password", "state", "code"),
    [
        ("wrong", "12345", "EXCEPTION", "USER.ACCESS_DENIED.CREDENTIALS"),
        ("embedded", "00000", "EXCEPTION", "USER.ACCESS_DENIED.CREDENTIALS"),
        ("bank-maintenance", "12345", "EXCEPTION", "MAINTENANCE"),
        ("technical", "12345", "EXCEPTION", "TECHNICAL"),
    ],
)
def test_terminal_login_outcomes(
    wire: Wire, username: str, password: str, state: str, code: str
) -> None:
    flow, step = to_login(wire)
    step = flow.submit(step, LOGINNAME=username, USER_PASSWORD=password)
    assert step["state"] == state and step["error"]["code"] == code
    assert flow.step() == step  # terminal: stays so
    refused = flow.call("fetch_accounts_and_bank")
    wire.error(refused, 400, "VALIDATION")


def test_invalid_username_shows_the_login_form_again(wire: Wire) -> None:
    flow, step = to_login(wire)
    again = flow.submit(step, LOGINNAME="invalid", USER_PASSWORD="12345")
    assert again["state"] == "CONSUMER_INPUT_NEEDED"
    assert again["form"] == step["form"] and again["error"]["message"]
    assert again["key"] and again["key"] != step["key"]
    done = flow.submit(again, LOGINNAME="generate-new-accounts2", USER_PASSWORD="12345")
    assert done["state"] == "FINISHED"
    assert len(flow.finish().accounts) == 2


def test_decoupled_polls_then_finishes(wire: Wire) -> None:
    flow, step = to_login(wire)
    step = flow.submit(step, LOGINNAME="decoupled", USER_PASSWORD="12345")
    assert step["state"] == "PROCESSING" and step["poll_after_ms"] > 0 and step["key"] is None
    polls = 0
    while step["state"] == "PROCESSING":
        polls += 1
        step = flow.step()
    assert polls >= 2 and step["state"] == "FINISHED"
    assert len(flow.finish().accounts) == 3


def test_decoupled_abort(wire: Wire) -> None:
    flow, step = to_login(wire)
    step = flow.submit(step, LOGINNAME="Decoupled-Abort", USER_PASSWORD="12345")
    assert step["state"] == "PROCESSING"
    while step["state"] == "PROCESSING":
        step = flow.step()
    assert step["state"] == "ABORTED" and step["error"]["code"] == "USER.ABORTED"


@pytest.mark.parametrize("count", [0, 7, 100])
def test_generate_new_accounts(wire: Wire, count: int) -> None:
    consent = wire.link(f"generate-new-accounts{count}", TODAY)
    assert len(consent.accounts) == count
    assert len({a["iban"] for a in consent.accounts}) == count
    assert len({a["id"] for a in consent.accounts}) == count


def test_generate_more_than_100_accounts_is_refused_on_the_form(wire: Wire) -> None:
    flow, step = to_login(wire)
    step = flow.submit(step, LOGINNAME="generate-new-accounts101", USER_PASSWORD="12345")
    assert step["state"] == "CONSUMER_INPUT_NEEDED" and "100" in step["error"]["message"]


def test_slow_user_consent_calls_take_slow_seconds(wire: Wire, portal: RunningPortal) -> None:
    consent = wire.link("slow", TODAY)
    started = time.perf_counter()
    consent.ok("fetch_consent_accounts")
    assert time.perf_counter() - started >= portal.slow_seconds


def test_session_times_out_after_30_minutes(wire: Wire, portal: RunningPortal) -> None:
    flow, _step = to_login(wire)
    portal.today = TODAY + timedelta(days=1)
    wire.error(flow.call("get_flow_step"), 400, "USER.SESSION.TIMEOUT")


def test_flow_field_validation(wire: Wire) -> None:
    flow = wire.start(TODAY, TODAY)
    wrong_flow = wire.call("get_flow_step", session_id=flow.session_id, flow_id="nope")
    assert wire.error(wrong_flow, 400, "VALIDATION")["error"]["errors"][0]["location"] == "flow_id"
    unknown = wire.call("get_flow_step", session_id="nope", flow_id=flow.flow_id)
    wire.error(unknown, 400, "USER.SESSION.TIMEOUT")
    future = wire.call(
        "get_client_token",
        current_flow="accounts",
        from_date=(TODAY + timedelta(days=1)).isoformat(),
        to_date=TODAY.isoformat(),
    )
    assert wire.error(future, 400, "VALIDATION")["error"]["errors"][0]["location"] == "from_date"
    bad_date = wire.call(
        "get_client_token",
        current_flow="accounts",
        from_date="26.11.2026",
        to_date=TODAY.isoformat(),
    )
    assert wire.error(bad_date, 400, "VALIDATION")["error"]["errors"][0]["location"] == (
        "from_date"
    )
    assert wire.ok("end_session", session_id="never-existed") == {}


def test_other_countries_link_with_valid_ibans(wire: Wire) -> None:
    for country, bank, currency in (
        ("GB", "888888", "GBP"),
        ("FR", "88888", "EUR"),
        ("NL", "TEST", "EUR"),
        ("ES", "8888", "EUR"),
        ("AT", "88888", "EUR"),
    ):
        consent = wire.link("generate-new-accounts1", TODAY, country=country, bank=bank)
        account = consent.accounts[0]
        assert account["iban"].startswith(country) and iban_valid(account["iban"]), account
        assert account["balance"]["currency"] == currency
    assert date.fromisoformat(consent.start) == TODAY

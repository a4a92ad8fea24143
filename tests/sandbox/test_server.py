"""Transport, errors, state file, test hooks, determinism and the command."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import TODAY
from sandbox_wire import PREFIX, Wire

from kosma_tui.sandbox import RunningPortal, SandboxStateError, main, start_portal


def test_api_tokens_invalid_and_inactive(portal: RunningPortal) -> None:
    for token, status, code in (
        ("invalid", 401, "AUTH.INVALID_TOKEN"),
        ("inactive", 403, "PLAN.INACTIVE"),
    ):
        wire = Wire(portal.url, api_token=token)
        wire.error(wire.call("fetch_subscription_details"), status, code)
        wire.close()
    missing = httpx.post(portal.url + PREFIX + "fetch_subscription_details", json={})
    assert missing.status_code == 401
    assert missing.json()["message"]["error"]["code"] == "AUTH.INVALID_TOKEN"
    any_customer = Wire(portal.url, customer="someone-else", api_token="t0k3n")
    assert any_customer.ok("fetch_subscription_details")[0]["subscription_status"] == "Active"
    any_customer.close()


@pytest.mark.parametrize(
    "field", ["customer_id", "use_test_environment", "user_agent", "ip_address"]
)
def test_common_fields_are_required(wire: Wire, field: str) -> None:
    body = {
        "customer_id": "C",
        "use_test_environment": False,
        "user_agent": "t",
        "ip_address": None,
    }
    del body[field]
    response = wire.client.post(
        PREFIX + "fetch_subscription_details",
        json=body,
        headers={"Alyf-Banking-Authorization": "Token t"},
    )
    message = wire.error(response, 400, "VALIDATION")
    assert message["error"]["errors"] == [
        {"location": field, "message": message["error"]["errors"][0]["message"]}
    ]


def test_malformed_json_unknown_method_and_get(wire: Wire, portal: RunningPortal) -> None:
    headers = {"Alyf-Banking-Authorization": "Token t", "Content-Type": "application/json"}
    broken = wire.client.post(
        PREFIX + "fetch_subscription_details", content=b"{nope", headers=headers
    )
    assert wire.error(broken, 400, "VALIDATION")["error"]["errors"][0]["location"] == "body"
    not_object = wire.client.post(PREFIX + "end_session", content=b"[1]", headers=headers)
    wire.error(not_object, 400, "VALIDATION")
    unknown = wire.call("transfer_all_the_money")
    assert unknown.status_code == 404
    assert unknown.json()["message"]["error"]["code"].startswith("VALIDATION")
    outside = wire.client.post("/somewhere", json={})
    assert outside.status_code == 404
    got = wire.client.get(PREFIX + "fetch_subscription_details")
    assert got.status_code == 405 and "error" in got.json()["message"]
    billing = wire.ok("fetch_subscription_details")[0]["billing_portal"]
    assert httpx.get(billing).status_code == 200
    bad_ip = wire.call("fetch_subscription_details", ip="not-an-ip")
    wire.error(bad_ip, 400, "VALIDATION")


def test_fail_next_answers_503_and_429_then_recovers(wire: Wire, portal: RunningPortal) -> None:
    consent = wire.link("embedded", TODAY)
    portal.fail_next(2, status=503)
    portal.fail_next(1, status=429, retry_after=3)
    sent = consent.token
    for _ in range(2):
        wire.error(consent.call("fetch_consent_accounts"), 503, "MAINTENANCE")
    limited = consent.call("fetch_consent_accounts")
    message = wire.error(limited, 429, "RATE_LIMITED")
    assert limited.headers["Retry-After"] == "3" and "consent_token" not in message
    assert consent.token == sent  # a refused request consumed nothing
    consent.ok("fetch_consent_accounts")
    portal.fail_next(1, status=429)
    assert wire.call("fetch_subscription_details").headers["Retry-After"] == "1"
    with pytest.raises(ValueError):
        portal.fail_next(1, status=404)


def test_state_survives_a_restart_and_keeps_no_secrets(state_path: Path) -> None:
    with start_portal(state_path, today=TODAY) as first:
        wire = Wire(first.url)
        consent = wire.link("embedded", TODAY)
        flow = wire.start(TODAY, TODAY)
    with pytest.raises(httpx.TransportError):  # stopped: not even kept-alive connections
        wire.call("fetch_subscription_details")
    wire.close()
    content = state_path.read_text("utf-8")
    assert consent.token not in content and flow.session_id not in content
    assert stat.S_IMODE(state_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state_path.parent.stat().st_mode) == 0o700
    with start_portal(state_path, today=TODAY) as second:
        wire = Wire(second.url)
        consent.wire = wire
        assert (
            consent.ok("fetch_consent_accounts")["accounts"][0]["id"] == (consent.accounts[0]["id"])
        )
        assert flow.session_id
        wire.close()


def test_two_portals_serve_from_one_state_file(state_path: Path) -> None:
    with start_portal(state_path, today=TODAY) as a, start_portal(state_path, today=TODAY) as b:
        wire_a, wire_b = Wire(a.url), Wire(b.url)
        consent = wire_a.link("embedded", TODAY)
        account = consent.accounts[0]["id"]
        errors: list[str] = []

        def hammer(wire: Wire) -> None:
            for _ in range(20):
                response = wire.call("fetch_subscription_details")
                if response.status_code != 200:
                    errors.append(response.text)

        threads = [threading.Thread(target=hammer, args=(w,)) for w in (wire_a, wire_b)]
        for thread in threads:
            thread.start()
        for turn in range(10):  # the token moves between processes' portals
            consent.wire = wire_a if turn % 2 else wire_b
            consent.ok("fetch_consent_balances", account_id=account)
        for thread in threads:
            thread.join()
        assert errors == []
        wire_a.close()
        wire_b.close()


def test_data_is_deterministic_across_portals(tmp_path: Path) -> None:
    start = TODAY - timedelta(days=30)
    runs = []
    for name in ("one", "two"):
        with start_portal(tmp_path / name / "state.json", today=TODAY) as running:
            wire = Wire(running.url)
            consent = wire.link("embedded", TODAY, from_date=start)
            rows, _ = consent.all_transactions(consent.accounts[0]["id"], start)
            runs.append(
                ([a["iban"] for a in consent.accounts], [a["id"] for a in consent.accounts], rows)
            )
            wire.close()
    (ibans_1, ids_1, rows_1), (ibans_2, ids_2, rows_2) = runs
    assert ibans_1 == ibans_2
    assert rows_1 == rows_2 and rows_1
    assert set(ids_1).isdisjoint(ids_2)  # account ids are per consent


def test_a_corrupt_state_file_is_reported_and_left_alone(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text("{not json", "utf-8")
    with pytest.raises(SandboxStateError) as caught:
        start_portal(state_path)
    assert str(state_path) in str(caught.value)
    assert state_path.read_text("utf-8") == "{not json"


def test_main_refuses_bad_arguments_with_one_sentence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--today", "tomorrow"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "YYYY-MM-DD" in err
    assert main(["--port", "99999"]) == 2
    assert main(["--transaction-limit", "-5"]) == 2
    for lax in ("20261126", "2026-W48-4"):  # fromisoformat would take them
        assert main(["--today", lax]) == 2
        assert "YYYY-MM-DD" in capsys.readouterr().err


def test_main_serves_until_interrupted(tmp_path: Path) -> None:
    state = tmp_path / "cli" / "state.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from kosma_tui.sandbox import main; sys.exit(main(sys.argv[1:]))",
            "--port",
            "0",
            "--today",
            "2026-11-26",
            "--state",
            str(state),
            "--transaction-limit",
            "5000",
            "--verbose",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), first
        wire = Wire(url)
        details = wire.ok("fetch_subscription_details")[0]
        assert details["transaction_limit"] == 5000
        wire.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "fetch_subscription_details 200" in out
    assert state.exists()


def test_main_reports_a_busy_port(
    portal: RunningPortal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--port", str(portal.port), "--state", str(tmp_path / "s.json")])
    assert status == 2
    assert str(portal.port) in capsys.readouterr().err


def test_the_state_folder_is_private_under_umask_000_and_a_given_folder_keeps_its_mode(
    tmp_path: Path,
) -> None:
    from kosma_tui.sandbox.state import StateFile

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    old = os.umask(0)
    try:
        StateFile(tmp_path / "made" / "here" / "state.json")
        StateFile(shared / "state.json")
    finally:
        os.umask(old)
    for folder in (tmp_path / "made", tmp_path / "made" / "here"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # like /tmp: not the portal's


def test_a_state_file_in_a_shared_folder_leaves_the_folder_alone(tmp_path: Path) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    previous = os.umask(0o002)
    try:
        with start_portal(shared / "x.json", today=TODAY):
            pass
        with start_portal(shared / "new" / "deeper" / "x.json", today=TODAY):
            pass
    finally:
        os.umask(previous)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    for folder in (shared / "new", shared / "new" / "deeper"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "x.json").stat().st_mode) == 0o600

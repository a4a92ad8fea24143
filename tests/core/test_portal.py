"""The portal client.

Wire details, malformed answers and forced failures run against a tiny real
HTTP server on loopback that answers what each test scripts; the protocol
itself runs against the real Demo Bank portal (``demo_portal``).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kosma_tui.core.errors import (
    ConfigurationError,
    PortalError,
    PortalProtocolError,
    PortalUnreachable,
)
from kosma_tui.core.portal import NextPage, PortalClient, attended_ip

FAST = {"retries": 3, "backoff": 0.001}


# ---------------------------------------------------------------- scripted server


@dataclass
class Canned:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)


class Scripted:
    """A loopback HTTP server answering the scripted responses in order (last one repeats)."""

    def __init__(self) -> None:
        self.script: list[Canned] = []
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                scripted.requests.append((self.path, dict(self.headers), body))
                canned = scripted.script.pop(0) if len(scripted.script) > 1 else scripted.script[0]
                raw = canned.body if isinstance(canned.body, bytes) else json.dumps(canned.body)
                raw = raw.encode() if isinstance(raw, str) else raw
                self.send_response(canned.status)
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, *responses: Canned) -> None:
        self.script = list(responses)

    def ok(self, message: Any) -> Canned:
        return Canned(200, {"message": message})

    def client(self, **options: Any) -> PortalClient:
        options.setdefault("ip_address", "203.0.113.7")
        return PortalClient(self.url, "cust-1", "tok-1", **{**FAST, **options})


def failure(status: int, code: str, token: str | None = None, **extra: Any) -> Canned:
    message: dict[str, Any] = {"error": {"code": code, "message": "portal says no", **extra}}
    if token:
        message["consent_token"] = token
    return Canned(status, {"message": message})


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    yield server
    server.server.shutdown()
    server.server.server_close()


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "url",
    ["http://portal.example.com", "http://10.0.0.1:8000", "http://127.example.com", "ftp://x", "x"],
)
def test_plain_http_to_another_machine_and_non_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        PortalClient(url, "c", "t", ip_address=None)
    assert "Banking Settings" in info.value.sentence()


@pytest.mark.parametrize(
    "url",
    [
        "https://portal.example.com/",
        "http://127.0.0.1:8000",
        "http://127.8.9.10",
        "http://localhost:8000/",
        "http://[::1]:8000",
    ],
)
async def test_https_and_loopback_http_are_accepted(url: str) -> None:
    async with PortalClient(url, "c", "t", ip_address=None) as client:
        assert not client.admin_url.endswith("/")


def test_attended_ip_is_the_ssh_client_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_CLIENT", "198.51.100.23 52144 22")
    assert attended_ip() == "198.51.100.23"
    monkeypatch.setenv("SSH_CLIENT", "2001:db8::5 52144 22")
    assert attended_ip() == "2001:db8::5"
    monkeypatch.setenv("SSH_CLIENT", "garbage")
    assert attended_ip() == "127.0.0.1"
    monkeypatch.delenv("SSH_CLIENT")
    assert attended_ip() == "127.0.0.1"


# ---------------------------------------------------------------- wire


async def test_every_body_carries_the_identity_and_the_token_header(scripted: Scripted) -> None:
    scripted.answer(scripted.ok({}))
    async with scripted.client(use_test_environment=True) as client:
        await client.end_session("sess-9")
    async with scripted.client(ip_address=None, user_agent="kosma-tui/test") as client:
        await client.end_session("sess-9")
    (path, headers, attended), (_, _, unattended) = scripted.requests
    assert path == "/api/method/banking_admin.api.end_session"
    assert headers["Alyf-Banking-Authorization"] == "Token tok-1"
    assert headers["Content-Type"] == "application/json"
    assert attended == {
        "customer_id": "cust-1",
        "use_test_environment": True,
        "user_agent": attended["user_agent"],
        "ip_address": "203.0.113.7",
        "session_id": "sess-9",
    }
    assert attended["user_agent"].startswith("kosma-tui/")
    assert unattended["ip_address"] is None and unattended["user_agent"] == "kosma-tui/test"
    assert unattended["use_test_environment"] is False


async def test_next_page_request_echoes_url_and_offset(scripted: Scripted) -> None:
    scripted.answer(scripted.ok({"result": {"transactions": []}, "consent_token": "t2"}))
    async with scripted.client() as client:
        page = await client.fetch_consent_transactions(
            "c1", "t1", "a1", date(2025, 1, 2), date(2025, 3, 4), 5000, NextPage("u", 7)
        )
    assert page.consent_token == "t2" and page.result.next is None
    body = scripted.requests[0][2]
    assert body["consent_id"] == "c1" and body["consent_token"] == "t1"
    assert body["start_date"] == "2025-01-02" and body["to_date"] == "2025-03-04"
    assert body["preferred_pagination_size"] == 1000  # at most 1000
    assert (body["url"], body["offset"]) == ("u", 7)


# ---------------------------------------------------------------- malformed answers


def bad_answers() -> list[tuple[str, Canned]]:
    account = {"id": "a", "iban": "DE00"}
    return [
        ("subscription", Canned(200, b"<html>oops</html>")),
        ("subscription", Canned(200, {"msg": []})),
        ("subscription", Canned(200, {"message": {"full_name": "x"}})),
        ("subscription", Canned(200, {"message": [{"usage": "12"}]})),
        ("subscription", Canned(200, [1, 2])),
        ("token", Canned(200, {"message": {"session_data": {}}})),
        ("token", Canned(200, {"message": {"session_data": None, "flow_data": {}}})),
        ("step", Canned(200, {"message": {"state": "WHATEVER"}})),
        ("step", Canned(200, {"message": None})),
        ("link", Canned(200, {"message": {"result": {"accounts": [account]}}})),
        ("accounts", Canned(200, {"message": {"result": {"accounts": [account]}}})),  # no token
        ("accounts", Canned(200, {"message": {"result": {}, "consent_token": "t2"}})),
        (
            "accounts",
            Canned(200, {"message": {"result": {"accounts": [{}]}, "consent_token": "t"}}),
        ),
        (
            "accounts",
            Canned(
                200,
                {
                    "message": {
                        "result": {
                            "accounts": [{**account, "balance": {"amount": 1.5, "currency": "EUR"}}]
                        },
                        "consent_token": "t",
                    }
                },
            ),
        ),
        (
            "balances",
            Canned(200, {"message": {"result": {"booked": {"amount": 1}}, "consent_token": "t"}}),
        ),
        (
            "transactions",
            Canned(200, {"message": {"result": {"transactions": {}}, "consent_token": "t"}}),
        ),
        (
            "transactions",
            Canned(200, {"message": {"result": {"transactions": [1]}, "consent_token": "t"}}),
        ),
        (
            "transactions",
            Canned(
                200,
                {
                    "message": {
                        "result": {"transactions": [], "pagination": {"url": "u", "next": {}}},
                        "consent_token": "t",
                    }
                },
            ),
        ),
        ("transactions", Canned(404, b"Not Found")),
        ("transactions", Canned(400, {"message": {"error": "VALIDATION"}})),
        ("transactions", Canned(302, b"", {"Location": "https://elsewhere"})),
    ]


async def call(client: PortalClient, which: str) -> Any:
    if which == "subscription":
        return await client.fetch_subscription_details()
    if which == "token":
        return await client.get_client_token(date(2025, 1, 1), date(2025, 1, 2))
    if which == "step":
        return await client.get_flow_step("s", "f")
    if which == "link":
        return await client.fetch_accounts_and_bank("s", "f")
    if which == "accounts":
        return await client.fetch_consent_accounts("c", "t1")
    if which == "balances":
        return await client.fetch_consent_balances("c", "t1", "a")
    return await client.fetch_consent_transactions("c", "t1", "a", date(2025, 1, 1))


@pytest.mark.parametrize(("which", "answer"), bad_answers())
async def test_malformed_answers_are_protocol_errors(
    scripted: Scripted, which: str, answer: Canned
) -> None:
    scripted.answer(answer)
    async with scripted.client() as client:
        with pytest.raises(PortalProtocolError) as info:
            await call(client, which)
    assert "cannot read" in info.value.message
    assert len(scripted.requests) == 1  # nothing to retry in a 200 or a 4xx


async def test_a_malformed_consent_answer_still_hands_over_the_new_token(
    scripted: Scripted,
) -> None:
    scripted.answer(scripted.ok({"result": {"accounts": "none"}, "consent_token": "fresh"}))
    async with scripted.client() as client:
        with pytest.raises(PortalProtocolError) as info:
            await client.fetch_consent_accounts("c", "old")
    assert info.value.consent_token == "fresh"


async def test_portal_errors_carry_code_fields_token_and_sentence(scripted: Scripted) -> None:
    errors = [{"location": "start_date", "message": "before the consent start"}]
    scripted.answer(failure(400, "VALIDATION", "fresh", errors=errors))
    async with scripted.client() as client:
        with pytest.raises(PortalError) as info:
            await client.fetch_consent_transactions("c", "t1", "a", date(2020, 1, 1))
    error = info.value
    assert (error.code, error.family, error.http_status) == ("VALIDATION", "VALIDATION", 400)
    assert error.consent_token == "fresh"
    assert [(e.location, e.message) for e in error.errors] == [
        ("start_date", "before the consent start")
    ]
    assert error.portal_message == "portal says no"
    assert "start_date" in error.message and error.remedy


# ---------------------------------------------------------------- retries


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "VALIDATION"), (401, "AUTH.INVALID_TOKEN"), (403, "PLAN.INACTIVE"), (404, "X")],
)
async def test_4xx_is_not_retried(scripted: Scripted, status: int, code: str) -> None:
    scripted.answer(failure(status, code), scripted.ok({}))
    async with scripted.client() as client:
        with pytest.raises(PortalError) as info:
            await client.end_session("s")
    assert info.value.code == code and info.value.http_status == status
    assert len(scripted.requests) == 1


async def test_5xx_is_retried_until_it_succeeds(scripted: Scripted) -> None:
    scripted.answer(
        failure(503, "MAINTENANCE"),
        Canned(502, b"Bad Gateway"),
        failure(500, "TECHNICAL"),
        scripted.ok({}),
    )
    async with scripted.client(retries=3) as client:
        await client.end_session("s")
    assert len(scripted.requests) == 4


async def test_5xx_after_the_last_retry_is_the_portal_error(scripted: Scripted) -> None:
    scripted.answer(failure(503, "MAINTENANCE", None))
    async with scripted.client(retries=2) as client:
        with pytest.raises(PortalError) as info:
            await client.end_session("s")
    assert info.value.code == "MAINTENANCE" and info.value.http_status == 503
    assert info.value.message == "The bank is in maintenance."
    assert len(scripted.requests) == 3


async def test_429_waits_for_retry_after(scripted: Scripted) -> None:
    scripted.answer(
        Canned(429, {"message": {"error": {"code": "RATE_LIMITED"}}}, {"Retry-After": "0.4"}),
        scripted.ok({}),
    )
    async with scripted.client() as client:
        started = time.monotonic()
        await client.end_session("s")
        waited = time.monotonic() - started
    assert len(scripted.requests) == 2
    assert waited >= 0.4


async def test_retry_after_is_capped(scripted: Scripted) -> None:
    scripted.answer(
        Canned(429, {"message": {"error": {"code": "RATE_LIMITED"}}}, {"Retry-After": "3600"}),
    )
    async with scripted.client(retries=1, max_retry_after=0.05) as client:
        started = time.monotonic()
        with pytest.raises(PortalError) as info:
            await client.end_session("s")
    assert time.monotonic() - started < 2
    assert info.value.code == "RATE_LIMITED" and info.value.retry_after == 3600
    assert len(scripted.requests) == 2


async def test_a_consent_retry_uses_the_token_rotated_by_the_failed_call(
    scripted: Scripted,
) -> None:
    scripted.answer(
        failure(503, "TECHNICAL", "t2"),
        failure(500, "TECHNICAL"),  # no token: the portal did not rotate it
        failure(503, "TECHNICAL", "t3"),
        scripted.ok({"result": {"accounts": []}, "consent_token": "t4"}),
    )
    async with scripted.client() as client:
        rotated = await client.fetch_consent_accounts("c", "t1")
    sent = [body["consent_token"] for _, _, body in scripted.requests]
    assert sent == ["t1", "t2", "t2", "t3"]
    assert rotated.consent_token == "t4" and rotated.result == []


async def test_giving_up_hands_over_the_newest_token(scripted: Scripted) -> None:
    scripted.answer(failure(503, "TECHNICAL", "t2"), failure(503, "TECHNICAL"))
    async with scripted.client(retries=2) as client:
        with pytest.raises(PortalError) as info:
            await client.fetch_consent_balances("c", "t1", "a")
    assert info.value.consent_token == "t2"


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retried_then_unreachable() -> None:
    transport = Counting()
    url = f"http://127.0.0.1:{free_port()}"
    async with PortalClient(url, "c", "t", ip_address=None, transport=transport, **FAST) as client:
        with pytest.raises(PortalUnreachable) as info:
            await client.fetch_subscription_details()
    assert transport.calls == 4
    assert info.value.message == "The banking portal could not be reached (connection failed)."
    assert "admin URL" in info.value.remedy


async def test_a_portal_that_never_answers_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        async with PortalClient(
            url, "c", "t", ip_address=None, timeout=0.2, retries=1, backoff=0.001
        ) as client:
            started = time.monotonic()
            with pytest.raises(PortalUnreachable, match=r"no answer within 0.2 s"):
                await client.end_session("s")
    assert time.monotonic() - started < 3


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_an_untrusted_certificate_is_refused_without_retry(tmp_path: Path) -> None:
    server = Scripted()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(tmp_path))
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.answer(server.ok({}))
    url = f"https://localhost:{server.server.server_address[1]}"
    transport = Counting()
    try:
        async with PortalClient(url, "c", "t", ip_address=None, transport=transport, **FAST) as c:
            with pytest.raises(PortalUnreachable, match="TLS certificate was not accepted"):
                await c.end_session("s")
    finally:
        server.server.shutdown()
        server.server.server_close()
    assert transport.calls == 1 and server.requests == []

"""The HTTP side: a threaded server on loopback, and ``start_portal``.

``POST /api/method/banking_admin.api.<method>`` with a JSON body; answers
``{"message": ...}`` with 200, or the protocol's error shape with its
status. ``GET /billing`` is the (empty) billing portal the subscription
details link to. Request logging is off unless asked for (an embedded portal
must not write into the TUI's terminal).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import deque
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from kosma_tui.sandbox.api import METHOD_PREFIX, Portal
from kosma_tui.sandbox.call import PortalConfig
from kosma_tui.sandbox.clock import PortalClock
from kosma_tui.sandbox.errors import PortalFailure, SandboxStateError
from kosma_tui.sandbox.replay import Answer
from kosma_tui.sandbox.state import StateFile

API_PATH = "/api/method/"
MAX_BODY = 1 << 20
_HOOK_CODES = {429: "RATE_LIMITED", 500: "TECHNICAL", 502: "BANK", 503: "MAINTENANCE"}

log = logging.getLogger("kosma_tui.sandbox")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    portal: Portal
    public_url: str
    log_requests: bool

    def __init__(self, address: tuple[str, int], ipv6: bool) -> None:
        if ipv6:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.failures: deque[tuple[int, int | None]] = deque()
        self.failures_lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer is normal (a killed sync, a timeout); the
        # default prints a traceback to stderr, which would scribble over the TUI.
        log.debug("request from %s ended abnormally", client_address, exc_info=True)

    def close_connections(self) -> None:
        """A stopped portal answers nothing, not even on kept-alive connections."""
        with self.connections_lock:
            open_now = list(self.connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def next_failure(self) -> tuple[int, int | None] | None:
        with self.failures_lock:
            return self.failures.popleft() if self.failures else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are logged by _log, without the client's details

    def _log(self, what: str, status: int, started: float) -> None:
        if self.server.log_requests:
            elapsed = (time.perf_counter() - started) * 1000
            print(f"{self.command} {what} {status} {elapsed:.0f} ms", flush=True)

    def _send(
        self,
        status: int,
        payload: object,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _fail(self, failure: PortalFailure) -> None:
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        self._send(failure.status, failure.body(), headers)

    def _read_body(self) -> bytes | None:
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            self.close_connection = True
            return b""
        length = int(length_text)
        if length > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length)

    def do_POST(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?", 1)[0]
        method = (
            path[len(API_PATH) + len(METHOD_PREFIX) :]
            if path.startswith(API_PATH + METHOD_PREFIX)
            else path
        )
        raw = self._read_body()
        status = 200
        try:
            hook = self.server.next_failure()
            if hook is not None:
                raise _hook_failure(*hook)
            if raw is None:
                raise PortalFailure(
                    "VALIDATION",
                    "The request body is larger than 1 MiB.",
                    status=413,
                    errors=[{"location": "body", "message": "Too large."}],
                )
            if not path.startswith(API_PATH + METHOD_PREFIX):
                raise PortalFailure(
                    "VALIDATION.UNKNOWN_METHOD",
                    f"There is no method at {path}.",
                    status=404,
                    errors=[{"location": "method", "message": "Unknown method."}],
                )
            host = self.headers.get("Host")
            base_url = f"http://{host}" if host else self.server.public_url
            payload = self.server.portal.handle(
                method, self.headers.get("Alyf-Banking-Authorization"), raw, base_url
            )
            if isinstance(payload, Answer):  # a consent call: sent as kept for a replay
                status = payload.status
                self._send(payload.status, payload.body, payload.headers)
            else:
                self._send(200, {"message": payload})
        except PortalFailure as failure:
            status = failure.status
            self._fail(failure)
        except SandboxStateError as exc:
            status = 500
            log.error("%s", exc)
            self._fail(PortalFailure("TECHNICAL", str(exc)))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        except Exception:
            status = 500
            log.exception("The Demo Bank portal failed on %s", method)
            self._fail(PortalFailure("TECHNICAL", "The Demo Bank portal failed unexpectedly."))
        self._log(method, status, started)

    def do_GET(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?", 1)[0]
        if path == "/billing":
            page = (
                b"<!doctype html><meta charset=utf-8><title>Demo Bank billing</title>"
                b"<p>This is the Demo Bank portal of kosma-tui: there is nothing to pay.</p>"
            )
            self._send(200, page, content_type="text/html; charset=utf-8")
            status = 200
        elif path.startswith(API_PATH):
            status = 405
            self._send(
                405,
                PortalFailure(
                    "VALIDATION.METHOD_NOT_ALLOWED", "Methods are called with POST.", status=405
                ).body(),
                {"Allow": "POST"},
            )
        else:
            status = 404
            self._send(
                404,
                PortalFailure(
                    "VALIDATION.UNKNOWN_METHOD", f"There is nothing at {path}.", status=404
                ).body(),
            )
        self._log(path, status, started)


def _hook_failure(status: int, retry_after: int | None) -> PortalFailure:
    code = _HOOK_CODES[status]
    return PortalFailure(
        code,
        "The Demo Bank portal was told to fail this request (test hook).",
        status=status,
        retry_after=retry_after,
    )


class RunningPortal:
    """A Demo Bank portal serving in a daemon thread; ``with`` stops it."""

    def __init__(
        self,
        server: _Server,
        thread: threading.Thread,
        clock: PortalClock,
        config: PortalConfig,
        state: StateFile,
    ) -> None:
        self._server = server
        self._thread = thread
        self._clock = clock
        self._config = config
        self._state = state
        self.state_path = state.path
        self.port: int = server.server_address[1]
        self.url: str = server.public_url
        self._stopped = False

    @property
    def today(self) -> date | None:
        """The portal's date; None follows the real local date. Settable (time travel)."""
        return self._clock.fixed_today

    @today.setter
    def today(self, value: date | None) -> None:
        self._clock.fixed_today = value

    @property
    def transaction_limit(self) -> int:
        return self._config.transaction_limit

    @transaction_limit.setter
    def transaction_limit(self, value: int) -> None:
        self._config.transaction_limit = value

    @property
    def slow_seconds(self) -> float:
        return self._config.slow_seconds

    @slow_seconds.setter
    def slow_seconds(self, value: float) -> None:
        self._config.slow_seconds = value

    def fail_next(self, count: int = 1, status: int = 503, retry_after: int | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (503 MAINTENANCE, 429
        RATE_LIMITED, 500 TECHNICAL or 502 BANK) before looking at them. 429 always
        carries ``Retry-After`` (``retry_after``, default 1); the others only when given."""
        if status not in _HOOK_CODES:
            raise ValueError(f"fail_next supports the statuses {sorted(_HOOK_CODES)}")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._server.failures_lock:
            self._server.failures.extend([(status, retry_after)] * count)

    def revoke_consent(self, consent_id: str) -> None:
        """Withdraw a consent "at the bank": its calls fail with CONSENT.REVOKED."""
        with self._state.update() as content:
            if consent_id in content["consents"]:
                content["consents"][consent_id]["revoked"] = True

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningPortal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_portal(
    state_path: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    today: date | None = None,
    transaction_limit: int = 1_000_000,
    slow_seconds: float = 2.0,
    log_requests: bool = False,
) -> RunningPortal:
    """Start the Demo Bank portal in a daemon thread.

    Raises ``SandboxStateError`` when the state file is unusable (corrupt,
    unreadable) and ``OSError`` when ``host``/``port`` cannot be bound.
    """
    state = StateFile(Path(state_path))
    clock = PortalClock(today)
    config = PortalConfig(transaction_limit=transaction_limit, slow_seconds=slow_seconds)
    ipv6 = ":" in host
    server = _Server((host, port), ipv6)
    bound_port = server.server_address[1]
    server.portal = Portal(state, clock, config)
    server.public_url = f"http://[{host}]:{bound_port}" if ipv6 else f"http://{host}:{bound_port}"
    server.log_requests = log_requests
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"demo-bank-portal-{bound_port}",
        daemon=True,
    )
    thread.start()
    return RunningPortal(server, thread, clock, config, state)

"""A hostile banking portal on loopback: a proxy in front of the Demo Bank portal.

Calls pass through to the real Demo Bank portal (so linking, tokens and
consents behave for real) until a mode is set; then the answers of the
methods named in ``methods`` misbehave:

- ``page-loop``: the next-page cursor points back to the page just read;
- ``page-loop-fresh``: every cursor is new, but each leads to the same page;
- ``trickle``: the answer arrives one byte every ``trickle_seconds`` (the call
  never reaches the Demo Bank portal, so no token rotates);
- ``oversize``: an answer of ``oversize_bytes`` (declared with Content-Length,
  or close-delimited with ``declare=False``), never forwarded either;
- ``control``: every text of the answer carries ESC, BEL, NUL, CR, DEL, C1
  and bidi controls;
- ``field-error``: a ``VALIDATION`` error whose texts carry those controls
  (never forwarded);
- ``lost-reply`` / ``slow-reply``: the submissions of the forms named in
  ``lose_forms`` reach the Demo Bank portal (which takes them), but the answer
  is dropped (the connection closed) or held ``slow_seconds``, once per form;
- ``impossible-dates``: the first transaction of a page is booked on
  ``bad_date``;
- ``value-before-booking``: every value date is the day before its booking date.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson

API_PATH = "/api/method/banking_admin.api."
AUTH = "Alyf-Banking-Authorization"
NASTY = "\x1b[31m\x07\x00\r\x7f\x9b\u202e\u2066"  # ESC, BEL, NUL, CR, DEL, CSI, RLO, LRI


def poison(value: Any) -> Any:
    """Every text inside ``value`` with the control characters glued on; ids too."""
    if isinstance(value, str):
        return value + NASTY if value else NASTY
    if isinstance(value, list):
        return [poison(item) for item in value]
    if isinstance(value, dict):
        return {key: _poison_field(key, item) for key, item in value.items()}
    return value


# Fields the protocol itself needs intact to keep working (tokens, cursors, enums,
# dates); everything else is bank or portal text and gets the controls.
_KEEP = {
    "consent_token",
    "consent_id",
    "url",
    "offset",
    "state",
    "type",
    "session_id",
    "flow_id",
    "booking_date",
    "value_date",
    "date",
    "account_id",
    "id",
    "code",
    "key",
    "form_identifier",
    "poll_after_ms",
    "amount",
}


def _poison_field(key: str, value: Any) -> Any:
    if key in _KEEP and not isinstance(value, dict | list):
        return value
    return poison(value)


class HostilePortal:
    """``with HostilePortal(demo_portal.url) as hostile: hostile.mode = "page-loop"``"""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = ""
        self.methods: set[str] = {"fetch_consent_transactions"}
        self.trickle_seconds = 0.5
        self.oversize_bytes = 75 * 2**20
        self.declare = True
        self.bad_date = "2026-11-31"
        self.lose_forms: set[str] = set()
        self.slow_seconds = 3.0
        self.calls: list[str] = []
        self.sent_bytes = 0  # of the last oversize answer, as far as the client took it
        self.stopping = threading.Event()
        self._fresh: dict[str, Any] = {}  # fake cursor -> the real one
        self._http = httpx.Client(timeout=30)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HostilePortal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._http.close()

    def count(self, method: str) -> int:
        return self.calls.count(method)

    # -- answers ------------------------------------------------------------

    def forward(self, method: str, body: dict[str, Any], auth: str) -> tuple[int, Any]:
        response = self._http.post(
            self.upstream + API_PATH + method,
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json", AUTH: auth},
        )
        return response.status_code, orjson.loads(response.content)

    def answer(self, method: str, body: dict[str, Any], auth: str) -> tuple[int, Any]:
        mode = self.mode if method in self.methods else ""
        asked = body.get("offset")
        if mode == "page-loop-fresh" and isinstance(asked, str) and asked in self._fresh:
            body = {**body, "offset": self._fresh[asked]}
        status, answer = self.forward(method, body, auth)
        if status != 200 or not mode:
            return status, answer
        message = answer["message"]
        result = message.get("result") if isinstance(message, dict) else None
        if mode == "control":
            return status, {"message": poison(message)}
        if mode in ("page-loop", "page-loop-fresh") and result and result.get("pagination"):
            following = result["pagination"]["next"]
            if mode == "page-loop" and asked is not None:
                following["offset"] = asked  # back to the page just read
            elif mode == "page-loop-fresh":
                fake = f"fresh-{len(self._fresh)}"
                self._fresh[fake] = body.get("offset") or following["offset"]
                following["offset"] = fake
        if mode == "impossible-dates" and result and result.get("transactions"):
            first = result["transactions"][0]
            first["booking_date"] = first["value_date"] = self.bad_date
            first.pop("date", None)
        if mode == "value-before-booking" and result:
            for tx in result.get("transactions", []):
                booked = date.fromisoformat(tx["booking_date"])
                tx["value_date"] = (booked - timedelta(days=1)).isoformat()
        return status, answer


def _handler(hostile: HostilePortal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            method = self.path.removeprefix(API_PATH)
            body = orjson.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            hostile.calls.append(method)
            mode = hostile.mode if method in hostile.methods else ""
            if mode == "trickle":
                return self.trickle()
            if mode == "oversize":
                return self.oversize()
            form = body.get("form_identifier")
            if mode in ("lost-reply", "slow-reply") and form in hostile.lose_forms:
                hostile.lose_forms.discard(form)
                status, answer = hostile.forward(method, body, self.headers.get(AUTH, ""))
                if mode == "lost-reply":
                    self.close_connection = True  # no answer at all
                    return None
                hostile.stopping.wait(hostile.slow_seconds)
            elif mode == "field-error":
                status, answer = (
                    400,
                    {
                        "message": {
                            "error": {
                                "code": "VALIDATION",
                                "message": "refused" + NASTY,
                                "errors": [
                                    {"location": "start_date" + NASTY, "message": "bad" + NASTY}
                                ],
                            }
                        }
                    },
                )
            else:
                status, answer = hostile.answer(method, body, self.headers.get(AUTH, ""))
            data = orjson.dumps(answer)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def trickle(self) -> None:
            data = b'{"message": {}}' + b" " * 4096
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.flush()
            for byte in data:
                if hostile.stopping.wait(hostile.trickle_seconds):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return

        def oversize(self) -> None:
            chunk = b'{"message": {"result": {"transactions": [' + b" " * (2**16 - 41)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if hostile.declare:
                self.send_header("Content-Length", str(hostile.oversize_bytes))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            hostile.sent_bytes = 0
            try:
                while hostile.sent_bytes < hostile.oversize_bytes:
                    self.wfile.write(chunk)
                    hostile.sent_bytes += len(chunk)
            except OSError:
                return

    return Handler

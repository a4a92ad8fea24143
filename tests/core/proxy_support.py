"""A loopback HTTP proxy in front of the Demo Bank portal, for failure tests.

It forwards every POST to the portal, and can instead

- hold the Nth request (``hold_at``): it never reaches the portal, so a kill
  then is a kill "between pages" (every rotated token was answered);
- hold the answer of the Nth request (``hold_answer_at``, or the first that
  ``hold_answer`` picks) until ``release``:
  the portal has processed the call (rotated the token), the client waits
  for the answer, so a signal then lands in the middle of a consent call;
- drop the answer of chosen requests (``drop``): the portal processes the
  call (and rotates the token), then the client's connection is closed with
  no reply, as when an answer is lost to a reset connection or a timeout.

Every request is recorded as (number, method, body) for assertions.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

Drop = Callable[[int, str, dict[str, Any]], bool]


class PortalProxy:
    def __init__(
        self,
        target: str,
        hold_at: int | None = None,
        drop: Drop | None = None,
        hold_answer_at: int | None = None,
        hold_answer: Drop | None = None,
    ) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.held = threading.Event()
        self.release = threading.Event()
        self.count = 0
        self.requests: list[tuple[int, str, dict[str, Any]]] = []
        self.dropped: list[int] = []
        lock = threading.Lock()
        host = urlsplit(target)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit(".", 1)[-1]
                try:
                    fields = orjson.loads(body)
                except orjson.JSONDecodeError:
                    fields = {}
                with lock:
                    proxy.count += 1
                    number = proxy.count
                    proxy.requests.append((number, method, fields))
                if number == hold_at:
                    proxy.held.set()
                    proxy.release.wait(30)
                    self.close_connection = True
                    return
                connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                connection.request("POST", self.path, body, headers)
                answer = connection.getresponse()
                data = answer.read()
                connection.close()
                if number == hold_answer_at or (
                    hold_answer is not None
                    and not proxy.held.is_set()
                    and hold_answer(number, method, fields)
                ):
                    proxy.held.set()
                    proxy.release.wait(30)
                if drop is not None and drop(number, method, fields):
                    with lock:
                        proxy.dropped.append(number)
                    self.close_connection = True  # processed by the portal, answer lost
                    return
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

"""The HTTP side of the portal client: one bounded POST at a time.

Every exchange is bounded: a read timeout between bytes, an overall deadline
for the whole answer (a portal trickling one byte every few seconds never
trips the read timeout), and a cap on the answer's size, read as a stream so
an oversize answer is refused without being held in memory. Retrying is the
client's business (``core.retry``); this module only says what went wrong.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

import httpx

from kosma_tui.core.portal.trust import trust_context

AUTH_HEADER = "Alyf-Banking-Authorization"
METHOD_PREFIX = "/api/method/banking_admin.api."
# A full page of 1000 transactions is about 1 MB; 16 MB leaves room for verbose banks.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# One whole exchange (connect, send, every byte of the answer), per attempt.
CALL_DEADLINE = 60.0


@dataclass
class Answer:
    """One HTTP answer read in full (within the size cap)."""

    status_code: int
    headers: httpx.Headers
    content: bytes


class AnswerTooLarge(Exception):
    """The answer passed the size cap; it was not read further."""


class PortalTransport:
    """One keep-alive connection pool to the portal's API (paging 100 pages reuses it)."""

    def __init__(
        self,
        admin_url: str,
        api_token: str,
        *,
        user_agent: str,
        timeout: float,
        connect_timeout: float,
        deadline: float,
        max_answer_bytes: int,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.timeout = httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
        self.deadline = deadline
        self.max_answer_bytes = max_answer_bytes
        self._endpoint = admin_url + METHOD_PREFIX
        self._http = httpx.AsyncClient(
            headers={
                AUTH_HEADER: f"Token {api_token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": user_agent,
            },
            timeout=self.timeout,
            verify=trust_context() if transport is None else True,
            follow_redirects=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def exchange(self, method: str, body: bytes) -> Answer:
        """One POST, bounded by the deadline and the size cap (TimeoutError, AnswerTooLarge)."""
        async with asyncio.timeout(self.deadline):
            async with self._http.stream("POST", self._endpoint + method, content=body) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_answer_bytes:
                    raise AnswerTooLarge
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():  # decoded: a gzip bomb counts too
                    size += len(chunk)
                    if size > self.max_answer_bytes:
                        raise AnswerTooLarge
                    chunks.append(chunk)
                return Answer(response.status_code, response.headers, b"".join(chunks))

    def describe(self, exc: httpx.TransportError | TimeoutError) -> str:
        """What went wrong with an exchange, for the user's sentence."""
        if isinstance(exc, TimeoutError):
            return f"no complete answer within {self.deadline:g} s"
        if isinstance(exc, httpx.ConnectTimeout):
            return f"no connection within {self.timeout.connect:g} s"
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {self.timeout.read:g} s"
        if isinstance(exc, httpx.ConnectError):
            return "connection failed"
        return f"connection broken: {type(exc).__name__}"


def tls_failure(exc: BaseException) -> bool:
    """Whether the certificate was refused (never retried: it will not change)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

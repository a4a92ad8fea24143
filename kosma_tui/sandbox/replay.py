"""Replaying a consent call (PROTOCOL v1.1, ``request_id``).

For each consent the portal keeps the last consent call that rotated its
token: the method, the ``request_id``, the hash of the token it consumed and
its whole answer (status and body, an error answer included). The same call
again (that consumed token, the same method and ``request_id``) gets that
answer back byte for byte and counts against nothing a second time. The
replay lasts until the new token is used: the next call overwrites it.

The kept answer carries the new token and a page of bank data, and the state
file never holds a usable token: the answer is sealed (AES-256-GCM) under a
key derived from the consumed token, which the portal does not keep (only its
hash, under another derivation). Only the client that sent the call can open
it. It is compressed first: a page of 1,000 transactions shrinks about tenfold,
and the state file is rewritten on every call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kosma_tui.sandbox.errors import invalid

_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass
class Answer:
    """One consent call's answer as sent: the status and the exact body bytes."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def request_id(body: dict[str, Any]) -> str | None:
    """The call's ``request_id``, None when absent; VALIDATION when malformed."""
    value = body.get("request_id")
    if value is None:
        return None
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise invalid(
            "request_id",
            "'request_id' must be 16 to 64 characters of A-Z, a-z, 0-9, '-' and '_'.",
        )
    return value


def _key(token: str) -> bytes:
    # not token_hash(): that one is stored, this one must not be derivable from the file
    return hashlib.sha256(b"kosma-demo-bank-replay\0" + token.encode("utf-8")).digest()


def keep(
    method: str, request: str, consumed: str, consumed_hash: str, answer: Answer
) -> dict[str, Any]:
    """The record kept on the consent for a replay of this call."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(consumed)).encrypt(nonce, zlib.compress(answer.body, 1), None)
    return {
        "method": method,
        "request_id": request,
        "consumed": consumed_hash,
        "status": answer.status,
        "headers": answer.headers,
        "answer": base64.b64encode(nonce + sealed).decode("ascii"),
    }


def replayed(
    kept: dict[str, Any] | None, method: str, request: str | None, token: str, token_hashed: str
) -> Answer | None:
    """The kept answer when this call is a replay of the kept one, else None."""
    if not kept or request is None:
        return None
    if not (
        hmac.compare_digest(kept.get("consumed", ""), token_hashed)
        and kept.get("method") == method
        and hmac.compare_digest(kept.get("request_id", ""), request)
    ):
        return None
    raw = base64.b64decode(kept["answer"])
    body = zlib.decompress(AESGCM(_key(token)).decrypt(raw[:12], raw[12:], None))
    return Answer(int(kept["status"]), body, dict(kept.get("headers") or {}))

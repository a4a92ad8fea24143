"""Step keys and the submission envelope (PROTOCOL.md, "Envelope").

A keyed step carries a fresh RSA public key. The client answers with
``{"ek", "iv", "ct"}``: ``ct`` is AES-256-GCM (tag appended, no associated
data) over the UTF-8 JSON ``{"form_identifier", "data"}``, ``ek`` the 32-byte
AES key wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256), all standard base64.

Private keys live only in this process's memory, never in the state file: a
process that did not issue a step's key issues a new one when the step is
fetched again. Keys are generated when a keyed step is entered (tens of
milliseconds), never ahead in a background thread: a daemon thread inside
OpenSSL when the interpreter exits aborts the whole process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections import OrderedDict
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BITS = 2048
_REMEMBERED = 512  # keys of abandoned steps are forgotten beyond this many


class EnvelopeError(ValueError):
    """The envelope cannot be opened; the message says why (no secret in it)."""


def _generate() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


class StepKeys:
    """Issues one fresh key pair per keyed step and remembers the private half."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._private: OrderedDict[str, rsa.RSAPrivateKey] = OrderedDict()

    def issue(self) -> tuple[str, str]:
        """A new key: (key id, public key PEM)."""
        private = _generate()
        pem = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        key_id = hashlib.sha256(pem.encode("ascii")).hexdigest()[:32]
        with self._lock:
            self._private[key_id] = private
            while len(self._private) > _REMEMBERED:
                self._private.popitem(last=False)
        return key_id, pem

    def public_pem(self, key_id: str) -> str | None:
        private = self.private(key_id)
        if private is None:
            return None
        return (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def private(self, key_id: str) -> rsa.RSAPrivateKey | None:
        with self._lock:
            return self._private.get(key_id)

    def discard(self, key_id: str | None) -> None:
        """A step was left: its key is never accepted again."""
        if key_id:
            with self._lock:
                self._private.pop(key_id, None)


STEP_KEYS = StepKeys()


def _b64(envelope: dict[str, Any], name: str) -> bytes:
    value = envelope.get(name)
    if not isinstance(value, str) or not value:
        raise EnvelopeError(f"The envelope lacks '{name}' (a base64 string).")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise EnvelopeError(f"The envelope's '{name}' is not standard base64.") from exc


def open_envelope(private: rsa.RSAPrivateKey, envelope: object) -> dict[str, Any]:
    """The decrypted ``{"form_identifier", "data"}`` object."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("The envelope must be an object with 'ek', 'iv' and 'ct'.")
    wrapped, iv, sealed = _b64(envelope, "ek"), _b64(envelope, "iv"), _b64(envelope, "ct")
    if len(iv) != 12:
        raise EnvelopeError("The envelope's 'iv' must be 12 bytes.")
    try:
        key = private.decrypt(
            wrapped,
            padding.OAEP(
                mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
            ),
        )
    except ValueError as exc:
        raise EnvelopeError(
            "The envelope's key was not wrapped with this step's key (RSA-OAEP, SHA-256)."
        ) from exc
    if len(key) != 32:
        raise EnvelopeError("The envelope's AES key must be 32 bytes (AES-256).")
    try:
        plain = AESGCM(key).decrypt(iv, sealed, None)
    except InvalidTag as exc:
        raise EnvelopeError("The envelope's ciphertext does not authenticate (AES-GCM).") from exc
    try:
        content = orjson.loads(plain)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError("The envelope's content is not UTF-8 JSON.") from exc
    if not isinstance(content, dict):
        raise EnvelopeError("The envelope's content must be a JSON object.")
    return content

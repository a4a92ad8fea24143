"""The envelope that carries a keyed step's values (PROTOCOL: Envelope).

Passwords and OTPs never travel in clear: the values are encrypted with
AES-256-GCM under a fresh key, and that key with the step's RSA public key
(OAEP, SHA-256). Every call makes a new key and nonce, so no key is ever used
twice, not even when the same submission is sent again after a retry.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kosma_tui.core.errors import PortalProtocolError

KEY_BYTES = 32
NONCE_BYTES = 12


def load_step_key(pem: str) -> rsa.RSAPublicKey:
    """The RSA public key of a step; PortalProtocolError when it is not one."""
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise PortalProtocolError("the form's key is not a PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise PortalProtocolError("the form's key is not an RSA public key")
    return key


def seal(pem: str, form_identifier: str, data: list[dict[str, Any]]) -> dict[str, str]:
    """``{"ek", "iv", "ct"}``: sent as ``{"envelope": ...}`` instead of ``data``."""
    public_key = load_step_key(pem)
    plaintext = orjson.dumps({"form_identifier": form_identifier, "data": data})
    key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, None)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    try:
        encrypted_key = public_key.encrypt(key, oaep)
    except ValueError as exc:  # a key too short to hold 32 bytes under OAEP
        raise PortalProtocolError("the form's RSA key is too short") from exc
    return {"ek": _b64(encrypted_key), "iv": _b64(nonce), "ct": _b64(ciphertext)}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")

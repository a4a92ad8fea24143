"""The envelope is exactly PROTOCOL's: decrypted here with nothing but `cryptography`."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kosma_tui.core.envelope import seal
from kosma_tui.core.errors import PortalProtocolError


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def open_envelope(private_key: rsa.RSAPrivateKey, envelope: dict[str, str]) -> tuple[bytes, dict]:
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    key = private_key.decrypt(base64.b64decode(envelope["ek"], validate=True), oaep)
    iv = base64.b64decode(envelope["iv"], validate=True)
    assert len(key) == 32
    assert len(iv) == 12
    plaintext = AESGCM(key).decrypt(iv, base64.b64decode(envelope["ct"], validate=True), None)
    return key, json.loads(plaintext.decode("utf-8"))


def test_seal_decrypts_to_the_form_identifier_and_data(private_key: rsa.RSAPrivateKey) -> None:
    data = [{"key": "LOGINNAME", "value": "embedded"}, {"key": "USER_PASSWORD", "value": "1 2ü€"}]
    envelope = seal(public_pem(private_key), "login", data)
    assert set(envelope) == {"ek", "iv", "ct"}
    _, payload = open_envelope(private_key, envelope)
    assert payload == {"form_identifier": "login", "data": data}


def test_the_secret_never_appears_in_the_envelope(private_key: rsa.RSAPrivateKey) -> None:
    envelope = seal(public_pem(private_key), "otp", [{"key": "TAN", "value": "TOPSECRET"}])
    text = json.dumps(envelope)
    assert "TOPSECRET" not in text
    assert base64.b64encode(b"TOPSECRET").decode() not in text


def test_every_seal_uses_a_fresh_key_and_nonce(private_key: rsa.RSAPrivateKey) -> None:
    pem = public_pem(private_key)
    data = [{"key": "TAN", "value": "12345"}]
    keys, ivs, cts = set(), set(), set()
    for _ in range(20):
        envelope = seal(pem, "otp", data)
        key, payload = open_envelope(private_key, envelope)
        assert payload["data"] == data
        keys.add(key)
        ivs.add(envelope["iv"])
        cts.add(envelope["ct"])
    assert len(keys) == len(ivs) == len(cts) == 20


def test_tampered_ciphertext_is_detected(private_key: rsa.RSAPrivateKey) -> None:
    envelope = seal(public_pem(private_key), "otp", [{"key": "TAN", "value": "12345"}])
    raw = bytearray(base64.b64decode(envelope["ct"]))
    raw[0] ^= 1
    envelope["ct"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(InvalidTag):
        open_envelope(private_key, envelope)


BROKEN_PEM = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"


@pytest.mark.parametrize("pem", ["", "not a key", BROKEN_PEM])
def test_a_key_that_is_not_pem_is_a_protocol_error(pem: str) -> None:
    with pytest.raises(PortalProtocolError, match="not a PEM public key"):
        seal(pem, "login", [])


def test_a_non_rsa_key_is_a_protocol_error() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(PortalProtocolError, match="not an RSA public key"):
        seal(public_pem(key), "login", [])


def test_a_key_too_short_for_oaep_is_a_protocol_error() -> None:
    short = rsa.RSAPublicNumbers(65537, 2**511 + 1).public_key()
    pem = short.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(PortalProtocolError, match="too short"):
        seal(pem, "login", [{"key": "TAN", "value": "12345"}])

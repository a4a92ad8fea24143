"""Secrets: Fernet under a key file of its own, never written in clear, never re-keyed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from store_support import store_files

from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import Paths, resolve_paths
from kosma_tui.core.records import (
    BankConsent,
    ErpnextConnection,
    LinkSession,
)
from kosma_tui.core.secrets import PREFIX, Secrets
from kosma_tui.core.store import Store

API_TOKEN = "tok-SECRET-123"
CONSENT_TOKEN = "ctok-SECRET-456"
SESSION_ID = "sess-SECRET-789"
LINK_SESSION_ID = "link-SECRET-000"
ERP_SECRET = "erp-SECRET-111"
ROTATED = "ctok-SECRET-rotated"


def test_encrypt_decrypt_with_a_private_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "config" / "secret.key"
    secrets = Secrets(key_file)
    assert not secrets.has_key()
    value = secrets.encrypt("hunter2")
    assert value.startswith(PREFIX) and "hunter2" not in value
    assert Secrets.is_encrypted(value) and not Secrets.is_encrypted("hunter2")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Secrets(key_file).decrypt(value) == "hunter2"  # a later run reads it
    assert secrets.encrypt(value) == value  # never twice
    assert secrets.decrypt("plain") == "plain"


def test_missing_key_is_not_created_when_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    value = Secrets(key_file).encrypt("x")
    key_file.unlink()
    refused = Secrets(key_file, may_create=lambda: False)
    for attempt in (lambda: refused.decrypt(value), lambda: refused.encrypt("y")):
        with pytest.raises(StoreError, match="is missing") as info:
            attempt()
        assert str(key_file) in info.value.message
    assert refused.ensure_key() is False
    assert not key_file.exists()


def test_wrong_or_damaged_key_is_a_store_error(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    value = Secrets(key_file).encrypt("x")
    key_file.write_bytes(Fernet.generate_key())
    with pytest.raises(StoreError, match="not the key they were encrypted with"):
        Secrets(key_file).decrypt(value)
    key_file.write_bytes(b"not a key")
    with pytest.raises(StoreError, match="does not hold a valid key"):
        Secrets(key_file).decrypt(value)


@pytest.fixture
def paths(home: Path) -> Paths:
    return resolve_paths()


def save_secrets(store: Store) -> None:
    settings = store.settings()
    settings.api_token = API_TOKEN
    store.save_settings(settings)
    store.save_consent(
        BankConsent(
            "Demo Bank-Demo Company",
            "Demo Bank",
            "Demo Company",
            "consent-1",
            "2024-05-01",
            "2024-07-30T10:00:00+02:00",
            CONSENT_TOKEN,
            SESSION_ID,
        )
    )
    store.save_link_session(LinkSession(LINK_SESSION_ID, "short", "flow"))
    store.save_erpnext(ErpnextConnection("https://erp.example.com", "key", ERP_SECRET))


def test_no_secret_reaches_any_file_in_clear(paths: Paths, home: Path) -> None:
    store = Store.open(paths)
    save_secrets(store)
    store.update_consent_token("Demo Bank-Demo Company", ROTATED)
    # records in memory are clear
    assert store.settings().api_token == API_TOKEN
    consent = store.consent("Demo Bank-Demo Company")
    assert (consent.consent_token, consent.session_id) == (ROTATED, SESSION_ID)
    assert store.link_sessions()[0].session_id == LINK_SESSION_ID
    assert store.erpnext().api_secret == ERP_SECRET
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files
    for file in files:
        data = file.read_bytes()
        for secret in (
            API_TOKEN,
            CONSENT_TOKEN,
            SESSION_ID,
            LINK_SESSION_ID,
            ERP_SECRET,
            ROTATED,
            "SECRET",
        ):
            assert secret.encode() not in data, f"{secret} in clear in {file}"
    assert b"enc:v1:" in (paths.store_dir / "meta.json").read_bytes()
    assert paths.key_file.parent != paths.store_dir.parent


def test_missing_key_is_reported_never_rekeyed(paths: Paths) -> None:
    store = Store.open(paths)
    save_secrets(store)
    paths.key_file.unlink()
    before = store_files(paths.data_dir)
    again = Store.open(paths)  # launching still works; reading a secret does not
    attempts = [
        again.settings,
        again.consents,
        lambda: again.consent("Demo Bank-Demo Company"),
        again.erpnext,
        lambda: again.update_consent_token("Demo Bank-Demo Company", "new"),
        lambda: again.save_consent(BankConsent("B-C", "B", "C", consent_token="t")),
    ]
    for attempt in attempts:
        with pytest.raises(StoreError) as info:
            attempt()
        assert str(paths.key_file) in info.value.message
        assert "missing" in info.value.message
    assert not paths.key_file.exists()
    assert store_files(paths.data_dir) == before
    # records without secrets still work
    assert [c.name for c in again.companies()] == ["Demo Company"]


def test_wrong_key_is_reported(paths: Paths) -> None:
    store = Store.open(paths)
    save_secrets(store)
    paths.key_file.write_bytes(Fernet.generate_key())
    again = Store.open(paths)
    with pytest.raises(StoreError, match="cannot be read with the key file") as info:
        again.settings()
    assert str(paths.key_file) in info.value.message


def test_key_is_created_on_first_run_and_kept(paths: Paths) -> None:
    Store.open(paths)
    key = paths.key_file.read_bytes()
    assert stat.S_IMODE(paths.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.config_dir.stat().st_mode) == 0o700
    store = Store.open(paths)
    save_secrets(store)
    assert paths.key_file.read_bytes() == key


def test_a_store_without_secrets_may_get_a_new_key(paths: Paths) -> None:
    Store.open(paths)
    paths.key_file.unlink()  # nothing was encrypted with it: nothing is lost
    store = Store.open(paths)
    assert paths.key_file.exists()
    save_secrets(store)
    assert Store.open(paths).settings().api_token == API_TOKEN

"""The one atomic write: whole or nothing, 0600, the folder fsynced, and a
create-only mode (the key file) that never replaces what another writer made."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kosma_tui.core import atomic
from kosma_tui.core.atomic import atomic_write
from kosma_tui.core.secrets import Secrets


def test_a_write_fsyncs_the_file_and_then_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append("folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    target = tmp_path / "data.json"
    atomic_write(target, b"{}")
    assert synced == ["file", "folder"]
    assert target.read_bytes() == b"{}"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_create_only_keeps_the_first_writers_file(tmp_path: Path) -> None:
    target = tmp_path / "key"
    atomic_write(target, b"first", overwrite=False)
    with pytest.raises(FileExistsError):
        atomic_write(target, b"second", overwrite=False)
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["key"]  # no temporary file left


def test_the_key_file_is_made_by_the_atomic_write(tmp_path: Path) -> None:
    key_file = tmp_path / "config" / "key"
    secrets = Secrets(key_file)
    token = secrets.encrypt("s3cret")
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert Secrets(key_file).decrypt(token) == "s3cret"  # a second reader finds the same key

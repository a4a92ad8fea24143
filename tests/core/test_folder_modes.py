"""DESIGN 7: folders the app creates are 0700, files 0600, and a folder it did not
create keeps its mode (a shared ``/tmp``-like folder, a prepared KOSMA_TUI_HOME)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kosma_tui.core.paths import make_private_dir, resolve_paths
from kosma_tui.core.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask, so a missing chmod would show."""
    previous = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(previous)


def test_existing_folders_keep_their_mode_and_new_ones_are_private(
    tmp_path: Path, open_umask: None
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    make_private_dir(shared / "a" / "b")
    assert mode(shared) == 0o1777
    assert mode(shared / "a") == mode(shared / "a" / "b") == 0o700
    make_private_dir(shared)
    assert mode(shared) == 0o1777


def test_a_prepared_home_keeps_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_umask: None
) -> None:
    home = tmp_path / "prepared"
    home.mkdir()
    home.chmod(0o755)
    monkeypatch.setenv("KOSMA_TUI_HOME", str(home))
    paths = resolve_paths()
    Store.open(paths)
    assert mode(home) == 0o755
    for folder in (paths.config_dir, paths.data_dir, paths.store_dir, paths.log_dir):
        assert mode(folder) == 0o700, folder
    for file in (paths.key_file, paths.store_dir / "meta.json"):
        assert mode(file) == 0o600


def test_a_home_created_with_its_parents_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_umask: None
) -> None:
    home = tmp_path / "new" / "home"
    monkeypatch.setenv("KOSMA_TUI_HOME", str(home))
    Store.open(resolve_paths())
    assert mode(tmp_path / "new") == mode(home) == 0o700

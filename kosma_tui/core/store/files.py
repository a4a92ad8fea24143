"""Files of the store: fresh reads, the TinyDB storage (writes through ``core.atomic``).

Every file is written whole to a temporary file in the same folder, flushed,
fsynced and renamed over the old one, then the folder is fsynced: a reader
(or a crash) sees the old state or the new one, never a torn file. A file
that cannot be parsed raises ``StoreError`` naming it and is never written.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from kosma_tui.core.atomic import TEMP_SUFFIX, Fingerprint, discard

# their old home: other modules may still import them from here
from kosma_tui.core.atomic import atomic_write as atomic_write
from kosma_tui.core.atomic import fsync_dir as fsync_dir
from kosma_tui.core.errors import StoreError
from kosma_tui.core.locks import FileLock as FileLock

RESTORE_REMEDY = (
    "Restore it from a backup, or move it away to start over; kosma-tui did not change it."
)


def remove_temp_files(folder: Path) -> int:
    """Delete temporary files left by a writer that was killed (call under the lock)."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise StoreError(f"Could not read the store folder {folder} ({exc.strerror}).") from exc
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX) and entry.is_file():
            discard(entry.path)
            removed += 1
    return removed


def fingerprint(path: Path) -> Fingerprint | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise read_error(path, exc) from exc
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def read_error(path: Path, exc: OSError) -> StoreError:
    return StoreError(
        f"Could not read the store file {path} ({exc.strerror or exc}).",
        "Check the permissions of that file and its folder.",
    )


def corrupt(path: Path, detail: str) -> StoreError:
    return StoreError(f"The store file {path} is corrupt ({detail}).", RESTORE_REMEDY)


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise read_error(path, exc) from exc


@contextmanager
def no_gc() -> Iterator[None]:
    """Parsing 100,000 rows makes millions of objects; the cyclic GC would
    rescan them many times over and triple the time (orjson makes no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(path: Path, data: bytes) -> Any:
    try:
        with no_gc():
            return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise corrupt(path, f"not valid JSON: {exc}") from exc


def read_json(path: Path) -> Any:
    """Parsed content of ``path``; None when missing; StoreError when unparseable."""
    data = read_bytes(path)
    if data is None:
        return None
    if not data.strip():
        raise corrupt(path, "the file is empty")
    return parse(path, data)


def check_tables(path: Path, data: Any) -> dict[str, dict[str, Any]]:
    """TinyDB's layout: {table: {doc_id: document}}."""
    if not isinstance(data, dict):
        raise corrupt(path, "expected an object of tables")
    for name, table in data.items():
        if not isinstance(table, dict) or not all(isinstance(d, dict) for d in table.values()):
            raise corrupt(path, f"table '{name}' is not a table of documents")
    return data


class AtomicJSONStorage(Storage):
    """TinyDB storage: orjson, a fresh read of the file on every ``read()``,
    atomic writes. Inside ``batch()`` the file is read once, TinyDB works on
    that copy in memory, and it is written once at the end (if changed):
    one operation is one atomic write, or none when it fails."""

    def __init__(
        self, path: Path, validate: Callable[[Path, dict[str, Any]], None] | None = None
    ) -> None:
        self.path = path
        self._validate = validate
        self._batch: dict[str, Any] | None = None
        self._dirty = False

    def read(self) -> dict[str, Any] | None:
        if self._batch is not None:
            return self._batch
        data = read_json(self.path)
        if data is None:
            return None
        tables = check_tables(self.path, data)
        if self._validate is not None:
            self._validate(self.path, tables)
        return tables

    def write(self, data: dict[str, Any]) -> None:
        if self._batch is not None:
            self._batch = data
            self._dirty = True
            return
        atomic_write(self.path, orjson.dumps(data))

    @contextmanager
    def batch(self) -> Iterator[None]:
        self._batch = self.read() or {}
        self._dirty = False
        try:
            yield
            if self._dirty:
                data = self._batch
                self._batch = None
                self.write(data)
        finally:
            self._batch = None
            self._dirty = False

    def close(self) -> None:
        self._batch = None

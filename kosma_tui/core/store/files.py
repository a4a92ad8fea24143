"""Files of the store: atomic writes, fresh reads, the inter-process lock.

Every file is written whole to a temporary file in the same folder, flushed,
fsynced and renamed over the old one, then the folder is fsynced: a reader
(or a crash) sees the old state or the new one, never a torn file. A file
that cannot be parsed raises ``StoreError`` naming it and is never written.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import orjson
from tinydb.storages import Storage

from kosma_tui.core.errors import StoreError

TEMP_SUFFIX = ".tmp"
LOCK_TIMEOUT = 60.0

# (inode, size, mtime_ns): changes whenever a file is replaced by atomic_write
Fingerprint = tuple[int, int, int]

RESTORE_REMEDY = (
    "Restore it from a backup, or move it away to start over; kosma-tui did not change it."
)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes | list[bytes | memoryview], *, durable: bool = True,
    sync_dir: bool = True,
) -> Fingerprint:
    """Replace ``path`` with ``data`` (0600) so that it holds the old or the new bytes.

    ``durable=False`` skips the fsyncs, for files derived from others that are
    rebuilt when they do not match (a kill still leaves old or new; only a
    power loss could leave them stale). ``sync_dir=False`` leaves the folder's
    fsync to the caller, who writes several files and syncs the folder once.
    """
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            for piece in data if isinstance(data, list) else (data,):
                handle.write(piece)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
            stat = os.fstat(handle.fileno())
        os.replace(tmp, path)
        if durable and sync_dir:
            fsync_dir(folder)
    except OSError as exc:
        _discard(tmp)
        raise _write_error(path, exc) from exc
    except BaseException:
        _discard(tmp)
        raise
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _write_error(path: Path, exc: OSError) -> StoreError:
    return StoreError(
        f"Could not write the store file {path} ({exc.strerror or exc}); "
        "the previous version was kept.",
        "Check free disk space and the permissions of that folder, then try again.",
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
            _discard(entry.path)
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


class FileLock:
    """``flock`` on a lock file plus an RLock: one holder across processes and
    threads, re-entrant for the holding thread. One instance per lock file
    and process, shared by every Store opened on it."""

    _instances: ClassVar[dict[str, FileLock]] = {}
    _instances_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rlock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @classmethod
    def for_path(cls, path: Path) -> FileLock:
        key = str(path.resolve())
        with cls._instances_guard:
            lock = cls._instances.get(key)
            if lock is None:
                lock = cls._instances[key] = cls(path)
            return lock

    @contextmanager
    def hold(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        with self._rlock:
            if self._depth == 0:
                self._acquire(timeout)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()

    def _acquire(self, timeout: float) -> None:
        if self._fd is not None and not self._still_the_file(self._fd):
            os.close(self._fd)  # the store folder was replaced: lock the new file
            self._fd = None
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise StoreError(
                    f"Could not open the store lock file {self.path} ({exc.strerror}).",
                    "Check the permissions of the store folder.",
                ) from exc
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise StoreError(
                        f"Could not lock the store ({self.path}: {exc.strerror}).",
                        "Check the permissions of the store folder.",
                    ) from exc
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"The store is busy: another kosma-tui process has held {self.path} "
                    f"for more than {timeout:.0f} seconds.",
                    "Wait for it (a sync or the daily job) to finish, then try again.",
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _still_the_file(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except OSError:
            return False

    def _release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

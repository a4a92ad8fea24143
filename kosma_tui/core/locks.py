"""One file lock for every cross-process rule of the app.

The store, a Bank Consent's token, the ERPNext push and a running link flow
each allow one holder at a time across processes (the TUI, the daily job,
a second terminal). All four take an exclusive ``flock`` on a lock file
through this module, wait for it with a timeout (never forever: a hung
holder must not hang the daily job silently), and on a timeout raise
``LockBusy`` naming who holds it: the holder writes a line such as
``a sync of Main (ACME) (process 4242)`` into the lock file when it takes
it, so the waiting side can tell the admin which process to look at.

The kernel drops an ``flock`` when its holder dies, however it dies, so a
lock file left behind by a kill is never stale.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import ClassVar

from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import make_private_dir
from kosma_tui.core.text import safe_text

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: no cross-process lock
    fcntl = None  # type: ignore[assignment]

DEFAULT_TIMEOUT = 60.0
_HOLDER_BYTES = 200  # the holder line is padded to this, so it is rewritten in place
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


class LockBusy(StoreError):
    """Another process held a lock for longer than the wait allowed; nothing was done."""

    code = "BUSY"


def _open(path: Path) -> int:
    try:
        make_private_dir(path.parent)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(
            f"Could not open the lock file {path} ({exc.strerror}).",
            "Check the permissions of its folder.",
        ) from exc


def _try(fd: int, path: Path) -> bool:
    """Take the lock without waiting; False when another holder has it."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _BUSY:
            return False
        raise StoreError(
            f"Could not lock {path} ({exc.strerror}).", "Check the permissions of its folder."
        ) from exc
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _mark(fd: int, holder: str) -> None:
    """Write who holds the lock into its file (best effort: it only names the holder)."""
    line = f"{holder} (process {os.getpid()})".encode()[:_HOLDER_BYTES]
    try:
        os.pwrite(fd, line.ljust(_HOLDER_BYTES), 0)
    except OSError:
        pass


def _pid_holding(path: Path) -> int | None:
    """The process holding an ``flock`` on ``path``, from Linux's /proc/locks."""
    try:
        inode = os.stat(path).st_ino
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            for line in handle:
                # "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF"
                fields = line.split()
                if (
                    len(fields) > 5
                    and fields[1] == "FLOCK"
                    and fields[5].rsplit(":", 1)[-1] == str(inode)
                ):
                    return int(fields[4])
    except (OSError, ValueError):
        pass
    return None


def holder_of(path: Path) -> str:
    """Who holds the lock at ``path``: the line its holder wrote with ``_mark``, else
    the process /proc/locks names, else a fallback."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(_HOLDER_BYTES).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    text = safe_text(text)  # written by this app, but a damaged file must not reach a terminal
    if text:
        return text
    pid = _pid_holding(path)
    return f"kosma-tui (process {pid})" if pid else "another kosma-tui process"


def busy_error(what: str, path: Path, timeout: float) -> LockBusy:
    """The sentence for a lock still held after ``timeout`` seconds."""
    return LockBusy(
        f"{what} is busy: {holder_of(path)} has held it for more than {timeout:.0f} seconds.",
        "Wait for that process (a sync, a push or the daily job) to finish, then try again.",
    )


class _Waiter:
    """The polling schedule of one wait: short pauses first, then at most ``cap``."""

    def __init__(self, timeout: float, cap: float, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.deadline = clock() + timeout
        self.pause = 0.001
        self.cap = cap

    def next_pause(self) -> float | None:
        """Seconds to wait before the next try; None once the timeout has passed."""
        if self.clock() >= self.deadline:
            return None
        pause = self.pause
        self.pause = min(pause * 2, self.cap)
        return pause


def acquire(fd: int, path: Path, what: str, holder: str | None, timeout: float) -> None:
    """Block (polling) until ``fd`` holds the lock of ``path``; LockBusy after ``timeout``.
    ``holder`` is written into the file; None writes nothing (the busy sentence then
    names the holding process from /proc/locks)."""
    waiter = _Waiter(timeout, 0.05, time.monotonic)
    while not _try(fd, path):
        pause = waiter.next_pause()
        if pause is None:
            raise busy_error(what, path, timeout)
        time.sleep(pause)
    if holder is not None:
        _mark(fd, holder)


@contextmanager
def held(path: Path, what: str, holder: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the lock file ``path`` for the block. ``what`` names the guarded thing in
    the busy sentence ("The ERPNext push"), ``holder`` this process's use of it."""
    fd = _open(path)
    try:
        acquire(fd, path, what, holder, timeout)
        yield
    finally:
        os.close(fd)  # releases the lock


@asynccontextmanager
async def held_async(
    path: Path, what: str, holder: str, timeout: float = DEFAULT_TIMEOUT
) -> AsyncIterator[None]:
    """``held`` for a coroutine: the waiting sleeps on the event loop, not the thread."""
    fd = _open(path)
    try:
        waiter = _Waiter(timeout, 0.1, time.monotonic)
        while not _try(fd, path):
            pause = waiter.next_pause()
            if pause is None:
                raise busy_error(what, path, timeout)
            await asyncio.sleep(pause)
        _mark(fd, holder)
        yield
    finally:
        os.close(fd)


def try_hold(path: Path, holder: str) -> int | None:
    """Take the lock if it is free: its descriptor (close it to release), else None."""
    fd = _open(path)
    if _try(fd, path):
        _mark(fd, holder)
        return fd
    os.close(fd)
    return None


def is_held(path: Path) -> bool:
    """Whether some process holds the lock at ``path`` now (a missing file: no)."""
    if fcntl is None:  # pragma: no cover
        return False
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return not _try(fd, path)
    except StoreError:
        return False
    finally:
        os.close(fd)  # closing drops the lock this probe may just have taken


class FileLock:
    """``held`` for a lock taken very often (the store's, by reads too): the file
    stays open and nothing is written into it, an RLock makes it one holder across
    threads too, re-entrant for the holding thread. One instance per lock file and
    process, shared by every Store on it."""

    _instances: ClassVar[dict[str, FileLock]] = {}
    _instances_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, what: str = "The store") -> None:
        self.path = path
        self.what = what
        self._rlock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @classmethod
    def for_path(cls, path: Path, what: str = "The store") -> FileLock:
        key = str(path.resolve())
        with cls._instances_guard:
            lock = cls._instances.get(key)
            if lock is None:
                lock = cls._instances[key] = cls(path, what)
            return lock

    @contextmanager
    def hold(self, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
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
            os.close(self._fd)  # the folder was replaced: lock the new file
            self._fd = None
        if self._fd is None:
            self._fd = _open(self.path)
        acquire(self._fd, self.path, self.what, None, timeout)

    def _still_the_file(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except OSError:
            return False

    def _release(self) -> None:
        if self._fd is not None:
            _unlock(self._fd)

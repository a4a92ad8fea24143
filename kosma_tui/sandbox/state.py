"""The portal's state file: sessions, consents, hashes of live tokens, usage,
unattended-call counters.

One JSON file (0600; a folder it creates is 0700, an existing one keeps its
mode). Several processes may serve from it at once (the TUI and the daily job
each start an embedded portal), so every mutation is: lock (``fcntl.flock``
on a sibling ``.lock`` file) -> read the file afresh -> change -> write a
temporary file, fsync, rename -> unlock.
A corrupt file stops the portal with a sentence naming it and is never
overwritten. Tokens and session ids are stored only as SHA-256 hashes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from kosma_tui.sandbox.errors import SandboxStateError

VERSION = 1


def empty_state() -> dict[str, Any]:
    return {
        "version": VERSION,
        "sessions": {},
        "consents": {},
        "usage": {},
        "unattended": {},
        "balances": {},
    }


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _private_dir(folder: Path) -> None:
    """Create ``folder`` (and missing parents) 0700 whatever the umask; a folder that
    already exists is someone else's (``--state /tmp/x.json``) and keeps its mode."""
    created: list[Path] = []
    current = folder
    while not current.exists() and current != current.parent:
        created.append(current)
        current = current.parent
    for path in reversed(created):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()  # not re-entrant: flock is not either
        try:
            _private_dir(self.path.parent)
        except OSError as exc:
            raise SandboxStateError(
                f"The Demo Bank portal cannot create its state folder {self.path.parent} "
                f"({exc.strerror}).",
                "Choose another state file with --state.",
            ) from exc
        with self._locked(exclusive=True):  # fail at start, not at the first request
            if not self.path.exists():
                self._write(empty_state())
            self._load()

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        with self._thread_lock:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise SandboxStateError(
                    f"The Demo Bank portal cannot open its lock file {self.lock_path} "
                    f"({exc.strerror}).",
                    "Check the folder's permissions or choose another state file.",
                ) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def _load(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return empty_state()
        except OSError as exc:
            raise SandboxStateError(
                f"The Demo Bank portal cannot read its state file {self.path} ({exc.strerror}).",
                "Check its permissions or choose another state file.",
            ) from exc
        try:
            state = orjson.loads(raw)
        except orjson.JSONDecodeError:
            state = None
        if not isinstance(state, dict) or state.get("version") != VERSION:
            raise SandboxStateError(
                f"The Demo Bank portal's state file {self.path} is corrupt or of another version.",
                "Move it away to start with a fresh portal (its consents are then lost).",
            )
        for section in ("sessions", "consents", "usage", "unattended", "balances"):
            state.setdefault(section, {})
        return state

    def read(self) -> dict[str, Any]:
        """A snapshot for read-only requests."""
        with self._locked(exclusive=False):
            return self._load()

    @contextlib.contextmanager
    def update(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under the lock. The state is written even when the
        body raises, so a rotated consent token is never lost with the failure."""
        with self._locked(exclusive=True):
            state = self._load()
            try:
                yield state
            finally:
                self._write(state)

    def _write(self, state: dict[str, Any]) -> None:
        payload = orjson.dumps(state)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise SandboxStateError(
                f"The Demo Bank portal cannot write its state file {self.path} ({exc.strerror}).",
                "Check the disk and the folder's permissions.",
            ) from exc

"""The one atomic write of the app.

Every file that must never be seen half written (the store's files, the key
file, the push journal, settings) is written whole to a temporary file in the
same folder, flushed, fsynced and renamed over the old one, then the folder
is fsynced: a reader (or a crash, or a power loss) sees the old state or the
new one, never a torn file, and the new name survives.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kosma_tui.core.errors import StoreError

TEMP_SUFFIX = ".tmp"

# (inode, size, mtime_ns): changes whenever a file is replaced by atomic_write
Fingerprint = tuple[int, int, int]


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    data: bytes | list[bytes | memoryview],
    *,
    durable: bool = True,
    sync_dir: bool = True,
    overwrite: bool = True,
    what: str = "the store file",
) -> Fingerprint:
    """Replace ``path`` with ``data`` (0600) so that it holds the old or the new bytes.

    The one atomic write of the app: a temporary file in the same folder,
    fsynced, renamed over ``path``, then the folder fsynced (so the new name
    survives a power loss too).

    ``durable=False`` skips the fsyncs, for files derived from others that are
    rebuilt when they do not match (a kill still leaves old or new; only a
    power loss could leave them stale). ``sync_dir=False`` leaves the folder's
    fsync to the caller, who writes several files and syncs the folder once.
    ``overwrite=False`` creates ``path`` only if it does not exist (a hard link
    instead of the rename): FileExistsError when another writer was first.
    ``what`` names the file in the error sentence.
    """
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise _write_error(path, exc, what) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            for piece in data if isinstance(data, list) else (data,):
                handle.write(piece)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
            stat = os.fstat(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails on an existing name, unlike a rename
            discard(tmp)
        if durable and sync_dir:
            fsync_dir(folder)
    except FileExistsError:
        discard(tmp)
        if overwrite:
            raise _write_error(path, FileExistsError(), what) from None
        raise
    except OSError as exc:
        discard(tmp)
        raise _write_error(path, exc, what) from exc
    except BaseException:
        discard(tmp)
        raise
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _write_error(path: Path, exc: OSError, what: str = "the store file") -> StoreError:
    return StoreError(
        f"Could not write {what} {path} ({exc.strerror or exc}); the previous version was kept.",
        "Check free disk space and the permissions of that folder, then try again.",
    )

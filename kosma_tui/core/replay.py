"""The replay journal: each consent call is written down before it is sent.

PROTOCOL v1.1 lets a client send a consent call again, same token and same
``request_id``, when its answer was lost; the portal then answers it once
more instead of calling the token stale. That only helps if the call is
known after a crash, so before a consent call leaves this machine its intent
(method, ``request_id``, the token it sends, its fields) is written durably
to ``data/journal/``, one file per consent; when that write fails, nothing is
sent. The token in it is encrypted like every consent token.

An entry also holds ``base``: a hash of the token the store held when the
call began. Once the store holds another token, the call's outcome was
stored and the entry is stale; while it holds that one, the call may have
consumed it and is replayed before anything else is done with the consent.
"""

from __future__ import annotations

import hashlib
import os
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from kosma_tui.core import clock
from kosma_tui.core.atomic import fsync_dir
from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import make_private_dir
from kosma_tui.core.store.files import read_error

if TYPE_CHECKING:
    from kosma_tui.core.secrets import Secrets
    from kosma_tui.core.store import Store


def new_request_id() -> str:
    """A fresh ``request_id`` (32 hex characters, inside PROTOCOL's 16-64)."""
    return uuid.uuid4().hex


def token_base(token: str) -> str:
    """What the journal keeps to recognise the store's token, not the token."""
    return hashlib.sha256(b"kosma-tui journal\0" + token.encode("utf-8")).hexdigest()


@dataclass
class PendingCall:
    """A consent call that was sent (or about to be) and whose outcome is not stored."""

    consent_id: str
    method: str
    request_id: str
    consent_token: str = field(repr=False)
    fields: dict[str, Any]  # the method's own fields (account_id, start_date, url, offset)
    base: str  # token_base() of the token the store held when the call began
    written: str = ""

    def belongs_to(self, stored_token: str) -> bool:
        """True while the store still holds the token this call started from."""
        return bool(stored_token) and token_base(stored_token) == self.base


# Two slots per consent file, written in turn: a write cut by a power loss tears only
# the slot being written, and the other still holds the previous entry. One fdatasync
# per call instead of a temporary file, a rename and two fsyncs (100 pages of a first
# sync are 100 consent calls).
SLOT = 64 * 1024
_HEADER = struct.Struct("<IIQ")  # payload length, crc32 of the payload, sequence number


class ReplayJournal:
    """``data/journal/<hash of consent id>.journal``: at most one pending call per consent."""

    def __init__(self, folder: Path, secrets: Secrets) -> None:
        self.folder = folder
        self.secrets = secrets
        self._anchors: dict[str, str] = {}  # consent id -> token_base of the stored token

    def anchor(self, consent_id: str, stored_token: str) -> None:
        """Entries written from now on belong to ``stored_token`` (the store's), even when
        the token they send is a newer one the store has not been given yet."""
        self._anchors[consent_id] = token_base(stored_token)

    @classmethod
    def of(cls, store: Store) -> ReplayJournal:
        """The journal of ``store``'s data folder, encrypted with its key."""
        return cls(store.paths.data_dir / "journal", store.secrets)

    def _path(self, consent_id: str) -> Path:
        digest = hashlib.sha256(consent_id.encode("utf-8")).hexdigest()[:24]
        return self.folder / f"consent-{digest}.journal"

    def write(self, call: PendingCall) -> None:
        """Durably, before the call is sent; StoreError (and nothing sent) when it fails."""
        payload = orjson.dumps(
            {
                "consent_id": call.consent_id,
                "method": call.method,
                "request_id": call.request_id,
                "consent_token": self.secrets.encrypt(call.consent_token),
                "fields": call.fields,
                "base": self._anchors.get(call.consent_id, call.base),
                "written": clock.now().isoformat(timespec="seconds"),
            }
        )
        if len(payload) > SLOT - _HEADER.size:
            raise StoreError(
                "A consent call is too large to be written down before sending it, so it "
                "was not sent and the consent is unchanged.",
                "The banking portal sent an unusual next-page address; try again later.",
            )
        path = self._path(call.consent_id)
        try:
            make_private_dir(self.folder)
            created = not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                newest = max((seq for seq, _ in _slots(fd)), default=0)
                seq = newest + 1
                header = _HEADER.pack(len(payload), zlib.crc32(payload), seq)
                os.pwrite(fd, header + payload, (seq % 2) * SLOT)
                os.fdatasync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_dir(self.folder)  # the new file's name must be durable too
        except OSError as exc:
            raise StoreError(
                f"The consent call could not be written down before sending it "
                f"({path}: {exc.strerror or exc}), so it was not sent and the consent is "
                "unchanged.",
                "Check free disk space and the permissions of the data folder, then try again.",
            ) from exc

    def pending(self, consent_id: str) -> PendingCall | None:
        path = self._path(consent_id)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise read_error(path, exc) from exc
        try:
            slots = _slots(fd)
        finally:
            os.close(fd)
        if not slots:
            return None
        _seq, data = max(slots, key=lambda slot: slot[0])
        try:
            return PendingCall(
                consent_id=data["consent_id"],
                method=data["method"],
                request_id=data["request_id"],
                consent_token=self.secrets.decrypt(data["consent_token"]),
                fields=dict(data["fields"]),
                base=data["base"],
                written=data.get("written", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(
                f"The journal file {path} is damaged.",
                "Move it away; if the consent then fails, run Link Bank and Accounts again.",
            ) from exc

    def clear(self, consent_id: str) -> None:
        """Forget the consent's entry (a sync that ended). Not needed for correctness:
        an entry whose outcome was stored is recognised by its ``base``."""
        try:
            os.unlink(self._path(consent_id))
        except OSError:
            pass


def _slots(fd: int) -> list[tuple[int, dict[str, Any]]]:
    """The intact entries of a journal file: (sequence, entry)."""
    found = []
    for index in (0, 1):
        raw = os.pread(fd, SLOT, index * SLOT)
        if len(raw) < _HEADER.size:
            continue
        length, crc, seq = _HEADER.unpack_from(raw)
        payload = raw[_HEADER.size : _HEADER.size + length]
        if seq == 0 or len(payload) != length or zlib.crc32(payload) != crc:
            continue  # never written, or torn
        try:
            entry = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            found.append((seq, entry))
    return found

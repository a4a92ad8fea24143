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
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from kosma_tui.core import clock
from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import make_private_dir
from kosma_tui.core.store.files import atomic_write, fsync_dir, read_json

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


class ReplayJournal:
    """``data/journal/<hash of consent id>.json``: at most one pending call per consent."""

    def __init__(self, folder: Path, secrets: Secrets) -> None:
        self.folder = folder
        self.secrets = secrets

    @classmethod
    def of(cls, store: Store) -> ReplayJournal:
        """The journal of ``store``'s data folder, encrypted with its key."""
        return cls(store.paths.data_dir / "journal", store.secrets)

    def _path(self, consent_id: str) -> Path:
        digest = hashlib.sha256(consent_id.encode("utf-8")).hexdigest()[:24]
        return self.folder / f"consent-{digest}.json"

    def write(self, call: PendingCall) -> None:
        """Durably, before the call is sent; StoreError (and nothing sent) when it fails."""
        record = {
            "consent_id": call.consent_id,
            "method": call.method,
            "request_id": call.request_id,
            "consent_token": self.secrets.encrypt(call.consent_token),
            "fields": call.fields,
            "base": call.base,
            "written": clock.now().isoformat(timespec="seconds"),
        }
        try:
            make_private_dir(self.folder)
        except OSError as exc:
            raise self._unwritable(exc) from exc
        try:
            atomic_write(self._path(call.consent_id), orjson.dumps(record))
        except StoreError as exc:
            raise StoreError(
                f"The consent call could not be written down before sending it, so it was "
                f"not sent and the consent is unchanged ({exc.message})",
                exc.remedy,
            ) from exc

    def pending(self, consent_id: str) -> PendingCall | None:
        path = self._path(consent_id)
        data = read_json(path)
        if data is None:
            return None
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
        """The call's outcome is stored: forget it (a missing file is fine)."""
        path = self._path(consent_id)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError:
            return  # stale entries are recognised by their base; nothing is lost
        try:
            fsync_dir(self.folder)
        except OSError:
            pass

    @staticmethod
    def _unwritable(exc: OSError) -> StoreError:
        return StoreError(
            f"The consent call could not be written down before sending it ({exc.strerror}), "
            "so it was not sent and the consent is unchanged.",
            "Check free disk space and the permissions of the data folder, then try again.",
        )

"""Encryption of the secrets kept in the store (API token, consent tokens,
portal session ids) with Fernet under a key file of its own.

The key file lives in the config folder, apart from the store it unlocks,
and is created (0600) only while the store holds no encrypted value: a store
whose key is missing or wrong is reported, never silently re-keyed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kosma_tui.core.atomic import atomic_write
from kosma_tui.core.errors import StoreError
from kosma_tui.core.paths import make_private_dir

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

PREFIX = "enc:v1:"


class Secrets:
    """``encrypt``/``decrypt`` of single values as ``enc:v1:<Fernet token>``.

    ``may_create`` answers whether a missing key may be created now; the
    store passes "holds no encrypted value yet". Without it a missing key is
    created on first use.
    """

    def __init__(self, key_file: Path, may_create: Callable[[], bool] | None = None) -> None:
        self.key_file = Path(key_file)
        self._may_create = may_create or (lambda: True)
        self._fernet: Fernet | None = None
        self._guard = threading.Lock()

    @staticmethod
    def is_encrypted(value: object) -> bool:
        return isinstance(value, str) and value.startswith(PREFIX)

    def has_key(self) -> bool:
        return self.key_file.exists()

    def encrypt(self, text: str) -> str:
        if self.is_encrypted(text):
            return text
        # the key must still be on disk: a value encrypted under a key that
        # is gone could never be read again
        fernet = self._key(create=False) if self.has_key() else None
        if fernet is None:
            if not self._may_create():
                raise self._missing()
            self._fernet = None
            fernet = self._key(create=True)
        return PREFIX + fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, value: str) -> str:
        """Clear text of a stored value (values never encrypted pass through)."""
        if not self.is_encrypted(value):
            return value
        from cryptography.fernet import InvalidToken

        fernet = self._key(create=False)
        try:
            return fernet.decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise StoreError(
                f"The secrets in the store cannot be read with the key file {self.key_file} "
                "(it is not the key they were encrypted with).",
                "Restore the key file the store was created with from a backup.",
            ) from exc

    def ensure_key(self) -> bool:
        """Create the key file now when it is missing and may be created; True if it exists."""
        if self.has_key():
            return True
        if not self._may_create():
            return False
        self._key(create=True)
        return True

    def _missing(self) -> StoreError:
        return StoreError(
            f"The key file {self.key_file} is missing; the secrets in the store cannot be "
            "read, and kosma-tui will not replace the key.",
            "Restore the key file from a backup (the same file the store was created with).",
        )

    def _key(self, *, create: bool) -> Fernet:
        with self._guard:
            if self._fernet is not None:
                return self._fernet
            from cryptography.fernet import Fernet

            try:
                key = self.key_file.read_bytes()
            except FileNotFoundError:
                if not create:
                    raise self._missing() from None
                key = self._create()
            except OSError as exc:
                raise StoreError(
                    f"Could not read the key file {self.key_file} ({exc.strerror}).",
                    "Check the permissions of that file.",
                ) from exc
            try:
                self._fernet = Fernet(key.strip())
            except ValueError as exc:
                raise StoreError(
                    f"The key file {self.key_file} does not hold a valid key.",
                    "Restore the key file from a backup.",
                ) from exc
            if self.key_file.stat().st_mode & 0o077:
                self.key_file.chmod(0o600)
            return self._fernet

    def _create(self) -> bytes:
        """A new key, written 0600 and fsynced; if another process created one
        first, that one wins (hard link fails on an existing name)."""
        from cryptography.fernet import Fernet

        folder = self.key_file.parent
        make_private_dir(folder)
        key = Fernet.generate_key()
        try:
            atomic_write(self.key_file, key + b"\n", overwrite=False, what="the key file")
        except FileExistsError:
            return self.key_file.read_bytes()
        return key

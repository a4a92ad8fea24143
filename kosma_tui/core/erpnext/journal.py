"""The push journal: the batch in flight, written down before it is sent.

ERPNext finishes a request whose client has gone (a kill, Ctrl-C, a timeout, a
504 from a proxy) and commits it afterwards, so a lookup right after a lost
answer may not see yet what will be there a moment later. Before
``insert_many`` is sent, its ids and the time are written here (atomically,
fsynced); the entry is removed once the answer arrived or the batch was
settled. A push that finds an entry settles it before anything else: it looks
the ids up, and while some are missing waits, looking again, until the
server's request timeout has passed since the batch was sent; only then can
a missing id not arrive any more, and only then is it sent again.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from kosma_tui.core.atomic import atomic_write
from kosma_tui.core.errors import StoreError
from kosma_tui.core.store.files import RESTORE_REMEDY

FILE_NAME = "erpnext-push-journal.json"
MARGIN = 5.0  # seconds: the server's own lag between killing a worker and rolling back


@dataclass
class InFlight:
    account: str  # the local Bank Account
    bank_account: str  # the ERPNext Bank Account
    ids: list[str]
    sent_at: float  # wall clock (it must mean the same in the next process)
    server_timeout: float

    @property
    def deadline(self) -> float:
        """After this, a request the server was still running has been killed."""
        return self.sent_at + self.server_timeout + MARGIN


def path(store: Any) -> Any:
    return store.paths.data_dir / FILE_NAME


def begin(
    store: Any, account: str, bank_account: str, ids: list[str], server_timeout: float
) -> InFlight:
    entry = InFlight(account, bank_account, list(ids), time.time(), float(server_timeout))
    target = path(store)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, orjson.dumps(asdict(entry)))
    return entry


def current(store: Any) -> InFlight | None:
    target = path(store)
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            f"The push journal {target} cannot be read ({exc.strerror}).", RESTORE_REMEDY
        ) from exc
    try:
        data = orjson.loads(raw)
        return InFlight(
            str(data["account"]),
            str(data["bank_account"]),
            [str(i) for i in data["ids"]],
            float(data["sent_at"]),
            float(data["server_timeout"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise StoreError(f"The push journal {target} is damaged.", RESTORE_REMEDY) from None


def clear(store: Any) -> None:
    path(store).unlink(missing_ok=True)

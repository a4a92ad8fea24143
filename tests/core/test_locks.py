"""The one file lock: every cross-process rule waits with a timeout and, when a
real second process holds on too long, says which process holds what."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest
from store_support import child

from kosma_tui.core import locks
from kosma_tui.core.erpnext.push import push_lock
from kosma_tui.core.locks import LockBusy
from kosma_tui.core.store import Store
from kosma_tui.core.sync.lock import consent_lock

# A second process holding one of the app's locks until it is killed.
HOLDER = """
import sys, time
from kosma_tui.core.store import Store
from kosma_tui.core.erpnext.push import push_lock
from kosma_tui.core.sync.lock import consent_lock
import asyncio

store = Store.open()
which = sys.argv[1]

async def consent():
    async with consent_lock(store, "Demo Bank - ACME"):
        print("held", flush=True)
        await asyncio.sleep(60)

if which == "push":
    with push_lock(store):
        print("held", flush=True)
        time.sleep(60)
elif which == "consent":
    asyncio.run(consent())
else:
    with store.locked():
        print("held", flush=True)
        time.sleep(60)
"""


@pytest.fixture
def store(home: Path) -> Store:
    return Store.open()


def hold(home: Path, which: str):
    holder = child(HOLDER, home, which)
    assert holder.stdout.readline().strip() == "held", holder.stderr.read()
    return holder


def stop(holder) -> None:
    holder.kill()
    holder.wait()


def test_the_push_lock_waits_with_a_timeout_and_names_the_holder(
    store: Store, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = hold(home, "push")
    try:
        # the package exports a function named push, so reach the module itself
        monkeypatch.setattr(sys.modules["kosma_tui.core.erpnext.push"], "PUSH_WAIT_SECONDS", 0.3)
        started = time.monotonic()
        with pytest.raises(LockBusy) as caught, push_lock(store):
            pass
        assert time.monotonic() - started < 2
        assert caught.value.message == (
            f"The ERPNext push is busy: a push to ERPNext (process {holder.pid}) has held "
            "it for more than 0 seconds."
        )
        assert caught.value.exit_status == 2 and caught.value.code == "BUSY"
    finally:
        stop(holder)
    with push_lock(store):  # the kernel released it with the killed process
        pass


def test_a_consent_in_use_by_another_process_is_named_with_it(store: Store, home: Path) -> None:
    holder = hold(home, "consent")
    try:

        async def take() -> None:
            async with consent_lock(store, "Demo Bank - ACME", timeout=0.3):
                pass

        with pytest.raises(LockBusy) as caught:
            asyncio.run(take())
        assert caught.value.message.startswith(
            "The Bank Consent Demo Bank - ACME is busy: a sync of the Bank Consent "
            f"Demo Bank - ACME (process {holder.pid}) has held it"
        )
    finally:
        stop(holder)


def test_the_store_lock_names_the_process_holding_it(store: Store, home: Path) -> None:
    holder = hold(home, "store")
    try:
        lock = locks.FileLock(store.paths.store_dir / "store.lock")  # a second "process" view
        with (
            pytest.raises(
                LockBusy,
                match=rf"^The store is busy: kosma-tui \(process "
                rf"{holder.pid}\) has held it",
            ),
            lock.hold(0.2),
        ):
            pass
    finally:
        stop(holder)


def test_try_hold_and_is_held_see_a_lock_of_this_or_another_process(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "flow.lock"
    assert not locks.is_held(path)  # no file yet
    fd = locks.try_hold(path, "a Link Bank and Accounts flow")
    assert fd is not None
    try:
        assert locks.is_held(path)
        assert locks.try_hold(path, "another flow") is None
        assert locks.holder_of(path).startswith("a Link Bank and Accounts flow (process ")
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.close(fd)
    assert not locks.is_held(path)


def test_a_damaged_holder_line_is_not_shown_raw(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    path.write_bytes(b"\x1b[31mred\x07")
    assert locks.holder_of(path) == "\\x1b[31mred\\x07"
    path.write_bytes(b"")
    assert locks.holder_of(path) == "another kosma-tui process"

"""A damaged store is named, never used as if it were fine (DESIGN 5 and 7).

Files edited by hand with a value of the wrong kind, an emptied or deleted
sync_runs.json, a deleted account folder: each is reported with the file or
folder named, ``status`` exits 2, and nothing is overwritten behind the admin's
back.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from sync_support import client_for, kosma, link

from kosma_tui.core.store import Store
from kosma_tui.core.sync import SyncEngine


def edit_meta(home: Path, table: str, **fields: Any) -> Path:
    path = home / "data" / "store" / "meta.json"
    if not path.exists():
        path = next(home.rglob("meta.json"))
    data = orjson.loads(path.read_bytes())
    for document in data[table].values():
        document.update(fields)
    path.write_bytes(orjson.dumps(data))
    return path


@pytest.mark.parametrize(
    ("table", "fields", "detail"),
    [
        ("settings", {"reminder_days": "7"}, "reminder_days is '7', not a whole number"),
        ("settings", {"lookback_days": None}, "lookback_days is None, not a whole number"),
        ("settings", {"enabled": "yes"}, "enabled is 'yes', not true or false"),
        (
            "companies",
            {"fiscal_year_start": "13-01"},
            "fiscal_year_start of 'Demo Company' is '13-01', not MM-DD",
        ),
        ("companies", {"country": 49}, "country is 49, not a text"),
    ],
)
def test_a_value_of_the_wrong_kind_names_the_file(
    home: Path, table: str, fields: dict[str, Any], detail: str
) -> None:
    Store.open()
    path = edit_meta(home, table, **fields)
    before = path.read_bytes()
    for args in (["status"], ["company", "list"], ["settings"]):
        done = kosma(home, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr == (
            f"kosma-tui: The store file {path} is corrupt (a "
            f"{ {'settings': 'BankingSettings', 'companies': 'Company'}[table] }"
            f" record's {detail}). Restore it from a backup, or move it away "
            "to start over; kosma-tui did not change it.\n"
        )
    assert path.read_bytes() == before


@pytest.fixture
def synced(home: Path, demo_portal: Any) -> tuple[Store, Any, str]:
    """A store whose Demo Bank account was synced once."""
    store = Store.open()

    async def first() -> None:
        async with client_for(str(demo_portal.url)) as client:
            await link(store, client, "embedded")
            result = await SyncEngine(store, client).sync_account(store.accounts()[0].name)
            assert result.status == "ok" and result.new > 0, result.error

    asyncio.run(first())
    return store, demo_portal, store.accounts()[0].name


def sync(store: Store, portal: Any, name: str) -> Any:
    async def run() -> Any:
        async with client_for(str(portal.url)) as client:
            return await SyncEngine(store, client).sync_account(name)

    return asyncio.run(run())


def test_an_emptied_sync_runs_file_is_reported_by_sync_and_status(
    home: Path, synced: tuple[Store, Any, str]
) -> None:
    store, portal, name = synced
    store.sync_runs_file.write_bytes(b"")
    result = sync(store, portal, name)
    assert result.status == "failed"
    assert result.error.message == (
        f"The store file {store.sync_runs_file} is corrupt (the file is empty)."
    )
    assert store.sync_runs_file.read_bytes() == b""  # never overwritten
    status = kosma(home, "status")
    assert status.returncode == 2
    assert f"The store file {store.sync_runs_file} is corrupt (the file is empty)." in (
        status.stdout
    )


def test_a_deleted_sync_runs_file_is_reported_once_then_a_new_history_starts(
    home: Path, synced: tuple[Store, Any, str]
) -> None:
    store, portal, name = synced
    store.sync_runs_file.unlink()
    status = kosma(home, "status")
    assert status.returncode == 2
    assert (
        f"The store file {store.sync_runs_file} is missing although 1 account(s) were "
        "synced: their sync history is lost." in status.stdout
    )
    reported = sync(store, portal, name)
    assert reported.status == "failed" and "is missing" in reported.error.message
    assert kosma(home, "status").returncode == 2  # the failed last sync says it
    assert sync(store, portal, name).status == "ok"  # a new history has started
    assert kosma(home, "status").returncode == 0


def test_a_deleted_account_folder_is_reported_and_never_papered_over(
    home: Path, synced: tuple[Store, Any, str]
) -> None:
    store, portal, name = synced
    account = store.account(name)
    folder = store.transactions_dir / account.key
    shutil.rmtree(folder)
    status = kosma(home, "status")
    assert status.returncode == 2
    assert f"The transactions of '{name}' are missing: their folder {folder} is gone." in (
        status.stdout
    )
    result = sync(store, portal, name)
    assert result.status == "failed" and result.error.code == "STORE"
    assert str(folder) in result.error.message and "Restore that folder" in result.error.remedy
    assert not folder.exists()  # the sync read nothing and created nothing
    # the admin accepts the loss: an empty folder and the Last Integration Date reset
    folder.mkdir(mode=0o700)
    consent = store.consents()[0]
    done = kosma(home, "account", "set-last-integration-date", name, consent.consent_start)
    assert done.returncode == 0, done.stderr
    again = sync(store, portal, name)
    assert again.status == "ok" and again.new > 0
    assert kosma(home, "status").returncode == 0


def test_a_stray_chunk_like_file_is_the_file_named(home: Path) -> None:
    from store_support import daily_rows

    from kosma_tui.core.errors import StoreError
    from kosma_tui.core.records import BankAccount

    store = Store.open()
    store.save_account(BankAccount("Giro (Max)", "Demo Bank", "Demo Company"))
    account = store.account("Giro (Max)")
    store.book(account).append(daily_rows(0, 300))
    folder = store.transactions_dir / account.key
    stray = folder / "2022-01.002.json"
    shutil.copy(folder / "2022-01.001.json", stray)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(StoreError) as info:
        Store.open().book(account).count()
    assert info.value.message.startswith(
        f"The file {stray} in the transactions of 'Giro (Max)' is not one kosma-tui wrote"
    )
    assert info.value.remedy.startswith(f"Move 2022-01.002.json out of {folder}")
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written
    stray.unlink()
    assert Store.open().book(account).count() == 300

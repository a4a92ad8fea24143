"""The store's records (DESIGN 1 and 5) on a real temporary store."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import orjson
import pytest
from store_support import child, make_row, store_files

from kosma_tui.core.errors import StoreError, UsageError
from kosma_tui.core.locks import FileLock
from kosma_tui.core.paths import Paths, resolve_paths
from kosma_tui.core.records import (
    Balance,
    Bank,
    BankAccount,
    BankConsent,
    Company,
    ErpnextConnection,
    LastSync,
    LinkSession,
    Party,
    SyncRun,
)
from kosma_tui.core.store import SCHEMA_VERSION, Store


@pytest.fixture
def paths(home: Path) -> Paths:
    return resolve_paths()


@pytest.fixture
def store(paths: Paths) -> Store:
    return Store.open(paths)


def meta(paths: Paths) -> dict:
    return orjson.loads((paths.store_dir / "meta.json").read_bytes())


def test_first_run_has_demo_company_default_settings_and_private_files(
    store: Store, paths: Paths
) -> None:
    assert store.paths == paths
    assert [c.to_dict() for c in store.companies()] == [
        {
            "name": "Demo Company",
            "country": "DE",
            "fiscal_year_start": "01-01",
            "default_currency": "EUR",
        }
    ]
    settings = store.settings()
    assert (settings.reminder_days, settings.lookback_days) == (7, 7)
    assert settings.demo and settings.effectively_enabled
    assert meta(paths)["schema"] == {"1": {"version": SCHEMA_VERSION}}
    assert paths.key_file.exists()
    for folder in (paths.config_dir, paths.data_dir, paths.store_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for file in (paths.key_file, paths.store_dir / "meta.json"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_opening_again_writes_nothing(store: Store, paths: Paths) -> None:
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in paths.store_dir.rglob("*")}
    again = Store.open(paths)
    again.settings()
    again.companies()
    assert {
        p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in paths.store_dir.rglob("*")
    } == before


def test_balance_and_last_sync_are_typed_and_stored_as_before(store: Store, paths: Paths) -> None:
    store.save_account(BankAccount("Giro (Max)", "Demo Bank", "Demo Company"))
    stored = next(iter(meta(paths)["accounts"].values()))
    assert stored["balance"] == {} and stored["last_sync"] == {}  # none yet: as before
    assert store.account("Giro (Max)").balance is None

    # a store written before the records were typed: plain objects, some keys missing
    data = meta(paths)
    doc = next(iter(data["accounts"].values()))
    doc["balance"] = {"available": 5, "booked": 7, "currency": "EUR", "date": "2024-05-01"}
    doc["last_sync"] = {
        "when": "2024-05-01T08:00:00",
        "outcome": "failed",
        "new": 3,
        "error": {"code": "X", "message": "m", "remedy": "r"},
    }
    (paths.store_dir / "meta.json").write_bytes(orjson.dumps(data))
    account = store.account("Giro (Max)")
    assert account.balance == Balance(available=5, booked=7, currency="EUR", date="2024-05-01")
    assert account.balance.shown == 7
    assert account.last_sync == LastSync(
        when="2024-05-01T08:00:00",
        outcome="failed",
        new=3,
        error={"code": "X", "message": "m", "remedy": "r"},
    )
    store.update_account("Giro (Max)", enabled=False)
    again = next(iter(meta(paths)["accounts"].values()))
    assert again["balance"] == doc["balance"]  # the same object on disk
    assert again["last_sync"] == LastSync.from_dict(doc["last_sync"]).to_dict()

    doc["balance"] = ["not", "an", "object"]  # edited by hand: said, not a TypeError later
    (paths.store_dir / "meta.json").write_bytes(orjson.dumps(data))
    with pytest.raises(StoreError, match="balance is"):
        store.account("Giro (Max)")


def test_records_round_trip(store: Store) -> None:
    store.save_company(Company("ACME GmbH", "AT", "04-01", "EUR"))
    store.save_company(Company("ACME GmbH", "AT", "07-01", "EUR"))  # update, not a second one
    assert store.company("ACME GmbH") == Company("ACME GmbH", "AT", "07-01", "EUR")
    assert [c.name for c in store.companies()] == ["Demo Company", "ACME GmbH"]
    assert store.company("nope") is None

    store.save_bank(Bank("Demo Bank", "DEMODEFFXXX", "12345678", "DE"))
    assert store.bank("Demo Bank") == Bank("Demo Bank", "DEMODEFFXXX", "12345678", "DE")
    assert store.banks() == [store.bank("Demo Bank")]

    store.save_erpnext(ErpnextConnection("https://erp.example.com", "key", "secret", "site"))
    assert store.erpnext().api_secret == "secret"

    settings = store.settings()
    settings.reminder_days = 14
    store.save_settings(settings)
    assert store.settings().reminder_days == 14


def test_accounts_get_a_stable_key_and_filters(store: Store) -> None:
    giro = BankAccount("Giro (Max)", "Demo Bank", "Demo Company", iban="DE1")
    store.save_account(giro)
    assert giro.key.startswith("giro-max-")
    store.save_account(BankAccount("Savings (Max)", "Other Bank", "ACME", iban="DE2"))
    assert [a.name for a in store.accounts(bank="Demo Bank")] == ["Giro (Max)"]
    assert [a.name for a in store.accounts(company="ACME")] == ["Savings (Max)"]
    assert store.accounts(bank="Demo Bank", company="ACME") == []
    # a record built afresh for the same name keeps the stored key
    again = BankAccount("Giro (Max)", "Demo Bank", "Demo Company", iban="DE1", currency="CHF")
    store.save_account(again)
    assert again.key == giro.key
    assert len(store.accounts()) == 2
    assert store.account("Giro (Max)").currency == "CHF"


def test_renaming_an_account_keeps_its_transactions(store: Store) -> None:
    giro = BankAccount("Giro (Max)", "Demo Bank", "Demo Company")
    store.save_account(giro)
    store.book(giro).append([make_row(1), make_row(2)])
    giro.name = "Main account (Max)"
    store.save_account(giro)
    assert [a.name for a in store.accounts()] == ["Main account (Max)"]
    renamed = store.account("Main account (Max)")
    rows = store.book(renamed).all_rows()
    assert len(rows) == 2
    assert {r["bank_account"] for r in rows} == {"Main account (Max)"}
    # renaming onto another account's name is refused
    store.save_account(BankAccount("Savings", "Demo Bank", "Demo Company"))
    renamed.name = "Savings"
    with pytest.raises(UsageError, match="already a bank account named 'Savings'"):
        store.save_account(renamed)


def test_update_account_is_a_read_modify_write(store: Store) -> None:
    store.save_account(BankAccount("Giro (Max)", "Demo Bank", "Demo Company"))
    stale = store.account("Giro (Max)")
    store.update_account("Giro (Max)", last_integration_date="2024-05-01")
    updated = store.update_account("Giro (Max)", balance=Balance(available=5, currency="EUR"))
    assert updated.last_integration_date == "2024-05-01"  # not clobbered by the second call
    assert store.account("Giro (Max)").balance == Balance(available=5, currency="EUR")
    assert store.account("Giro (Max)").key == stale.key
    with pytest.raises(UsageError, match="no bank account named 'Nope'"):
        store.update_account("Nope", last_integration_date="2024-05-01")
    with pytest.raises(TypeError):
        store.update_account("Giro (Max)", colour="red")


def test_consents_tokens_and_deletion(store: Store) -> None:
    consent = BankConsent(
        "Demo Bank-Demo Company",
        "Demo Bank",
        "Demo Company",
        "c-1",
        "2024-05-01",
        "2024-07-30T10:00:00+02:00",
        "token-1",
        "sess-1",
    )
    store.save_consent(consent)
    store.update_consent_token(consent.name, "token-2")
    stored = store.consent(consent.name)
    assert (stored.consent_token, stored.session_id, stored.consent_id) == (
        "token-2",
        "sess-1",
        "c-1",
    )
    with pytest.raises(UsageError):
        store.update_consent_token("Other-Bank", "token-x")
    assert store.delete_consent(consent.name) is True
    assert store.delete_consent(consent.name) is False
    assert store.consents() == []


def test_rotated_consent_token_is_on_disk_before_returning(
    store: Store, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "Demo Bank-Demo Company"
    store.save_consent(BankConsent(name, "Demo Bank", "Demo Company", consent_token="t1"))
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    store.update_consent_token(name, "t2")
    assert any(".meta.json." in path for path in synced)  # the file, before its rename
    assert str(paths.store_dir) in synced  # and the rename itself
    assert Store.open(paths).consent(name).consent_token == "t2"


def test_parties_save_delete_replace(store: Store) -> None:
    store.save_party(Party("Customer", "ACME", ["DE1"], []))
    store.save_party(Party("Supplier", "ACME", [], ["123"]))
    store.save_party(Party("Customer", "ACME", ["DE1", "DE2"], []))
    assert [(p.party_type, p.name, p.ibans) for p in store.parties()] == [
        ("Customer", "ACME", ["DE1", "DE2"]),
        ("Supplier", "ACME", []),
    ]
    assert store.delete_party("Supplier", "ACME") is True
    assert store.delete_party("Supplier", "ACME") is False
    store.replace_parties([Party("Employee", f"E{i}") for i in range(300)])
    assert [p.name for p in store.parties()] == [f"E{i}" for i in range(300)]


def test_link_sessions_are_matched_by_session_id(store: Store) -> None:
    store.save_link_session(LinkSession("sess-A", "A", "flow-A", "Running", "2024-05-01T10:00"))
    store.save_link_session(LinkSession("sess-B", "B", "flow-B", "Running", "2024-05-01T11:00"))
    store.save_link_session(LinkSession("sess-A", "A", "flow-A", "Closed", "2024-05-01T10:00"))
    assert [s.session_id for s in store.link_sessions("Running")] == ["sess-B"]
    assert [s.session_id for s in store.link_sessions()] == ["sess-A", "sess-B"]
    for i in range(30):
        store.save_link_session(LinkSession(f"old-{i}", status="Closed"))
    assert len(store.link_sessions("Closed")) == 20
    assert [s.session_id for s in store.link_sessions("Running")] == ["sess-B"]


def test_sync_runs_newest_first_and_trimmed_per_account(store: Store, paths: Paths) -> None:
    for i in range(205):
        store.add_sync_run(SyncRun("Giro", started=f"run-{i}", new=i, status="ok"))
    store.add_sync_run(
        SyncRun(
            "Savings",
            started="only",
            status="failed",
            error={"code": "X", "message": "m", "remedy": ""},
        )
    )
    assert [r.started for r in store.sync_runs("Giro", limit=3)] == [
        "run-204",
        "run-203",
        "run-202",
    ]
    assert len(store.sync_runs("Giro", limit=1000)) == 200
    assert store.sync_runs(limit=1)[0].account == "Savings"
    assert store.sync_runs("Savings")[0].error["code"] == "X"
    assert "sync_runs" not in meta(paths)  # launching never reads them


def test_launch_reads_no_transaction_file(store: Store, paths: Paths) -> None:
    giro = BankAccount("Giro (Max)", "Demo Bank", "Demo Company")
    store.save_account(giro)
    store.book(giro).append([make_row(i) for i in range(10)])
    store.add_sync_run(SyncRun("Giro (Max)", status="ok"))
    for file in (paths.store_dir / "transactions").rglob("*.json"):
        file.write_bytes(b"{corrupt")
    (paths.store_dir / "sync_runs.json").write_bytes(b"{corrupt")
    again = Store.open(paths)
    assert again.settings().reminder_days == 7
    assert [a.name for a in again.accounts()] == ["Giro (Max)"]
    assert again.consents() == []


def test_newer_schema_is_refused_and_left_untouched(store: Store, paths: Paths) -> None:
    data = meta(paths)
    data["schema"] = {"1": {"version": SCHEMA_VERSION + 1}}
    (paths.store_dir / "meta.json").write_bytes(orjson.dumps(data))
    before = (paths.store_dir / "meta.json").read_bytes()
    with pytest.raises(StoreError, match="newer kosma-tui") as info:
        Store.open(paths)
    assert "Upgrade kosma-tui" in info.value.remedy
    with pytest.raises(StoreError):
        store.save_company(Company("X"))
    assert (paths.store_dir / "meta.json").read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [
        b'{"schema": {"1": {"version"',
        b"",
        b"[1, 2]",
        b"{}",
        b'{"companies": {"1": {}}}',
        b'{"schema": {"1": {"version": 1}}, "companies": [1]}',
    ],
)
def test_corrupt_meta_names_the_file_and_is_never_written(
    store: Store, paths: Paths, content: bytes
) -> None:
    meta_file = paths.store_dir / "meta.json"
    meta_file.write_bytes(content)
    before = store_files(paths.data_dir)

    def attempts() -> list:
        return [
            lambda: Store.open(paths),
            store.companies,
            store.settings,
            lambda: store.save_company(Company("New")),
            lambda: store.save_settings(store.settings()),
            lambda: store.update_account("Giro", last_integration_date="2024-01-01"),
            lambda: store.replace_parties([]),
            lambda: store.update_consent_token("x", "y"),
        ]

    for attempt in attempts():
        with pytest.raises(StoreError) as info:
            attempt()
        assert str(meta_file) in info.value.message
    assert store_files(paths.data_dir) == before


def test_a_damaged_record_stops_the_launch_naming_the_file(store: Store, paths: Paths) -> None:
    meta_file = paths.store_dir / "meta.json"
    meta_file.write_bytes(b'{"schema": {"1": {"version": 1}}, "companies": {"1": {"country": 1}}}')
    for attempt in (lambda: Store.open(paths), store.companies):
        with pytest.raises(StoreError, match="a Company record's country is 1, not a text") as info:
            attempt()
        assert str(meta_file) in info.value.message
    assert meta_file.read_bytes().startswith(b'{"schema": {"1": {"version": 1}}, "companies"')


def test_locked_is_reentrant_and_serialises_threads(store: Store) -> None:
    store.save_account(
        BankAccount("Shared", "Demo Bank", "Demo Company", balance=Balance(available=0))
    )
    with store.locked(), store.locked():
        store.save_company(Company("Inside"))

    def bump() -> None:
        for _ in range(25):
            with store.locked():
                count = store.account("Shared").balance.available
                store.update_account("Shared", balance=Balance(available=count + 1))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.account("Shared").balance.available == 100


WRITER = """
import sys
from kosma_tui.core.records import Balance, Company
from kosma_tui.core.store import Store
store = Store.open()
tag = sys.argv[1]
for i in range(200):
    store.save_company(Company(f"{tag}-{i}"))
    with store.locked():
        count = store.account("Shared").balance.available
        store.update_account("Shared", balance=Balance(available=count + 1),
                             last_integration_date=f"{tag}-{i}")
"""


def test_two_processes_writing_at_once_lose_nothing(store: Store, home: Path) -> None:
    store.save_account(
        BankAccount("Shared", "Demo Bank", "Demo Company", balance=Balance(available=0))
    )
    writers = [child(WRITER, home, tag) for tag in ("A", "B")]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    names = {c.name for c in store.companies()}
    assert names >= {f"{tag}-{i}" for tag in "AB" for i in range(200)}
    assert len(names) == 401
    assert store.account("Shared").balance.available == 400


HOLDER = """
import sys, time
from kosma_tui.core.store import Store
store = Store.open()
with store.locked():
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def test_a_busy_store_says_so_after_the_timeout(store: Store, home: Path) -> None:
    holder = child(HOLDER, home, "3")
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = FileLock(store.paths.store_dir / "store.lock")  # a second "process" view
        started = time.monotonic()
        with pytest.raises(StoreError, match="busy"), lock.hold(timeout=0.3):
            pass
        assert time.monotonic() - started < 2
    finally:
        holder.kill()
        holder.wait()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(
    store: Store, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = store_files(paths.data_dir)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StoreError, match="No space left on device") as info:
        store.save_company(Company("X"))
    assert str(paths.store_dir / "meta.json") in info.value.message
    monkeypatch.undo()
    assert store_files(paths.data_dir) == before
    assert [c.name for c in store.companies()] == ["Demo Company"]


def test_the_home_and_everything_below_it_are_private_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    outer.chmod(0o755)
    home = outer / "new" / "home"
    monkeypatch.setenv("KOSMA_TUI_HOME", str(home))
    old = os.umask(0)
    try:
        Store.open(resolve_paths())
    finally:
        os.umask(old)
    assert stat.S_IMODE(outer.stat().st_mode) == 0o755  # not ours: left as it was
    for folder in (outer / "new", home, *[p for p in home.rglob("*") if p.is_dir()]):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in (p for p in home.rglob("*") if p.is_file()):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file

"""Administration in core (DESIGN 8) against the real Demo Bank portal and a real store:
names by IBAN or prefix, rename, disable, remove, revoke."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sync_support import client_for, link

from kosma_tui.core import admin
from kosma_tui.core.errors import PortalError, UsageError
from kosma_tui.core.records import LastSync
from kosma_tui.core.sync import SyncEngine

TODAY = date.today()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Any]:
    from kosma_tui.sandbox import start_portal

    with start_portal(tmp_path / "portal" / "state.json") as running:
        yield running


@pytest.fixture
def store(home: Path) -> Any:
    from kosma_tui.core.store import Store

    return Store.open()


@pytest.fixture
async def client(portal: Any) -> AsyncIterator[Any]:
    async with client_for(str(portal.url)) as c:
        yield c


async def test_names_by_exact_iban_case_insensitive_and_unique_prefix(
    store: Any, client: Any
) -> None:
    await link(store, client, "embedded", start=TODAY - timedelta(days=5))
    giro = next(a for a in store.accounts() if a.name.startswith("Girokonto"))
    spaced = " ".join(giro.iban[i : i + 4] for i in range(0, len(giro.iban), 4)).lower()
    for text in (giro.name, giro.name.upper(), "giro", "  GIROK", giro.iban, spaced):
        assert admin.find_account(store, text).key == giro.key, text
    with pytest.raises(admin.UnknownName) as unknown:
        admin.find_account(store, "nope")
    assert unknown.value.exit_status == 2
    assert "'Girokonto (Max Mustermann)'" in unknown.value.message  # the candidates
    store.save_account(type(giro)(name="Girokonto Zwei", bank=giro.bank, company=giro.company))
    with pytest.raises(admin.AmbiguousName) as ambiguous:
        admin.find_account(store, "giro")
    assert "2 bank accounts" in ambiguous.value.message
    assert "'Girokonto Zwei'" in ambiguous.value.message
    # the full name still wins over being a prefix of another
    assert admin.find_account(store, "girokonto (max mustermann)").key == giro.key


async def test_rename_keeps_transactions_history_and_refuses_clashes(
    store: Any, client: Any
) -> None:
    await link(store, client, "embedded", start=TODAY - timedelta(days=20))
    engine = SyncEngine(store, client)
    giro = admin.find_account(store, "giro")
    assert (await engine.sync_account(giro.name)).ok
    count = store.book(giro).count()
    assert count > 0
    old, renamed = admin.rename_account(store, "giro", "  Main   account ")
    assert (old, renamed.name, renamed.key) == (giro.name, "Main account", giro.key)
    assert store.account(giro.name) is None
    assert store.book(renamed).count() == count
    assert {r["bank_account"] for r in store.book(renamed).rows()} == {"Main account"}
    assert [r.account for r in store.sync_runs("Main account")] == ["Main account"]
    assert (await engine.sync_account("Main account")).ok  # still syncs under its new name
    tages = admin.find_account(store, "tages")
    for bad, words in (
        ("", "empty"),
        ("MAIN ACCOUNT", "already"),
        ("a\x1bb", "control"),
        ("x" * 141, "at most 140"),
    ):
        with pytest.raises(UsageError, match=words):
            admin.rename_account(store, tages.name, bad)
    assert store.account(tages.name) is not None


async def test_disabled_account_is_skipped_refused_and_not_counted(store: Any, client: Any) -> None:
    from kosma_tui.core.sync.health import CRITICAL, OK, health

    await link(store, client, "embedded", start=TODAY - timedelta(days=5))
    giro = admin.find_account(store, "giro")
    store.update_account(
        giro.name, last_sync=LastSync(outcome="failed", error={"message": "The bank is closed."})
    )
    assert health(store).level == CRITICAL
    admin.set_enabled(store, "giro", False)
    assert health(store).level == OK
    listed = {a["name"]: a["enabled"] for a in health(store).as_json()["accounts"]}
    assert listed[giro.name] is False and sum(listed.values()) == 2
    results = await SyncEngine(store, client).sync_all()
    assert giro.name not in {r.name for r in results} and len(results) == 2
    refused = await SyncEngine(store, client).sync_account(giro.name)
    assert refused.status == "refused" and refused.error.code == "ACCOUNT_DISABLED"
    assert "account enable" in refused.error.remedy
    admin.set_enabled(store, "giro", True)
    assert (await SyncEngine(store, client).sync_account(giro.name)).ok


async def test_remove_deletes_the_account_and_only_its_transactions(
    store: Any, client: Any
) -> None:
    await link(store, client, "embedded", start=TODAY - timedelta(days=20))
    engine = SyncEngine(store, client)
    await engine.sync_all()
    giro, tages = admin.find_account(store, "giro"), admin.find_account(store, "tages")
    kept = store.book(tages).count()
    folder = store.transactions_dir / giro.key
    assert folder.is_dir()
    removed, count = admin.remove_account(store, "giro")
    assert removed.key == giro.key and count > 0
    assert not folder.exists() and store.account(giro.name) is None
    assert store.sync_runs(giro.name) == []
    assert store.book(admin.find_account(store, "tages")).count() == kept
    with pytest.raises(admin.UnknownName):
        admin.remove_account(store, "giro")


async def test_revoke_ends_the_consent_at_the_portal_and_keeps_the_accounts(
    store: Any, client: Any
) -> None:
    consent = await link(store, client, "embedded", start=TODAY - timedelta(days=5))
    token = store.consent(consent.name).consent_token
    revoked = await admin.revoke_consent(store, client, admin.find_consent(store, "demo"))
    assert revoked.portal_note == "" and len(revoked.accounts) == 3
    assert store.consents() == []
    with pytest.raises(PortalError) as ended:
        await client.fetch_consent_accounts(consent.consent_id, token)
    assert ended.value.code == "CONSENT.REVOKED"
    result = await SyncEngine(store, client).sync_account(revoked.accounts[0].name)
    assert result.status == "refused" and "Link Bank and Accounts" in result.error.remedy


async def test_revoke_goes_on_when_the_bank_already_ended_it_and_stops_on_other_failures(
    store: Any, client: Any, portal: Any
) -> None:
    consent = await link(store, client, "embedded", start=TODAY - timedelta(days=5))
    portal.fail_next(5, status=503)
    with pytest.raises(PortalError) as failed:
        await admin.revoke_consent(store, client, consent)
    assert failed.value.code.startswith("MAINTENANCE")
    assert store.consent(consent.name) is not None  # kept: the admin can try again
    portal.revoke_consent(consent.consent_id)  # withdrawn at the bank meanwhile
    revoked = await admin.revoke_consent(store, client, consent)
    assert "already ended" in revoked.portal_note
    assert store.consents() == []


def test_find_consent_by_bank_prefix_and_company(store: Any) -> None:
    from kosma_tui.core.records import BankConsent

    for bank, company in (
        ("Demo Bank", "Demo Company"),
        ("Demo Bank", "ACME"),
        ("Sparkasse", "ACME"),
    ):
        store.save_consent(BankConsent(BankConsent.name_for(bank, company), bank, company))
    assert admin.find_consent(store, "spark").bank == "Sparkasse"
    assert admin.find_consent(store, "demo bank", "acme").company == "ACME"
    with pytest.raises(admin.AmbiguousName, match="Demo Bank \\(ACME\\)"):
        admin.find_consent(store, "demo")
    with pytest.raises(admin.UnknownName, match="known ones"):
        admin.find_consent(store, "nothing")


async def test_the_same_account_name_elsewhere_is_told_apart_by_its_iban_end(
    store: Any, client: Any
) -> None:
    from kosma_tui.core.records import Company

    store.save_company(Company("ACME", "DE", "01-01", "EUR"))
    await link(store, client, "embedded", start=TODAY)
    await link(store, client, "embedded", start=TODAY, company="ACME")
    acme = [a for a in store.accounts(company="ACME") if a.name.startswith("Girokonto")]
    assert [a.name for a in acme] == [f"Girokonto …{acme[0].iban[-4:]} (Max Mustermann)"]
    # the distinguishing part comes first, so a prefix finds it
    assert admin.find_account(store, f"girokonto …{acme[0].iban[-4:]}").key == acme[0].key

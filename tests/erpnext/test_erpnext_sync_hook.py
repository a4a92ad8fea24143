"""End to end: a real sync from the Demo Bank portal, then the automatic push.

Rows come from the sync engine itself (not hand-made), so this proves the
bridge reads what sync writes: dates, minor units, statuses, ids.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from frappe_double import FrappeDouble

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from sync_support import link  # the sync tests' own helper

from kosma_tui.core import clock
from kosma_tui.core.erpnext import last_push
from kosma_tui.core.identifiers import compact as compact_iban
from kosma_tui.core.records import DEMO_COMPANY, Company


def test_sync_then_auto_push_sends_the_settled_transactions(store, demo_portal):
    from kosma_tui.core.portal import PortalClient
    from kosma_tui.core.sync import SyncEngine

    if store.company(DEMO_COMPANY) is None:
        store.save_company(Company(DEMO_COMPANY, "DE"))

    async def link_and_sync() -> list[Any]:
        async with PortalClient(demo_portal.url, "c", "t", ip_address="127.0.0.1") as client:
            await link(store, client, start=clock.today() - timedelta(days=20))
            # ERPNext holds a company Bank Account for every linked IBAN
            for n, account in enumerate(store.accounts()):
                erp.seed_account(f"Bank {n} - DC", DEMO_COMPANY, "Bank", account.currency)
                erp.seed_bank_account(
                    f"Demo {n}",
                    "Demo Bank",
                    DEMO_COMPANY,
                    compact_iban(account.iban),
                    f"Bank {n} - DC",
                )
            engine = SyncEngine(store, client)
            return [await engine.sync_account(a.name) for a in store.accounts()]

    with FrappeDouble() as erp:
        from erpnext_support import connect_store

        erp.seed_company(DEMO_COMPANY, "DC")
        erp.seed_bank("Demo Bank")
        connect_store(store, erp)
        settings = store.settings()
        settings.erpnext_auto_push = True
        store.save_settings(settings)
        results = asyncio.run(link_and_sync())
        assert results and all(r.ok for r in results), results
        assert all(r.push_error is None for r in results)
        settled = {
            tid: r
            for a in store.accounts()
            for tid, r in ((r["transaction_id"], r) for r in store.book(a).rows())
            if r["status"] == "Settled" and tid
        }
        assert settled, "the demo user has settled transactions"
        docs = {d["transaction_id"]: d for d in erp.bank_transactions()}
        assert set(docs) == set(settled)
        for tid, row in settled.items():
            assert row["erpnext_name"] == docs[tid]["name"]
            assert docs[tid]["date"] == row["date"]
            major = (row["deposit"] - row["withdrawal"]) / 100
            assert round(docs[tid]["deposit"] - docs[tid]["withdrawal"], 2) == major
        assert last_push(store)["unattended"] is True

"""The push after a sync looks at the rows the sync stored, not at the account's whole
history; the whole history only for the first push of an account, after a failed push,
and when a lost batch was recovered."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from erpnext_support import ACCOUNT, add_account, add_rows, row, rows_of

from kosma_tui.core.erpnext import auto_push, journal

# the module (the package's ``push`` is the function of that name)
push_module = sys.modules["kosma_tui.core.erpnext.push"]


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What each collect() of a push was asked for: None (the whole history) or ids."""
    asked: list[Any] = []
    real = push_module.collect

    def collect(store: Any, account: Any, ids: Any = None) -> Any:
        asked.append(None if ids is None else sorted(ids))
        return real(store, account, ids)

    monkeypatch.setattr(push_module, "collect", collect)
    return asked


@pytest.fixture
def auto(connected: Any) -> Any:
    settings = connected.settings()
    settings.erpnext_auto_push = True
    connected.save_settings(settings)
    add_account(connected)
    return connected


def test_after_a_good_push_only_the_stored_rows_are_looked_at(auto, erp, scans):
    add_rows(auto, [row(ACCOUNT, n) for n in range(1, 4)])
    first = auto_push(auto, [ACCOUNT], stored={ACCOUNT: ["tx-000003"]})
    assert first is not None and first.problem is None
    assert scans == [None]  # the account's first push: all of it
    assert first.total("created") == 3

    # an unpushed row the sync did not store is not this push's business
    add_rows(auto, [row(ACCOUNT, 4), row(ACCOUNT, 5)])
    second = auto_push(auto, [ACCOUNT], stored={ACCOUNT: ["tx-000005"]})
    assert second is not None and second.problem is None
    assert scans[1] == ["tx-000005"]
    assert second.total("created") == 1
    assert {d["transaction_id"] for d in erp.bank_transactions()} == {
        "tx-000001",
        "tx-000002",
        "tx-000003",
        "tx-000005",
    }
    # the push of the command still reads everything
    from kosma_tui.core.erpnext import ErpnextClient, push

    with ErpnextClient.for_store(auto) as client:
        manual = push(auto, client, [ACCOUNT])
    assert scans[2] is None and manual.total("created") == 1
    assert rows_of(auto)["tx-000004"]["erpnext_name"]


def test_after_a_failed_push_the_whole_history_is_looked_at(auto, erp, scans):
    from kosma_tui.core.erpnext.report import record_push
    from kosma_tui.core.errors import Problem

    add_rows(auto, [row(ACCOUNT, 1)])
    assert auto_push(auto, [ACCOUNT], stored={ACCOUNT: ["tx-000001"]}).problem is None
    # rows stored while ERPNext was away: that push failed and left them behind
    add_rows(auto, [row(ACCOUNT, 2)])
    record_push(
        auto,
        None,
        unattended=True,
        problem=Problem("ERPNEXT.UNREACHABLE", "ERPNext could not be reached."),
    )
    add_rows(auto, [row(ACCOUNT, 3)])
    again = auto_push(auto, [ACCOUNT], stored={ACCOUNT: ["tx-000003"]})
    assert again is not None and again.problem is None, again.problem
    assert scans[-1] is None and again.total("created") == 2


def test_a_recovered_batch_makes_the_push_look_at_everything(auto, erp, scans):
    add_rows(auto, [row(ACCOUNT, 1)])
    assert auto_push(auto, [ACCOUNT], stored={ACCOUNT: ["tx-000001"]}).problem is None
    add_rows(auto, [row(ACCOUNT, 2), row(ACCOUNT, 3)])
    # a batch left in flight (a kill during the last push): settled first, then all
    bank_account = auto.account(ACCOUNT).erpnext_bank_account
    journal.begin(auto, ACCOUNT, bank_account, ["tx-000002"], 0.0)
    report = auto_push(auto, [ACCOUNT], stored={ACCOUNT: ["tx-000003"]})
    assert report is not None and report.problem is None
    assert scans[-1] is None and report.total("created") == 2
    assert journal.current(auto) is None


def test_a_sync_with_too_many_ids_to_list_is_pushed_from_the_whole_history(auto, erp, scans):
    add_rows(auto, [row(ACCOUNT, n) for n in range(1, 3)])
    assert auto_push(auto, [ACCOUNT], stored={ACCOUNT: ["tx-000002"]}) is not None
    add_rows(auto, [row(ACCOUNT, 3), row(ACCOUNT, 4)])
    report = auto_push(auto, [ACCOUNT], stored={ACCOUNT: None})  # past the sync's cap
    assert report is not None and report.problem is None
    assert scans == [None, None]
    assert report.total("created") == 2

"""Helpers for the store tests: realistic Bank Transaction rows and child processes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def make_row(
    n: int,
    day: str = "2024-05-01",
    *,
    status: str = "Settled",
    transaction_id: str | None = None,
    account: str = "Giro (Max)",
) -> dict[str, Any]:
    """A row as sync builds it from a protocol Transaction, with its ``raw`` object."""
    tid = (
        hashlib.sha256(str(n).encode()).hexdigest()[:24]
        if transaction_id is None
        else transaction_id
    )
    amount = (n * 7919) % 250_000 + 1
    credit = n % 3 != 0
    raw = {
        "transaction_id": tid,
        "amount": {"amount": amount, "currency": "EUR"},
        "type": "CREDIT" if credit else "DEBIT",
        "state": "PROCESSED",
        "booking_date": day,
        "value_date": day,
        "date": day,
        "reference": f"Rechnung RE-{n:07d} [bold]vom[/] {day}",
        "bank_references": {"end_to_end": f"E2E-{n}", "mandate": "", "unstructured": ""},
        "counter_party": {
            "holder_name": f"Müller & Söhne {n % 50}",
            "iban": f"DE{n % 97:02d}370400440532{n % 1_000_000:06d}",
            "account_number": f"0532{n:06d}",
            "bic": "COBADEFFXXX",
        },
        "method": "TRANSFER",
    }
    return {
        "bank_account": account,
        "date": day,
        "deposit": amount if credit else 0,
        "withdrawal": 0 if credit else amount,
        "currency": "EUR",
        "transaction_id": tid,
        "reference_number": f"E2E-{n}",
        "description": raw["reference"],
        "bank_party_name": raw["counter_party"]["holder_name"],
        "bank_party_iban": raw["counter_party"]["iban"],
        "bank_party_account_number": raw["counter_party"]["account_number"],
        "status": status,
        "party_type": "",
        "party": "",
        "erpnext_name": "",
        "raw": raw,
    }


def daily_rows(
    first: int, count: int, per_day: int = 100, start: date = date(2022, 1, 1)
) -> list[dict[str, Any]]:
    """Rows ``first``..``first+count-1``, ``per_day`` of them on each day from ``start``."""
    return [
        make_row(n, (start + timedelta(days=n // per_day)).isoformat())
        for n in range(first, first + count)
    ]


def child(script: str, home: Path, *args: str) -> subprocess.Popen[str]:
    """A real second process running ``script`` against the store under ``home``."""
    env = {
        **os.environ,
        "KOSMA_TUI_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO), str(Path(__file__).parent), os.environ.get("PYTHONPATH")])
        ),
    }
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def store_files(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.suffix != ".lock"
    }

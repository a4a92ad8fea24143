"""The last ERPNext push, kept beside the store for ``status`` and ``erpnext status``.

A small JSON file written atomically after every push (manual or automatic).
Its ``error`` stays set until a push succeeds, so a failed automatic push
keeps ``status`` and ``erpnext status`` at exit 1 instead of passing
unnoticed. Lives outside ``core.erpnext`` so that ``status`` reads it without
importing the HTTP client.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from kosma_tui.core.atomic import atomic_write

log = logging.getLogger("kosma_tui.erpnext")

FILE_NAME = "erpnext-last-push.json"


def path(store: Any) -> Any:
    return store.paths.data_dir / FILE_NAME


def write(store: Any, data: dict[str, Any]) -> None:
    try:
        atomic_write(path(store), orjson.dumps(data, option=orjson.OPT_INDENT_2))
    except Exception as exc:  # a push must not fail for want of its summary
        log.warning("could not record the ERPNext push: %s", exc)


def read(store: Any) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path(store).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def problems(store: Any) -> list[str]:
    """Sentences for ``status``: the last push's failure and what needs attention."""
    last = read(store)
    if not last:
        return []
    out: list[str] = []
    error = last.get("error")
    if isinstance(error, dict) and error.get("message"):
        how = "automatic" if last.get("unattended") else "manual"
        out.append(
            f"The last ERPNext push ({how}, {last.get('when', '?')}) failed: {error['message']}"
        )
    for entry in last.get("attention") or []:
        out.append(
            f"ERPNext {entry.get('erpnext_name')} needs attention: the bank cancelled "
            f"transaction {entry.get('transaction_id')} of '{entry.get('account')}', "
            "but it is reconciled in ERPNext."
        )
    return out

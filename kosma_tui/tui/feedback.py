"""How outcomes reach the admin: toasts for results, the sentence and remedy for errors."""

from __future__ import annotations

from typing import Any

from textual.app import App

from kosma_tui.core.errors import KosmaError, Problem
from kosma_tui.tui.text import clean


def report(app: App[Any], error: KosmaError | Problem, *, title: str = "") -> None:
    """An error toast: what happened and what to do (never markup, never a traceback)."""
    message = clean(error.message)
    remedy = clean(error.remedy)
    app.notify(
        f"{message}\n{remedy}".strip() if title else remedy or message,
        title=clean(title) if title else message if remedy else "",
        severity="error",
        timeout=12,
        markup=False,
    )


def toast(app: App[Any], message: str, *, title: str = "", warning: bool = False) -> None:
    app.notify(
        clean(message),
        title=clean(title),
        severity="warning" if warning else "information",
        markup=False,
    )


def sentence(error: KosmaError | Problem) -> str:
    """Message and remedy on one line."""
    return clean(f"{error.message} {error.remedy}".strip())

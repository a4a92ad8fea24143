"""The full screens by name: the app opens them, Help lists them, neither imports the other.

A screen module registers its class with ``@registered("name")`` when it is imported (the app
imports every screen module once); ``ORDER`` fixes the order Help lists them in, whatever
the import order was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from kosma_tui.tui.screens.base import KosmaScreen

ORDER = ("accounts", "settings", "link", "consents", "sync", "transactions", "parties", "help")

_SCREENS: dict[str, type[KosmaScreen]] = {}

S = TypeVar("S", bound="type[KosmaScreen]")


def registered(name: str) -> Callable[[S], S]:
    """Class decorator: ``name`` opens this screen (``app.open_screen(name)``)."""
    if name not in ORDER:
        raise ValueError(f"{name!r} is not one of the screens in ORDER")

    def register(cls: S) -> S:
        _SCREENS[name] = cls
        return cls

    return register


def screen_class(name: str) -> type[KosmaScreen]:
    return _SCREENS[name]


def screen_classes() -> list[type[KosmaScreen]]:
    """Every registered screen, in ``ORDER``."""
    return [_SCREENS[name] for name in ORDER if name in _SCREENS]

"""What screens ask the app for, as typed messages (they bubble from a screen to the app).

A screen posts one of these instead of importing the app or another screen; the app
handles it with its controllers (``tui/controllers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from kosma_tui.core.records import BankingSettings


@dataclass
class OpenScreen(Message):
    """Show the screen registered as ``name`` (``tui.registry``), with these options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SyncAccount(Message):
    """Sync one account: a refusal is shown instead (the conflict with its two remedies)."""

    name: str


@dataclass
class SyncAccounts(Message):
    """Queue these accounts (just linked), then show the Sync screen."""

    names: list[str]


@dataclass
class SyncAll(Message):
    """Queue every enabled account; ``announce``: say how many; ``show``: open Sync."""

    announce: bool = True
    show: bool = False


@dataclass
class RenewConsent(Message):
    """Open the Link wizard for the bank and company of this consent."""

    consent: str


@dataclass
class MatchParties(Message):
    """Party matching again over the stored transactions of these accounts."""

    names: list[str]


@dataclass
class SettingsSaved(Message):
    """Banking Settings were saved as ``settings`` (the form or its mail section): the
    app's snapshot follows, and the header with it."""

    settings: BankingSettings

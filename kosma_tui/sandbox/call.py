"""What one protocol request carries, and how the portal is configured.

Shared by the dispatcher (``api.py``) and the consent calls (``consents.py``);
a module of its own so neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class PortalConfig:
    transaction_limit: int = 1_000_000
    slow_seconds: float = 2.0


@dataclass
class Call:
    """One authenticated request: its JSON body and the common fields already read."""

    body: dict[str, Any]
    customer: str
    attended: bool
    base_url: str

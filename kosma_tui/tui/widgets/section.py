"""A framed section of Banking Settings: labelled rows of inputs and a row of buttons.

The ERPNext and Reminder mails sections share this look; each adds only its own rules.
"""

from __future__ import annotations

from textual.containers import Vertical


class SettingsSection(Vertical):
    DEFAULT_CSS = """
    SettingsSection {
        height: auto;
        border: round $primary-lighten-1;
        border-title-style: bold;
        padding: 0 1;
    }
    SettingsSection .section-row { height: auto; }
    SettingsSection .section-label { width: 20; height: 1; }
    SettingsSection .section-row Input { width: 1fr; }
    SettingsSection .section-row Select { width: 1fr; }
    SettingsSection .section-row Switch { width: auto; height: 1; border: none; padding: 0; }
    SettingsSection .section-buttons { height: auto; padding-top: 1; }
    SettingsSection .section-buttons Button { margin-right: 1; min-width: 0; width: auto; }
    """

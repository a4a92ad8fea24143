"""The plain-terminal commands of ``kosma-tui`` (no Textual here)."""

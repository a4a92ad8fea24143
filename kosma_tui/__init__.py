"""Kosma TUI: link bank accounts through a PSD2 banking portal and sync
transactions for ERPNext bank reconciliation, from a terminal."""

__version__ = "0.1.0"

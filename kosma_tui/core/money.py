"""Integer minor units and the currency exponent (ISO 4217)."""

from __future__ import annotations

from decimal import Decimal

# Currencies whose exponent is not 2.
_EXPONENTS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units as an exact decimal in major units (1234 EUR -> 12.34)."""
    return Decimal(minor).scaleb(-exponent(currency))


def format_amount(minor: int, currency: str, *, grouping: bool = True, sign: bool = False) -> str:
    """``-1,250.00`` style; ``grouping=False`` gives ``-1250.00`` for CSV."""
    digits = exponent(currency)
    value = to_major(minor, currency)
    text = f"{value:,.{digits}f}" if grouping else f"{value:.{digits}f}"
    if sign and minor > 0:
        text = "+" + text
    return text

"""Checks for what a user types: each failure is one UsageError sentence."""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from urllib.parse import urlsplit

from kosma_tui.core.errors import UsageError

ISO_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT
    GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR
    KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT
    MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT
    PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD
    TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT
    ZA ZM ZW""".split()
)

_MMDD = re.compile(r"^(\d{2})-(\d{2})$")
_YYYY_MM_DD = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def admin_url(value: str, what: str = "The admin URL") -> str:
    """An ``https://`` URL (``http://`` only for loopback), without trailing slash."""
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:  # an unbalanced [ or a bad port
        hostname = None
    if (
        not url.isprintable()
        or " " in url
        or hostname is None
        or parts.scheme not in ("http", "https")
    ):
        raise UsageError(
            f"{what} '{value}' is not a URL; it must look like https://portal.example.com."
        )
    if parts.scheme == "http" and not is_loopback_host(hostname):
        raise UsageError(
            f"{what} must use https:// (plain http:// is allowed only for this machine)."
        )
    return url


def credential(value: str, what: str) -> str:
    """A Customer ID or token: it travels in a header or a JSON field, so no spaces
    and no control characters (a pasted line break or escape would break every call)."""
    text = value.strip()
    if text and (not text.isprintable() or any(ch.isspace() for ch in text)):
        raise UsageError(f"The {what} cannot contain spaces or control characters.")
    return text


# ERPNext's Company name is a Data field of 140 characters: a longer one could never
# be pushed there, and would break every table it is shown in.
COMPANY_NAME_MAX = 140


def company_name(value: str) -> str:
    """A company name: single spaces, printable, 1 to COMPANY_NAME_MAX characters."""
    name = " ".join(value.split())
    if not name:
        raise UsageError("A company needs a name.")
    if not name.isprintable():
        raise UsageError("A company name cannot contain control characters.")
    if len(name) > COMPANY_NAME_MAX:
        raise UsageError(
            f"A company name has at most {COMPANY_NAME_MAX} characters "
            f"(as in ERPNext); this one has {len(name):,}."
        )
    return name


def company_key(name: str) -> str:
    """What makes two company names the same: case and runs of spaces do not count."""
    return " ".join(name.split()).casefold()


def country(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_COUNTRIES:
        raise UsageError(f"'{value}' is not an ISO 3166 country code (for example DE or AT).")
    return code


def fiscal_year_start(value: str) -> str:
    match = _MMDD.match(value.strip())
    if match:
        month, day = int(match[1]), int(match[2])
        try:
            date(2023, month, day)  # a non-leap year: 02-29 cannot start every year
        except ValueError:
            pass
        else:
            return f"{month:02d}-{day:02d}"
    raise UsageError(f"'{value}' is not a fiscal year start; write it as MM-DD, for example 04-01.")


def currency(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise UsageError(f"'{value}' is not a currency code; use three letters such as EUR.")
    return code


def iso_date(value: str, what: str = "date") -> date:
    """Exactly ``YYYY-MM-DD`` (``date.fromisoformat`` alone also takes 20240101, 2024-W01-1)."""
    text = value.strip()
    try:
        if not _YYYY_MM_DD.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"'{value}' is not a valid {what}; write it as YYYY-MM-DD.") from None


def positive_int(value: str | int, what: str, maximum: int = 365) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a whole number, not '{value}'.") from None
    if not 0 <= number <= maximum:
        raise UsageError(f"{what} must be between 0 and {maximum}.")
    return number


def enabled_problems(
    enabled: bool, admin_url: str, customer_id: str, api_token: str
) -> dict[str, str]:
    """Saving with ``enabled`` needs an admin URL, a Customer ID and a token (DESIGN 2).

    Field -> what is missing; empty when the settings may be saved.
    """
    if not enabled:
        return {}
    found: dict[str, str] = {}
    if not admin_url.strip():
        found["admin_url"] = (
            "Enabled needs an admin URL (leave both empty and off "
            "for the built-in Demo Bank portal)."
        )
    if not customer_id.strip():
        found["customer_id"] = "Enabled needs a Customer ID."
    if not api_token.strip():
        found["api_token"] = "Enabled needs a Portal API Token."  # noqa: S105
    return found

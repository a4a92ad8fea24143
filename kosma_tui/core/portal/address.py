"""Where the portal is and who is asking: the admin URL and the attended address."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from kosma_tui.core.errors import ConfigurationError
from kosma_tui.core.validation import is_loopback_host


def attended_ip() -> str:
    """The address of the person at the keyboard: the SSH client's, else loopback."""
    fields = os.environ.get("SSH_CLIENT", "").split()
    if fields:
        try:
            return str(ipaddress.ip_address(fields[0]))
        except ValueError:
            pass
    return "127.0.0.1"


def check_admin_url(admin_url: str) -> str:
    """The base URL without trailing slash; ConfigurationError unless https (or loopback http)."""
    url = admin_url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # an unbalanced [ or a bad port
        hostname = None
    if not url.isprintable() or hostname is None or parts.scheme not in ("http", "https"):
        raise ConfigurationError(
            "The admin URL in Banking Settings is not a URL.",
            "Set it to the portal's https:// address in Banking Settings.",
        )
    if parts.scheme == "http" and not is_loopback_host(hostname):
        raise ConfigurationError(
            "The admin URL in Banking Settings uses plain http:// for another machine; "
            "bank data would travel unencrypted.",
            "Use the portal's https:// address (http:// is allowed only for this machine).",
        )
    return url

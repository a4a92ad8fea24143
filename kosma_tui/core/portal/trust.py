"""Whom a portal's TLS certificate must chain to."""

from __future__ import annotations

import os
import ssl

from kosma_tui.core.errors import ConfigurationError

# The documented way to trust another certificate bundle (a company's TLS proxy).
CA_FILE_ENV = "KOSMA_TUI_CA_FILE"

_TRUST: dict[str, ssl.SSLContext] = {}  # by KOSMA_TUI_CA_FILE: loading a bundle takes ~50 ms


def trust_context() -> ssl.SSLContext:
    """The certificates a portal's TLS must chain to: the system's bundle.

    Read from OpenSSL's compiled-in locations, not from ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``, so a variable left over in a shell cannot silently
    replace whom the app trusts. ``KOSMA_TUI_CA_FILE`` (documented) names a
    PEM bundle to trust instead; without a system bundle, certifi's is used.
    """
    chosen = os.environ.get(CA_FILE_ENV, "").strip()
    context = _TRUST.get(chosen)
    if context is None:
        context = _TRUST[chosen] = _load_trust(chosen)
    return context


def _load_trust(chosen: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies hostname and chain
    if chosen:
        try:
            context.load_verify_locations(cafile=chosen)
        except (OSError, ssl.SSLError):
            raise ConfigurationError(
                f"The certificate bundle named by {CA_FILE_ENV} cannot be read.",
                f"Point {CA_FILE_ENV} at a readable PEM file, or unset it.",
            ) from None
        return context
    paths = ssl.get_default_verify_paths()
    cafile = paths.openssl_cafile if os.path.isfile(paths.openssl_cafile) else None
    capath = paths.openssl_capath if os.path.isdir(paths.openssl_capath) else None
    if cafile or capath:
        context.load_verify_locations(cafile=cafile, capath=capath)
    else:
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    return context

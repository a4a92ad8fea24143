"""Mail out of the daily job: SMTP (plain, STARTTLS or SSL) or the local sendmail.

Only the standard library (``smtplib``, ``email``, ``ssl``): the daily job runs
on an ERPNext server where the admin's mail relay is all there is. TLS is
verified against the certificates every connection of the app trusts (the
system's, or ``KOSMA_TUI_CA_FILE``); a login over an unencrypted connection
is refused except on this machine.
The SMTP password is a secret of Banking Settings (encrypted in the store)
and never appears in a message, a log line or an error.
"""

from __future__ import annotations

import base64
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING

from kosma_tui.core.errors import KosmaError, UsageError
from kosma_tui.core.text import safe_text
from kosma_tui.core.validation import is_loopback_host

if TYPE_CHECKING:
    from kosma_tui.core.records import BankingSettings

SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT = 30.0
SENDMAIL_PATHS = ("/usr/sbin/sendmail", "/usr/lib/sendmail")
# local@domain; the domain may be a bare host name (root@localhost for a local sendmail)
_ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"'.]+(\.[^@\s<>,;\"'.]+)*$")


class MailError(KosmaError):
    """A reminder mail could not be sent."""

    code = "MAIL"


def addresses(value: str) -> list[str]:
    """``a@x.org, b@y.org`` as a list; UsageError naming the first bad one."""
    out = []
    for part in value.split(","):
        text = part.strip()
        if not text:
            continue
        _name, address = parseaddr(text)
        if not _ADDRESS.fullmatch(address or ""):
            raise UsageError(f"'{text}' is not a mail address (write it as admin@example.com).")
        out.append(address)
    return out


def configured(settings: BankingSettings) -> bool:
    return bool(settings.mail_to) and settings.mail_transport in ("smtp", "sendmail")


def problems(settings: BankingSettings) -> str | None:
    """Why these mail settings cannot work, as one sentence, else None."""
    if not settings.mail_to:
        return "No recipient is set for reminder mails (--mail-to)."
    if settings.mail_transport == "sendmail":
        return None
    if settings.mail_transport != "smtp":
        return "Say how reminder mails are sent: --smtp-host HOST or --sendmail."
    if not settings.smtp_host:
        return "An SMTP host is needed to send reminder mails (--smtp-host)."
    if settings.smtp_security not in SECURITIES:
        return f"'{settings.smtp_security}' is not an SMTP security (starttls, ssl or none)."
    if settings.smtp_user and not settings.smtp_password:
        return "The SMTP user has no password (--smtp-password-stdin)."
    if (
        settings.smtp_user
        and settings.smtp_security == "none"
        and not is_loopback_host(settings.smtp_host)
    ):
        return (
            "An SMTP login is sent only over an encrypted connection: add --smtp-starttls "
            "or --smtp-ssl."
        )
    return None


def sender(settings: BankingSettings) -> str:
    if settings.mail_from:
        return settings.mail_from
    if "@" in settings.smtp_user:
        return settings.smtp_user
    return f"kosma-tui@{socket.getfqdn()}"


def compose(settings: BankingSettings, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender(settings)
    message["To"] = ", ".join(settings.mail_to)
    message["Subject"] = safe_text(subject)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender(settings).rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(body)
    return message


def send(settings: BankingSettings, message: EmailMessage) -> None:
    """Deliver ``message``; MailError with a sentence (never the password) if not."""
    problem = problems(settings)
    if problem:
        raise MailError(problem, "Set it up with 'kosma-tui settings' or the Settings screen.")
    if settings.mail_transport == "sendmail":
        _sendmail(message)
    else:
        _smtp(settings, message)


def _smtp(settings: BankingSettings, message: EmailMessage) -> None:
    host, security = settings.smtp_host, settings.smtp_security
    port = settings.smtp_port or DEFAULT_PORTS[security]
    where = f"{host}:{port}"
    from kosma_tui.core.portal import trust_context  # one trust for every TLS connection

    context = trust_context()
    try:
        if security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with server:
            server.ehlo()
            if security == "starttls":
                server.starttls(context=context)
                server.ehlo()
            if settings.smtp_user:
                _login(server, settings.smtp_user, settings.smtp_password)
            server.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"The SMTP server {where} refused the login ({exc.smtp_code}).",
            "Check the SMTP user and password in Banking Settings.",
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(
            f"The SMTP server {where} does not offer STARTTLS or a login.",
            "Use --smtp-ssl, or another port or server.",
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise MailError(
            f"The SMTP server {where} refused the recipients {refused}.",
            "Check the addresses of --mail-to.",
        ) from None
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise MailError(
            f"The SMTP server {where} refused the mail ({exc.smtp_code} {safe_text(text)[:200]}).",
            "Check the mail settings, or ask the mail server's admin.",
        ) from None
    except ssl.SSLError as exc:
        raise MailError(
            f"The TLS connection to the SMTP server {where} failed "
            f"({exc.reason or 'certificate or protocol'}).",
            "Check the host name and port, and that its certificate is trusted.",
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise MailError(
            f"The SMTP server {where} could not be reached ({reason}).",
            "Check the SMTP host and port, and the network.",
        ) from None


def _login(server: smtplib.SMTP, user: str, password: str) -> None:
    try:
        server.login(user, password)
    except UnicodeEncodeError:
        # smtplib sends credentials as ASCII only; AUTH PLAIN (RFC 4616) carries UTF-8
        token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        code, answer = server.docmd("AUTH", "PLAIN " + token)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, answer) from None


def _sendmail(message: EmailMessage) -> None:
    program = shutil.which("sendmail") or next((p for p in SENDMAIL_PATHS if shutil.which(p)), None)
    if program is None:
        raise MailError(
            "There is no sendmail program on this machine.",
            "Install a mail transfer agent, or send through SMTP (--smtp-host).",
        )
    try:
        done = subprocess.run(
            [program, "-t", "-oi"],
            input=message.as_bytes(),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MailError(
            f"sendmail could not be run ({type(exc).__name__}).",
            "Check the local mail transfer agent.",
        ) from None
    if done.returncode != 0:
        said = safe_text(done.stderr.decode("utf-8", "replace")).strip()[:200]
        raise MailError(
            f"sendmail refused the mail (exit {done.returncode}{': ' + said if said else ''}).",
            "Check the local mail transfer agent.",
        )

"""Outgoing e-mail: one function every feature sends through (reminders, password resets, invitations).

`send` hands one message to the SMTP server of the settings (MAIL_*) and returns when the server has taken it;
it raises `MailError` when it could not, so that a job queue retries. Without MAIL_SERVER (development) the
message is logged by subject and recipient only: its body may hold a one-time link or guests' names.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from flask import current_app

log = logging.getLogger(__name__)


class MailError(Exception):
    """The SMTP server could not be reached or refused the message; sending again later may work."""


def message(to: str, subject: str, text: str, *, html: str | None = None) -> EmailMessage:
    """The message as it is sent: plain text (with an HTML alternative when given), UTF-8 headers."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    _name, sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def valid_address(value: str) -> bool:
    """An address the mail module can send to: one mailbox, no display name, no header tricks."""
    if not value or len(value) > 254 or any(c in value for c in "\r\n,;<>\"'") or value != value.strip():
        return False
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError):
        return False
    local, _, domain = value.rpartition("@")
    return bool(local) and "." in domain


def send(to: str, subject: str, text: str, *, html: str | None = None) -> None:
    """Send one message now. Raises MailError when the server cannot take it (the caller may retry)."""
    if not valid_address(to):
        raise ValueError("not an e-mail address")
    msg = message(to, subject, text, html=html)
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        log.info("mail not sent (no MAIL_SERVER): to=%s subject=%s", to, subject)
        return
    try:
        smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
        with smtp_class(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=config["MAIL_TIMEOUT_S"]) as smtp:
            if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc

"""The e-mail channel's settings, made from `FIKAFOLLOW_SMTP_*`, `FIKAFOLLOW_MAIL_*` and
`FIKAFOLLOW_IMAP_*`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fikafollow.config import Settings

SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    mail_from: str
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    reply_to: str | None = None  # e.g. replies@example.org; a token is added as +TOKEN
    timeout: float = 30.0


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    username: str
    password: str
    mailbox: str = "INBOX"
    security: str = "tls"  # or "none" (loopback, tests); aioimaplib has no STARTTLS
    timeout: float = 30.0


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    """The mail server participants' e-mail and the coordinators' digest go through, if set."""
    if not (settings.smtp_host and settings.mail_from):
        return None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        mail_from=settings.mail_from,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password,
        reply_to=settings.mail_reply_to,
    )


def imap_settings(settings: Settings) -> ImapSettings | None:
    """The mailbox replies arrive in, if set."""
    s = settings
    if not (s.imap_host and s.imap_username and s.imap_password):
        return None
    return ImapSettings(
        host=s.imap_host,
        port=s.imap_port,
        username=s.imap_username,
        password=s.imap_password,
        mailbox=s.imap_mailbox,
        security=s.imap_security,
    )

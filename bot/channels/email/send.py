"""The e-mail channel: multipart text + HTML over SMTP (aiosmtplib).

Each e-mail gets a Message-ID of our own (returned as the provider id, so a reply's In-Reply-To
finds its follow-up), a reply address with a signed token in it (replies+TOKEN@domain), and
List-Unsubscribe with the one-click POST of RFC 8058.
"""

from __future__ import annotations

import secrets
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from bot.channels.base import OutgoingMessage, PermanentError, SendResult, TemporaryError
from bot.channels.email.settings import SECURITY, SmtpSettings


async def submit(settings: SmtpSettings, mail: EmailMessage) -> None:
    """Hand one message to the SMTP server (the participants' e-mail and the staff digest).

    Raises PermanentError when the server refuses the recipient for good, else TemporaryError:
    callers outside this package never see the SMTP library's own errors."""
    try:
        await aiosmtplib.send(
            mail,
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            timeout=settings.timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= code < 600 for code in codes):
            raise PermanentError(f"recipient refused ({codes[0]})") from None
        raise TemporaryError(f"recipient deferred ({codes[0] if codes else '?'})") from None
    except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as exc:
        # the server's text may quote the address: only the code is kept
        if 500 <= exc.code < 600:
            raise PermanentError(f"smtp {exc.code}") from None
        raise TemporaryError(f"smtp {exc.code}") from None
    except aiosmtplib.SMTPResponseException as exc:
        # a refused sender or login is our configuration, not this participant's address
        raise TemporaryError(f"smtp {exc.code}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TemporaryError(f"smtp connection: {type(exc).__name__}") from None


def plus_address(address: str, token: str) -> str:
    """replies@example.org + TOKEN → replies+TOKEN@example.org"""
    local, _, domain = address.rpartition("@")
    return f"{local}+{token}@{domain}"


class EmailChannel:
    name = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        if settings.security not in SECURITY:
            raise ValueError(f"security must be one of {', '.join(SECURITY)}")
        self.settings = settings
        _, address = parseaddr(settings.mail_from)
        self.domain = address.rpartition("@")[2] or "localhost"

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The e-mail as it goes out (also what the tests look at)."""
        mail = EmailMessage()
        mail["From"] = self.settings.mail_from
        mail["To"] = Address(addr_spec=message.address)
        mail["Subject"] = message.subject or ""
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<ff-{message.outbox_id}-{secrets.token_hex(8)}@{self.domain}>"
        mail["Content-Language"] = message.language
        reply_to = self.settings.reply_to
        if reply_to:
            if message.reply_token:
                reply_to = plus_address(reply_to, message.reply_token)
            mail["Reply-To"] = reply_to
        if message.unsubscribe_url:
            mailto = reply_to or parseaddr(self.settings.mail_from)[1]
            mail["List-Unsubscribe"] = (
                f"<mailto:{mailto}?subject=STOP>, <{message.unsubscribe_url}>"
            )
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        # automatic replies (holidays) must not be read as answers, nor answer us
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        return mail

    async def send(self, message: OutgoingMessage) -> SendResult:
        mail = self.build(message)
        await submit(self.settings, mail)
        return SendResult(provider_id=str(mail["Message-ID"]))

"""The e-mail channel: multipart mail over SMTP (`send`), replies read from an IMAP mailbox
(`receive`) with the quoted original and signatures stripped (`quotes`).

aiosmtplib and aioimaplib load only when the channel is set up or one of their names is asked
for: every command starts faster where e-mail is off (issue 15)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.base import BackgroundTask, ChannelContext, ChannelSetup, lazy_names
from bot.channels.email.quotes import strip_quoted
from bot.channels.email.settings import (
    SECURITY,
    ImapSettings,
    SmtpSettings,
    imap_settings,
    smtp_settings,
)

if TYPE_CHECKING:
    from bot.channels.email.receive import MailboxReader, PollResult
    from bot.channels.email.send import EmailChannel, plus_address, submit
    from fikafollow.config import Settings

__all__ = [
    "NAME",
    "SECURITY",
    "EmailChannel",
    "ImapSettings",
    "MailboxReader",
    "PollResult",
    "SmtpSettings",
    "imap_settings",
    "mailbox_reader",
    "plus_address",
    "setup",
    "smtp_settings",
    "strip_quoted",
    "submit",
]
NAME = "email"
# the names whose modules import aiosmtplib or aioimaplib, and where they live
_LAZY = {
    "MailboxReader": "receive",
    "PollResult": "receive",
    "EmailChannel": "send",
    "plus_address": "send",
    "submit": "send",
}


__getattr__ = lazy_names(__name__, _LAZY)


def mailbox_reader(settings: Settings, context: ChannelContext) -> MailboxReader | None:
    """The reader of replies, when FIKAFOLLOW_IMAP_HOST, _USERNAME and _PASSWORD are set."""
    imap = imap_settings(settings)
    if imap is None:
        return None
    from bot.channels.email.receive import MailboxReader

    return MailboxReader(imap, context.inbound, context.signer)


def setup(settings: Settings, context: ChannelContext) -> ChannelSetup | None:
    """The adapter when there is a mail server, and the mailbox poll when there is a mailbox;
    None with neither."""
    smtp = smtp_settings(settings)
    reader = mailbox_reader(settings, context)
    if smtp is None and reader is None:
        return None
    tasks: list[BackgroundTask] = []
    if reader is not None:
        every = float(settings.imap_poll_seconds)

        async def read_mailbox() -> None:
            await reader.run(context.clock, every)

        tasks.append(read_mailbox)
    if smtp is None:
        return ChannelSetup(None, tasks=tasks)
    from bot.channels.email.send import EmailChannel

    return ChannelSetup(EmailChannel(smtp), tasks=tasks)

"""E-mail replies: read from the mailbox over IMAP (aioimaplib) and handed to `Inbound`.

A reply is tied to its follow-up by the signed token in the address it was sent to
(replies+TOKEN@domain) or, failing that, by In-Reply-To/References against the Message-IDs we
sent. Delivery status notifications are read as bounces (`bounces`), never as replies. Quoted
text and signatures are stripped before the reply parser sees it; attached images
become fikahälsningar. Each message counts once: it is stored in the inbox keyed by its
Message-ID in the same transaction as its effects, and flagged \\Seen after that commit, so a
crash between the two only makes the next poll find a duplicate that changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

import aioimaplib

from bot.channels.base import Inbound, InboundMessage
from bot.channels.email.bounces import read_bounce
from bot.channels.email.quotes import strip_quoted
from bot.channels.email.settings import ImapSettings
from bot.links import LinkSigner
from bot.replies import is_stop

log = logging.getLogger(__name__)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_TAG = re.compile(r"<[^>]*>")
# at most this many messages per poll: a flood waits for the next poll instead of one long one
BATCH = 200


@dataclass
class PollResult:
    seen: int = 0
    outcomes: dict[str, int] | None = None

    def count(self, outcome: str) -> None:
        self.outcomes = self.outcomes or {}
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class MailboxReader:
    def __init__(
        self,
        settings: ImapSettings,
        inbound: Inbound,
        signer: LinkSigner | None,
    ) -> None:
        self.settings = settings
        self.inbound = inbound
        self.signer = signer

    async def poll_once(self, clock: Callable[[], datetime]) -> PollResult:
        """Read every unseen message once; returns how many and what became of them."""
        s = self.settings
        if s.security == "tls":
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(s.host, s.port, timeout=s.timeout)
        else:
            client = aioimaplib.IMAP4(s.host, s.port, timeout=s.timeout)
        result = PollResult()
        await client.wait_hello_from_server()
        try:
            _check(await client.login(s.username, s.password), "login")
            _check(await client.select(s.mailbox), "select")
            found = await client.uid_search("UNSEEN")
            _check(found, "search")
            uids = [u.decode() for u in found.lines[0].split()][:BATCH] if found.lines else []
            for uid in uids:
                fetched = await client.uid("fetch", uid, "(BODY.PEEK[])")
                _check(fetched, "fetch")
                raw = _literal(fetched.lines)
                if raw is None:
                    continue
                outcome = await self.handle(raw, f"imap-{s.mailbox}-{uid}", clock())
                _check(await client.uid("store", uid, "+FLAGS", "(\\Seen)"), "store")
                result.seen += 1
                result.count(outcome)
        finally:
            with contextlib.suppress(
                aioimaplib.Abort, aioimaplib.CommandTimeout, OSError, TimeoutError
            ):
                await client.logout()
            close(client)
        if result.seen:
            log.info("mailbox: %s messages read: %s", result.seen, result.outcomes)
        return result

    async def handle(self, raw: bytes, fallback_id: str, now: datetime) -> str:
        """One e-mail: tie it to its follow-up, strip quotes, hand it over."""
        mail = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(mail, EmailMessage)
        message_id = str(mail.get("Message-ID", "")).strip()[:200] or fallback_id
        # a notification says "auto-replied" too: it is read before auto-replies are dropped
        bounce = read_bounce(raw, mail, message_id, self.signer)
        if bounce is not None:
            return await self.inbound.bounce(bounce, now)
        auto = str(mail.get("Auto-Submitted", "no")).strip().lower()
        precedence = str(mail.get("Precedence", "")).strip().lower()
        if auto != "no" or precedence in ("bulk", "junk", "auto_reply", "list"):
            return "auto_reply"
        sender = parseaddr(str(mail.get("From", "")))[1]
        followup_id = await self._followup_of(mail)
        text = strip_quoted(_body_text(mail))
        subject = str(mail.get("Subject", ""))
        if not text and is_stop(subject.removeprefix("Re:").strip()):
            text = subject.strip()  # the List-Unsubscribe mailto: "STOP" in the subject
        photos, types = _images(mail)
        inbound = InboundMessage(
            channel="email",
            provider_id=message_id,
            sender=sender,
            text=text,
            photos=tuple(photos),
            photo_types=tuple(types),
        )
        return await self.inbound.receive(inbound, now, followup_id=followup_id)

    async def _followup_of(self, mail: EmailMessage) -> int | None:
        if self.signer is not None:
            headers = ("To", "Cc", "Delivered-To", "X-Original-To")
            values = [str(v) for h in headers for v in mail.get_all(h, [])]
            for _, address in getaddresses(values):
                local = address.rpartition("@")[0]
                _, plus, token = local.partition("+")
                if plus:
                    found = self.signer.read_reply_token(token)
                    if found is not None:
                        return found
        ids = _MESSAGE_ID.findall(f"{mail.get('In-Reply-To', '')} {mail.get('References', '')}")
        return await self.inbound.replied_to(ids)

    async def run(self, clock: Callable[[], datetime], every: float) -> None:
        """Poll for ever (the background task of `serve`); a failing poll is retried later."""
        while True:
            try:
                await self.poll_once(clock)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # the type only: an IMAP error's text may quote an address
                log.warning("mailbox poll failed: %s", type(exc).__name__)
            await asyncio.sleep(every)


class ImapError(Exception):
    pass


def close(client: aioimaplib.IMAP4) -> None:
    """Close the connection itself: aioimaplib leaves it open after LOGOUT."""
    transport = client.protocol.transport if client.protocol is not None else None
    if transport is not None and not transport.is_closing():
        transport.close()


def _check(response: aioimaplib.Response, what: str) -> None:
    if response.result != "OK":
        raise ImapError(f"IMAP {what} answered {response.result}")


def _literal(lines: list[bytes | bytearray]) -> bytes | None:
    # aioimaplib hands the message body as the one bytearray among the response lines
    for line in lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


def _body_text(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        return ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = re.sub(r"(?is)<(blockquote|style|script)\b.*?</\1>", "", content)
        content = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content)
        content = html.unescape(_TAG.sub("", content))
    return content


def _images(mail: EmailMessage) -> tuple[list[bytes], list[str]]:
    photos: list[bytes] = []
    types: list[str] = []
    for part in mail.walk():
        if part.get_content_maintype() != "image" or part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and data:
            photos.append(data)
            types.append(part.get_content_type())
    return photos, types

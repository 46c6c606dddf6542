"""Delivery status notifications: which of our e-mails came back, and whether for good.

Two shapes reach the mailbox. RFC 3464 reports (`multipart/report; report-type=delivery-status`,
what Postfix, Exchange Online and Gmail send today) say per recipient `Action`, `Status` and
`Final-Recipient`, and return our headers. The older, unstructured ones (Exim's "Mail delivery
failed", an Exchange "Undeliverable", Gmail's "Delivery Status Notification (Failure)") say the
same in prose; flufl.bounce, Mailman's collection of detectors for the formats seen in the wild,
finds the addresses in them, and the status code is read from the text ("550 5.1.1").

Only a permanent failure (5.x.x) condemns an address; a delay (4.x.x) marks nothing. What the
server said (its Diagnostic-Code) quotes the address and is never kept: the reason is a fixed
phrase chosen by the status code. The original message is found by our Message-ID or the signed
reply address in the returned headers, else by the failed recipient.
"""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures

from bot.channels.base import Bounce
from bot.links import LinkSigner

log = logging.getLogger(__name__)
# flufl.bounce logs each detector at INFO and a failing one with its traceback, whose values
# may quote the message: what it would say is not ours to log
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# in prose only a failure's code counts (a transcript may show the 2.0.0 of an earlier step)
_FAILURE_STATUS = re.compile(r"(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# an SMTP reply code where servers quote one: a line's start, after '#' (Exchange), after
# "said:" or "was:" (Postfix, Gmail)
_SMTP_CODE = re.compile(r"(?im)(?:^|#|said:\s*|was:\s*)([45])[0-5][0-9](?=[\s-])")
_MESSAGE_ID = re.compile(r"(?im)^(?:message-id|in-reply-to|references):\s*(<[^<>\s]+>)")
_SUBJECT = re.compile(
    r"(?i)(mail delivery fail|undeliver|delivery status notification|returned mail|"
    r"failure notice|delivery fail|could not be delivered|non remis|unzustellbar|"
    r"delivery delayed|delayed mail|warning: message|mail system error|"
    r"olevererbart|kunde inte levereras)"
)
_REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_DELAYED = re.compile(
    r"(?i)(delayed|will (be )?retr(y|ied)|not yet been delivered|temporar(y|ily)|"
    r"still trying|warning: message)"
)
_UNKNOWN_USER = re.compile(
    r"(?i)(user unknown|unknown user|no such user|mailbox (does not|doesn't) exist|"
    r"address couldn't be found|recipient not found|recipnotfound|does not exist|"
    r"mailbox unavailable|invalid recipient|address rejected)"
)
# what each status means for a coordinator (RFC 3463 subjects and details); the key is the
# status without its class, most specific first
_REASONS: tuple[tuple[str, str], ...] = (
    ("1.1", "mailbox does not exist"),
    ("1.2", "mail domain does not exist"),
    ("1.", "address not valid"),
    ("2.1", "mailbox disabled"),
    ("2.2", "mailbox full"),
    ("2.", "mailbox not available"),
    ("3.", "receiving mail server cannot take mail"),
    ("4.", "mail route failed"),
    ("5.", "mail protocol refused"),
    ("6.", "message content refused"),
    ("7.", "refused by the receiving mail server"),
)


def reason_for(status: str) -> str:
    detail = status.partition(".")[2]
    for prefix, phrase in _REASONS:
        if detail.startswith(prefix):
            return phrase
    return "delivery failed"


def read_bounce(
    raw: bytes, mail: EmailMessage, provider_id: str, signer: LinkSigner | None
) -> Bounce | None:
    """The notification `mail` is (`raw` its bytes, `provider_id` its own Message-ID), or None
    when it is not one. Never raises: whatever arrives, a reply is still read as a reply."""
    try:
        return _read(raw, mail, provider_id, signer)
    except Exception as exc:  # a hostile or broken message is no bounce; the reply path decides
        log.warning("notification not readable, read as a reply: %s", type(exc).__name__)
        return None


def _read(
    raw: bytes, mail: EmailMessage, provider_id: str, signer: LinkSigner | None
) -> Bounce | None:
    report = _delivery_status(mail)
    if report is None and not _looks_like_bounce(mail):
        return None
    returned = _returned_text(mail)
    original_ids = tuple(dict.fromkeys(_MESSAGE_ID.findall(returned)))
    followup_id = _followup_in(returned, signer)
    if report is None:
        permanent, found, recipients = _prose(raw, _all_text(mail))
        if found is None:
            return None
        report = (permanent, found, recipients)
    permanent, status, recipients = report
    return Bounce(
        channel="email",
        provider_id=provider_id,
        permanent=permanent,
        status=status,
        reason=reason_for(status),
        original_ids=original_ids,
        followup_id=followup_id,
        recipients=recipients,
    )


def _delivery_status(mail: EmailMessage) -> tuple[bool, str, tuple[str, ...]] | None:
    """RFC 3464: per recipient block, Action and Status; the report is permanent when any
    recipient failed with a 5.x.x status."""
    if mail.get_content_type() != "multipart/report":
        return None
    blocks: list[Message] = []
    for part in mail.walk():
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            # the first block is per message (Reporting-MTA), the rest per recipient
            blocks.extend(p for p in payload if isinstance(p, Message))
    failed: list[tuple[str, str]] = []
    delayed: list[tuple[str, str]] = []
    for block in blocks:
        action = str(block.get("Action", "")).strip().lower()
        found = _STATUS.search(str(block.get("Status", "")))
        recipient = _recipient(block)
        if not action and recipient is None:
            continue
        status = ".".join(found.groups()) if found else ""
        if action.startswith(("fail", "error")):
            failed.append((status or "5.0.0", recipient or ""))
        elif action.startswith("delayed"):
            delayed.append((status or "4.0.0", recipient or ""))
    permanent = [(s, r) for s, r in failed if s.startswith("5.")]
    if permanent:
        return True, permanent[0][0], tuple(r for _, r in permanent if r)
    transient = failed + delayed
    if transient:
        return False, transient[0][0], tuple(r for _, r in transient if r)
    return None


def _recipient(block: Message) -> str | None:
    for header in ("Original-Recipient", "Final-Recipient"):
        value = str(block.get(header, ""))
        kind, _, address = value.partition(";")
        if address.strip() and kind.strip().lower() in ("rfc822", "utf-8"):
            return parseaddr(address.strip())[1].lower() or None
    return None


def _looks_like_bounce(mail: EmailMessage) -> bool:
    sender = parseaddr(str(mail.get("From", "")))[1].lower()
    local = sender.partition("@")[0]
    subject = str(mail.get("Subject", ""))
    return local in _DAEMONS or bool(_SUBJECT.search(subject))


def _prose(raw: bytes, text: str) -> tuple[bool, str | None, tuple[str, ...]]:
    """An unstructured notification: the first enhanced status code in its text, else the class
    of an SMTP reply code, else its words; the addresses as flufl.bounce finds them."""
    # flufl.bounce reads the message as the email package's older API gives it
    legacy = BytesParser(policy=compat32).parsebytes(raw)
    temporary, permanent = all_failures(legacy)
    recipients = tuple(
        sorted({a.decode("ascii", "replace").lower() for a in permanent | temporary})
    )
    found = _FAILURE_STATUS.search(text)
    code = _SMTP_CODE.search(text)
    if found is not None:
        status = ".".join(found.groups())
    elif code is not None:
        status = f"{code.group(1)}.0.0"
    elif _DELAYED.search(text):
        status = "4.0.0"
    elif _UNKNOWN_USER.search(text) or permanent:
        status = "5.0.0"
    elif temporary:
        status = "4.0.0"
    else:
        return False, None, recipients
    if status == "5.0.0" and _UNKNOWN_USER.search(text):
        status = "5.1.1"
    return status.startswith("5."), status, recipients


def _returned_text(mail: EmailMessage) -> str:
    """The returned original's headers (message/rfc822, text/rfc822-headers) and the text
    parts, where unstructured notifications quote them."""
    chunks: list[str] = []
    for part in mail.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                chunks.extend(f"{k}: {v}" for k, v in inner.items())
        elif kind == "text/rfc822-headers" or part.get_content_maintype() == "text":
            chunks.append(_text_of(part))
    return "\n".join(chunks)


def _all_text(mail: EmailMessage) -> str:
    return "\n".join(
        _text_of(part) for part in mail.walk() if part.get_content_maintype() == "text"
    )


def _text_of(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _followup_in(text: str, signer: LinkSigner | None) -> int | None:
    """The follow-up of a signed reply address (replies+TOKEN@…) in the returned headers."""
    if signer is None:
        return None
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if not colon or name.strip().lower() not in ("reply-to", "to", "list-unsubscribe"):
            continue
        for _, address in getaddresses([value.replace("mailto:", "").replace("?", " ")]):
            local = address.rpartition("@")[0]
            _, plus, token = local.partition("+")
            if plus:
                found = signer.read_reply_token(token)
                if found is not None:
                    return found
    return None

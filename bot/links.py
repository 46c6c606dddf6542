"""Signed links and reply addresses: one-click answers, the upload page, unsubscribe, replies,
and the coordinators' approve/reject links for fikahälsningar.

A link carries what it is for (purpose), the follow-up or participant it belongs to, and — for an
answer — the question and the option; an HMAC-SHA256 over all of it with the secret key makes it
unforgeable, and an expiry time makes it stop working. Nothing here reads a clock: `now` is given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ANSWER, UPLOAD, UNSUBSCRIBE, REVIEW, ACTIVITIES = "a", "u", "x", "r", "s"
PURPOSES = frozenset({ANSWER, UPLOAD, UNSUBSCRIBE, REVIEW, ACTIVITIES})
# a digest is read within the week; a month covers holidays
REVIEW_LIFETIME = timedelta(days=30)
# long enough for a participant who reads their mail late, short enough that an old forwarded
# e-mail stops answering for them
LINK_LIFETIME = timedelta(days=60)
_SIG_BYTES = 16


class BadLink(Exception):
    """A token that is forged, damaged, expired or for something else; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaim:
    purpose: str
    # the follow-up id (answer, upload), the participant id (unsubscribe), the greeting (review)
    subject: int
    question: str | None = None
    option: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the secret key must be at least 16 bytes")
        self._secret = secret

    def _sign(self, label: str, body: str) -> bytes:
        mac = hmac.new(self._secret, f"{label}.{body}".encode(), hashlib.sha256)
        return mac.digest()[:_SIG_BYTES]

    def make(
        self,
        claim: LinkClaim,
        now: datetime,
        lifetime: timedelta = LINK_LIFETIME,
    ) -> str:
        """A URL-safe token for the claim, valid until now + lifetime."""
        expires = int((now + lifetime).timestamp())
        fields: list[object] = [claim.purpose, claim.subject, expires]
        if claim.question is not None:
            fields += [claim.question, claim.option]
        body = _b64(json.dumps(fields, separators=(",", ":")).encode())
        return f"{body}.{_b64(self._sign('link', body))}"

    def read(self, token: str, purpose: str, now: datetime) -> LinkClaim:
        """The claim a token makes, or BadLink."""
        body, dot, signature = token.partition(".")
        if not dot or len(token) > 400:
            raise BadLink("malformed")
        try:
            given = _unb64(signature)
        except ValueError:
            raise BadLink("malformed") from None
        if not hmac.compare_digest(given, self._sign("link", body)):
            raise BadLink("forged")
        try:
            fields = json.loads(_unb64(body))
            kind, subject, expires = fields[0], int(fields[1]), int(fields[2])
            question = str(fields[3]) if len(fields) > 3 else None
            option = str(fields[4]) if len(fields) > 4 else None
        except (ValueError, IndexError, TypeError, KeyError):
            raise BadLink("malformed") from None
        if kind != purpose:
            raise BadLink("wrong_purpose")
        if now.timestamp() > expires:
            raise BadLink("expired")
        return LinkClaim(kind, subject, question, option)

    def make_short(self, purpose: str, subject: int) -> str:
        """A short token without an expiry of its own, for links that must fit in an SMS (the
        upload page): the page checks the age of the follow-up instead. 64 bits of HMAC are
        plenty against guessing over HTTP."""
        body = f"{purpose}{subject:x}"
        return f"{subject:x}.{_b64(self._sign('short', body)[:8])}"

    def read_short(self, token: str, purpose: str) -> int:
        """The subject of a short token, or BadLink."""
        head, dot, signature = token.partition(".")
        if not dot or len(token) > 40:
            raise BadLink("malformed")
        try:
            subject = int(head, 16)
            given = _unb64(signature)
        except ValueError:
            raise BadLink("malformed") from None
        if not hmac.compare_digest(given, self._sign("short", f"{purpose}{subject:x}")[:8]):
            raise BadLink("forged")
        return subject

    def form_token(self, token: str) -> str:
        """The CSRF token of the form behind a link: only a page we served knows it."""
        return _b64(self._sign("form", token))

    def check_form_token(self, token: str, given: str) -> bool:
        return hmac.compare_digest(self.form_token(token).encode(), given.encode())

    def reply_token(self, followup_id: int) -> str:
        """For a plus-address: lower case only, as some mail servers lower-case local parts."""
        mac = hmac.new(self._secret, f"reply.{followup_id}".encode(), hashlib.sha256)
        return f"f{followup_id}-{mac.hexdigest()[:20]}"

    def read_reply_token(self, token: str) -> int | None:
        """The follow-up a reply token names, or None when it is not one of ours."""
        head, dash, _ = token.lower().partition("-")
        if not dash or not head.startswith("f") or not head[1:].isdigit():
            return None
        followup_id = int(head[1:])
        if not hmac.compare_digest(self.reply_token(followup_id), token.lower()):
            return None
        return followup_id


def load_or_create_secret(path: Path) -> bytes:
    """The embedded default's secret key: made once and kept beside the database, so the demo
    and a small SQLite setup need no configuration and links keep working across restarts."""
    if path.exists():
        text = path.read_text(encoding="ascii").strip()
        if text:
            return text.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_urlsafe(32)
    # created readable by the owner only, never for a moment more: whoever reads it can forge
    # answers. Written whole under a temporary name, then linked into place: of two processes
    # starting at once, the second finds the first one's complete key, never an empty file.
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as secret:
        secret.write(text + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode()
    finally:
        temporary.unlink()
    return text.encode()


@dataclass(frozen=True)
class LinkMaker:
    """Full URLs under the service's public address."""

    public_url: str
    signer: LinkSigner

    def _url(self, prefix: str, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/{prefix}/{token}"

    def answer_urls(
        self, followup_id: int, question: str, options: tuple[str, ...], now: datetime
    ) -> dict[str, str]:
        return {
            option: self._url(
                "a", self.signer.make(LinkClaim(ANSWER, followup_id, question, option), now)
            )
            for option in options
        }

    def upload_url(self, followup_id: int) -> str:
        return self._url("u", self.signer.make_short(UPLOAD, followup_id))

    def activities_url(self, followup_id: int) -> str:
        """The short page of activities suggested after a follow-up (for an SMS with no room
        for the list itself)."""
        return self._url("activities", self.signer.make_short(ACTIVITIES, followup_id))

    def unsubscribe_url(self, participant_id: int, now: datetime) -> str:
        # an unsubscribe link must keep working for as long as anyone might keep the e-mail
        token = self.signer.make(
            LinkClaim(UNSUBSCRIBE, participant_id), now, lifetime=timedelta(days=3650)
        )
        return self._url("unsubscribe", token)

    def review_url(self, greeting_id: int, decision: str, now: datetime) -> str:
        """A coordinator's link to approve or reject a fikahälsning for social media."""
        claim = LinkClaim(REVIEW, greeting_id, "social", decision)
        return self._url("review", self.signer.make(claim, now, lifetime=REVIEW_LIFETIME))

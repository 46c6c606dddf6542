"""The one small interface every channel adapter implements.

A channel knows how to deliver one rendered message to one address and how to say whether a
failure is worth retrying. It knows nothing of follow-ups, the dialogue or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from messages.render import Button

__all__ = [
    "Button",
    "Channel",
    "ChannelError",
    "InboundMessage",
    "OutgoingMessage",
    "PermanentError",
    "SendResult",
    "TemporaryError",
]


@dataclass(frozen=True)
class OutgoingMessage:
    """A message as the outbox hands it to a channel."""

    outbox_id: int
    channel: str
    address: str
    language: str
    text: str
    rtl: bool = False
    subject: str | None = None
    html: str | None = None
    buttons: tuple[Button, ...] = ()
    # what the message is (question, reprompt, thanks …) and for which question: channels use it
    # to tag callbacks, demo displays it; never personal data
    kind: str = ""
    question: str | None = None
    # e-mail: the signed token of the reply address (ties a reply to its follow-up) and the
    # one-click unsubscribe URL; made by the conversation, never personal data in themselves
    reply_token: str | None = None
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None = None


class ChannelError(Exception):
    """A send failed. `permanent` says whether trying again could ever help."""

    permanent: bool = False

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TemporaryError(ChannelError):
    permanent = False


class PermanentError(ChannelError):
    permanent = True


@dataclass(frozen=True)
class InboundMessage:
    """What a participant sent, as a channel understood it, before anyone interprets it."""

    channel: str
    provider_id: str
    sender: str
    text: str = ""
    button_value: str | None = None
    photos: tuple[bytes, ...] = field(default=())
    photo_types: tuple[str, ...] = field(default=())


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> SendResult: ...

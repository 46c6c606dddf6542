"""What a channel and the rest of the application say to each other.

Outward, a channel adapter delivers one rendered message to one address and says whether a
failure is worth retrying (`Channel`). Inward, a channel's receive side hands what it read to
`Inbound` (a message, a delivery report, a deep link) and asks it nothing else. Each channel
package offers one `setup(settings, context)` that returns a `ChannelSetup`: its adapter, its web
routes and its background tasks. A channel knows nothing of follow-ups, the dialogue or the
database.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from starlette.routing import BaseRoute

from messages.render import Button

if TYPE_CHECKING:
    from bot.links import LinkSigner

__all__ = [
    "DELIVERY_RANK",
    "BackgroundTask",
    "Bounce",
    "Button",
    "Channel",
    "ChannelContext",
    "ChannelError",
    "ChannelSetup",
    "DeliveryReport",
    "Inbound",
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

    def __post_init__(self) -> None:
        # a NUL is never meant (PostgreSQL refuses it in text, SQLite would keep it): whatever a
        # provider or a stranger sends, what is stored from it carries none
        for name in ("provider_id", "sender", "text", "button_value"):
            value = getattr(self, name)
            if value is not None and "\x00" in value:
                object.__setattr__(self, name, value.replace("\x00", ""))


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> SendResult: ...


# delivery states as providers report them (Twilio's words; WhatsApp's sent, delivered, read and
# failed are among them), by how far along a message is: reports may arrive out of order, and a
# later one never overwrites a further one
DELIVERY_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "partially_delivered": 3,
    "read": 4,
}


@dataclass(frozen=True)
class DeliveryReport:
    """What a provider said later about a message we sent."""

    channel: str
    provider_id: str
    # one of DELIVERY_RANK
    status: str
    # the provider's error code as given, or None
    error: str | None = None
    # set when the failure condemns the address for this channel: the reason the outbox keeps
    # (a code and its meaning, never the address)
    permanent: str | None = None


@dataclass(frozen=True)
class Bounce:
    """A message of ours came back (an e-mail's delivery status notification): whether it
    condemns the address, why, and what it names to find the message it was."""

    channel: str
    # the notification's own id: it is stored once, however often it is read
    provider_id: str
    permanent: bool
    # the enhanced status code ("5.1.1"; "5.0.0" when the notification gave only its class)
    status: str
    # a fixed phrase for the coordinator ("mailbox does not exist"), never the server's text
    # (which quotes the address)
    reason: str
    # the provider ids of ours it returns (e-mail: Message-IDs in the returned headers)
    original_ids: tuple[str, ...] = ()
    # the follow-up of the signed reply address in the returned headers
    followup_id: int | None = None
    # the addresses that failed, as the notification names them
    recipients: tuple[str, ...] = ()


class Inbound(Protocol):
    """The one way in: a channel's receive side hands over what it read, one call each, and
    every call is a transaction of its own. Returns say what became of it (for logs and
    tests), never anything a channel must act on except where a method says so."""

    async def receive(
        self, message: InboundMessage, now: datetime, *, followup_id: int | None = None
    ) -> str:
        """A message from a participant, stored once by its provider id. `followup_id` when the
        channel already knows which follow-up it answers (an e-mail's signed reply address)."""
        ...

    async def delivery_report(self, report: DeliveryReport, now: datetime) -> str: ...

    async def bounce(self, bounce: Bounce, now: datetime) -> str:
        """A message came back: a permanent failure marks the address dead and moves the
        person down the ladder (or onto the call list); a delay marks nothing. Stored once by
        the notification's id; never a note, never an answer."""
        ...

    async def link(self, message: InboundMessage, token: str, now: datetime) -> str:
        """A deep link opened in a chat: binds the chat to the token's participant.
        "link_unknown" means the token was no good (unknown, used or expired)."""
        ...

    async def seen(self, channel: str, provider_id: str) -> bool:
        """Whether this message is stored already (a retry need not fetch its media again)."""
        ...

    async def replied_to(self, provider_ids: Sequence[str]) -> int | None:
        """The follow-up of the newest message we sent among these provider ids (In-Reply-To)."""
        ...

    def stranger_reply(self, channel: str, language: str) -> str:
        """What to tell someone we do not know who wrote to us on `channel`: how to get a link;
        in `language` when we speak it."""
        ...


BackgroundTask = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ChannelContext:
    """What the application lends a channel's setup."""

    inbound: Inbound
    clock: Callable[[], datetime]
    # reply addresses carry a signed token (e-mail); None without a public address
    signer: LinkSigner | None = None


@dataclass(frozen=True)
class ChannelSetup:
    """What a configured channel adds to the process."""

    # None when the channel only receives (a mailbox read without a mail server to send)
    adapter: Channel | None
    routes: Sequence[BaseRoute] = ()
    tasks: Sequence[BackgroundTask] = ()


def lazy_names(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A channel package's module `__getattr__` (PEP 562): each name in `where` is imported from
    its submodule when first asked for, so the provider library (twilio, telegram, aiosmtplib)
    loads only where the channel is used; start-up of every command pays for none of them."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    return __getattr__

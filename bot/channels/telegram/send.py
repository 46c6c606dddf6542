"""Telegram through the Bot API (python-telegram-bot): send, fetch updates, download photos.

The adapter only speaks to the Bot API. What an update says is read in `receive.py`, and where
updates come from in `updates.py`. Error texts never carry a chat id or a message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

# python-telegram-bot 22 warns on every RetryAfter unless durations are timedeltas, the form its
# next major version uses anyway; set before the library reads it
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.channels.base import OutgoingMessage, PermanentError, SendResult, TemporaryError

# httpx logs every request's URL at INFO, and a Bot API URL holds the bot's token;
# python-telegram-bot logs request parameters (chat ids, texts) at DEBUG
for _chatty in ("httpx", "httpcore", "telegram"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)

# the Bot API refuses to hand out files larger than this
MAX_DOWNLOAD = 20 * 1024 * 1024
# BadRequest texts that say the chat itself is gone, not that this message was wrong
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """One button per row: labels in Tigrinya or Persian are long, and a row is a big target."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.value)] for b in message.buttons]
    )


def retry_seconds(exc: RetryAfter) -> float:
    # a timedelta with PTB_TIMEDELTA set; an int if someone set it to false
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def as_channel_error(exc: TelegramError) -> TemporaryError | PermanentError:
    """What a Bot API failure means for the outbox."""
    if isinstance(exc, RetryAfter):
        return TemporaryError("telegram: flood limit", retry_after=retry_seconds(exc))
    if isinstance(exc, Forbidden):
        return PermanentError("telegram: bot blocked or never started")
    if isinstance(exc, BadRequest):
        if any(gone in exc.message.lower() for gone in _GONE):
            return PermanentError("telegram: chat not found")
        # the same request would get the same answer, but the chat itself may be fine: let the
        # retries run out rather than mark Telegram dead for this person
        return TemporaryError("telegram: bad request")
    if isinstance(exc, NetworkError):
        return TemporaryError(f"telegram: {type(exc).__name__}")
    return TemporaryError(f"telegram: {type(exc).__name__}")


class ChatPacer:
    """At most one message per `interval` seconds into one chat (Telegram's per-chat limit)."""

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}

    async def wait(self, chat: str) -> None:
        now = self._clock()
        if len(self._next) > 10_000:
            # forget chats whose pause is over, so the map stays small
            self._next = {c: t for c, t in self._next.items() if t > now}
        ready = self._next.get(chat, now)
        # reserve the slot before sleeping, so two sends to one chat queue up behind each other
        self._next[chat] = max(ready, now) + self.interval
        if ready > now:
            await self._sleep(ready - now)


class TelegramChannel:
    name = "telegram"

    def __init__(
        self,
        token: str,
        api_url: str = "https://api.telegram.org",
        *,
        chat_interval: float = 1.0,
        poll_timeout: int = 30,
        pacer: ChatPacer | None = None,
    ) -> None:
        root = api_url.rstrip("/")
        self.poll_timeout = poll_timeout
        # httpx's transport has retries=0 by default, and python-telegram-bot retries nothing
        # itself: a request is tried once, and the outbox decides about the next attempt
        self.bot = Bot(
            token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=HTTPXRequest(connection_pool_size=8, read_timeout=10.0),
            get_updates_request=HTTPXRequest(
                connection_pool_size=1, read_timeout=poll_timeout + 10.0
            ),
        )
        self.pacer = pacer or ChatPacer(chat_interval)
        self._ready = asyncio.Lock()
        self._initialized = False

    async def _bot(self) -> Bot:
        async with self._ready:
            if not self._initialized:
                try:
                    await self.bot.initialize()  # getMe: checks the token once
                except TelegramError as exc:
                    raise as_channel_error(exc) from exc
                self._initialized = True
        return self.bot

    async def close(self) -> None:
        async with self._ready:
            if self._initialized:
                await self.bot.shutdown()
                self._initialized = False

    async def username(self) -> str:
        bot = await self._bot()
        return bot.username

    async def send(self, message: OutgoingMessage) -> SendResult:
        bot = await self._bot()
        await self.pacer.wait(message.address)
        try:
            sent = await bot.send_message(
                chat_id=int(message.address),
                text=message.text,
                reply_markup=keyboard(message),
            )
        except TelegramError as exc:
            raise as_channel_error(exc) from exc
        return SendResult(provider_id=str(sent.message_id))

    async def reply(self, chat_id: int, text: str) -> None:
        """A one-off answer to a chat we do not know yet (a stale link): nothing to record."""
        bot = await self._bot()
        await self.pacer.wait(str(chat_id))
        try:
            await bot.send_message(chat_id=chat_id, text=text)
        except TelegramError as exc:
            raise as_channel_error(exc) from exc

    async def settle_button(self, callback_id: str, chat_id: int, message_id: int | None) -> None:
        """Stop the spinner on the tapped button and take the keyboard away (one tap counts)."""
        bot = await self._bot()
        try:
            await bot.answer_callback_query(callback_id)
            if message_id is not None:
                await bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=None
                )
        except TelegramError as exc:
            raise as_channel_error(exc) from exc

    async def download(self, file_id: str, max_bytes: int = MAX_DOWNLOAD) -> bytes:
        """A file's bytes through getFile and the file URL."""
        bot = await self._bot()
        try:
            found = await bot.get_file(file_id)
            if found.file_size is not None and found.file_size > max_bytes:
                raise PermanentError("telegram: file too big")
            if not found.file_path:
                # the Bot API answered getFile without a path: there is nothing to fetch
                raise PermanentError("telegram: file has no path")
            data = bytes(await found.download_as_bytearray())
        except TelegramError as exc:
            raise as_channel_error(exc) from exc
        if len(data) > max_bytes:
            raise PermanentError("telegram: file too big")
        return data

    async def updates(self, offset: int | None) -> Sequence[Update]:
        """Long polling: waits up to poll_timeout for updates after `offset`."""
        bot = await self._bot()
        try:
            return await bot.get_updates(
                offset=offset,
                timeout=self.poll_timeout,
                allowed_updates=["message", "callback_query"],
            )
        except TelegramError as exc:
            raise as_channel_error(exc) from exc

    def parse(self, data: dict[str, Any]) -> Update | None:
        """An update from a webhook body."""
        return Update.de_json(data, self.bot)

    async def set_webhook(self, url: str, secret: str) -> None:
        bot = await self._bot()
        try:
            await bot.set_webhook(
                url=url, secret_token=secret, allowed_updates=["message", "callback_query"]
            )
        except TelegramError as exc:
            raise as_channel_error(exc) from exc

    async def delete_webhook(self) -> None:
        """getUpdates is refused while a webhook is set."""
        bot = await self._bot()
        try:
            await bot.delete_webhook()
        except TelegramError as exc:
            raise as_channel_error(exc) from exc

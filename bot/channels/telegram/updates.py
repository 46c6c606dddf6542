"""Where Telegram updates come from: long polling (the default) or a webhook.

Both hand each update to `TelegramInbound.handle`, one at a time under one lock, so an album's
photos and a quick double tap are taken in order.

The webhook follows python-telegram-bot's custom-webhook example in spirit, with the Bot object
used directly instead of an `Application`: our own web app, scheduler and outbox already do what
an Application would add (update queue, job queue, rate limiter), and handling the update inside
the request means Telegram gets a 200 only once the update is stored.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, Update

from bot.channels.base import ChannelError
from bot.channels.telegram.receive import TelegramInbound
from bot.channels.telegram.send import TelegramChannel
from store.database import is_away
from store.media import MediaUnavailable

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024
# an update that keeps failing (a photo that cannot be fetched) is given up after this many tries
MAX_TRIES = 3


def read_update(bot: Bot | None, body: bytes) -> Update | None:
    """The update a webhook body holds, or None when it is not one we can read (not JSON, not
    an object, a field of the wrong type, a date out of range, no integer update_id)."""
    try:
        data = json.loads(body)
        update = Update.de_json(data, bot) if isinstance(data, dict) else None
    except Exception as exc:  # whatever the library trips on in a body it did not expect
        log.warning("telegram: webhook body is not an update (%s)", type(exc).__name__)
        return None
    if update is None or not isinstance(update.update_id, int):
        return None
    return update


class TelegramUpdates:
    def __init__(self, channel: TelegramChannel, inbound: TelegramInbound) -> None:
        self.channel = channel
        self.inbound = inbound
        self._lock = asyncio.Lock()

    async def poll(self, pause: float = 1.0, max_pause: float = 60.0) -> None:
        """Long polling until cancelled. The offset moves past an update only after it was
        handled, so after a crash Telegram sends it again, and the inbox drops the repeat."""
        wait = pause
        while True:
            try:
                await self.channel.delete_webhook()
                break
            except ChannelError as exc:
                log.warning("telegram: cannot delete the webhook (%s)", exc.reason)
                await asyncio.sleep(wait)
                wait = min(wait * 2, max_pause)
        offset: int | None = None
        tries: dict[int, int] = {}
        wait = pause
        while True:
            try:
                updates = await self.channel.updates(offset)
            except ChannelError as exc:
                log.warning("telegram: getUpdates failed (%s)", exc.reason)
                await asyncio.sleep(exc.retry_after or wait)
                wait = min(wait * 2, max_pause)
                continue
            wait = pause
            for update in updates:
                try:
                    async with self._lock:
                        outcome = await self.inbound.handle(update)
                    log.debug("telegram update handled: %s", outcome)
                except ChannelError as exc:
                    tries[update.update_id] = tries.get(update.update_id, 0) + 1
                    if tries[update.update_id] < MAX_TRIES:
                        log.warning("telegram: update failed, will retry (%s)", exc.reason)
                        await asyncio.sleep(wait)
                        break  # poll again from this update
                    log.error("telegram: update given up after %s tries", MAX_TRIES)
                except Exception as exc:
                    if is_away(exc) or isinstance(exc, MediaUnavailable):
                        # the offset is the acknowledgement: moving past an update that could
                        # not be stored would lose it; poll it again, however long the outage
                        log.warning("telegram: update waits, storage away (%s)", type(exc).__name__)
                        await asyncio.sleep(wait)
                        break
                    # a bug in handling one update must not stop the bot for everyone
                    log.exception("telegram: update could not be handled")
                tries.pop(update.update_id, None)
                offset = update.update_id + 1

    def webhook_route(self, secret: str) -> Route:
        """POST /webhooks/telegram, checked against the secret given to setWebhook."""

        async def receive(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return Response(status_code=403)
            body = await request.body()
            if len(body) > MAX_BODY:
                return Response(status_code=413)
            update = read_update(self.channel.bot, body)
            if update is None:
                # 200: Telegram would send a body we cannot read again and again, and nothing
                # of it is kept; only the secret's holder gets this far
                return Response(status_code=200)
            try:
                async with self._lock:
                    await self.inbound.handle(update)
            except ChannelError as exc:
                # not stored: Telegram sends it again later
                log.warning("telegram: webhook update failed (%s)", exc.reason)
                return Response(status_code=503)
            return Response(status_code=200)

        return Route(WEBHOOK_PATH, receive, methods=["POST"])

    async def keep_webhook(self, url: str, secret: str, pause: float = 5.0) -> None:
        """Register the webhook at start (retrying while the Bot API is away), then idle."""
        while True:
            try:
                await self.channel.set_webhook(url, secret)
                break
            except ChannelError as exc:
                log.warning("telegram: setWebhook failed (%s)", exc.reason)
                await asyncio.sleep(exc.retry_after or pause)
        await asyncio.Event().wait()

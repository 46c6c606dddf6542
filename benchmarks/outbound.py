"""Figure 1: follow-ups per second from due to accepted by the provider, through the App's
tick (dispatch, then drain), with the rate limits off, beside the bare client libraries
sending one at a time to the same fake.

The bare clients are the ceiling: python-telegram-bot and twilio are imported here, outside
their channel packages, because the figure is what the library alone does.
"""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

from telegram import Bot
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from benchmarks.fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    TOKEN,
    FakeTelegram,
    MeteredTwilio,
    bound_socket,
    serving,
)
from benchmarks.population import SECRET, bulk, create_schema, database, people
from benchmarks.report import Report
from bot.channels.telegram import TelegramChannel
from fikafollow.app import App
from fikafollow.config import Settings, load_settings

# a Wednesday, 10:30 in Stockholm: inside the default send window
NOW = datetime(2026, 6, 10, 8, 30, tzinfo=UTC)
UNLIMITED = 1_000_000.0


def settings(url: str, work: Path, channel: str, api_url: str, rate: float = UNLIMITED) -> Settings:
    """The App's settings with one channel pointed at its fake."""
    common = {
        "database_url": url,
        "secret_key": SECRET,
        "photo_dir": work / "photos",
        "rate_telegram": rate,
        "rate_sms": rate,
        "rate_email": rate,
        "telegram_chat_interval": 0.0,
        # SMS wants a public address for its webhooks; none is called here
        "public_url": "http://127.0.0.1:9",
    }
    if channel == "telegram":
        return load_settings(**common, telegram_token=TOKEN, telegram_api_url=api_url)
    return load_settings(
        **common,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM_NUMBER,
        twilio_api_url=api_url,
    )


async def _tick(url: str, work: Path, channel: str, api_url: str) -> tuple[float, int]:
    app = App(settings(url, work, channel, api_url))
    try:
        programme = await app.programme(None, NOW)
        async with app.sessions.begin() as session:
            # every due follow-up starts in this one tick: the programme's daily cap (1,000 by
            # default) would otherwise leave two thirds of 3,000 for the next days
            session.add(programme)
            programme.daily_cap = max(programme.daily_cap, 1_000_000)
        adapter = app.channels[channel]
        if isinstance(adapter, TelegramChannel):
            await adapter.username()  # getMe once, before the clock starts
        started = time.perf_counter()
        result = await app.tick(lambda: NOW)
        return time.perf_counter() - started, result.drain.sent
    finally:
        await app.close()


async def ours(kind: str, channel: str, count: int, work: Path) -> tuple[float, str]:
    """Follow-ups per second for `count` due follow-ups; a note when not all arrived."""
    async with database(kind, work) as url:
        await create_schema(url, work, NOW)
        await bulk(url, people(count, NOW, channel=channel, due=count))
        if channel == "telegram":
            async with FakeTelegram() as telegram:
                seconds, sent = await _tick(url, work, channel, telegram.url)
                arrived = len(telegram.sent)
        else:
            twilio = MeteredTwilio()
            async with serving(twilio, bound_socket()) as root:
                seconds, sent = await _tick(url, work, channel, root)
            arrived = len(twilio.fake.sent)
    note = "" if arrived == sent == count else f"{arrived} of {count} arrived"
    return count / seconds, note


async def bare_telegram(count: int) -> float:
    async with FakeTelegram() as fake, Bot(TOKEN, base_url=f"{fake.url}/bot") as bot:
        started = time.perf_counter()
        for n in range(count):
            await bot.send_message(1_000_000 + n, f"message {n}")
        return count / (time.perf_counter() - started)


async def bare_twilio(count: int) -> float:
    fake = MeteredTwilio()
    async with serving(fake, bound_socket()) as root:
        http = AsyncTwilioHttpClient()
        client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
        client.api.base_url = root
        try:
            with warnings.catch_warnings():
                # twilio 9.13 uses aiohttp's deprecated BasicAuth (PERF-NOTES)
                warnings.simplefilter("ignore", DeprecationWarning)
                started = time.perf_counter()
                for n in range(count):
                    await client.messages.create_async(
                        to=f"+4670{n:07d}", from_=FROM_NUMBER, body=f"message {n}"
                    )
                return count / (time.perf_counter() - started)
        finally:
            await http.close()


async def run(report: Report, quick: bool, work: Path) -> None:
    count = 50 if quick else 3000
    for channel, bare in (("telegram", bare_telegram), ("sms", bare_twilio)):
        ceiling = await bare(count)
        report.add(f"outbound.{channel}.bare_client", ceiling, "msg/s")
        for kind in ("sqlite", "postgres"):
            rate, note = await ours(kind, channel, count, work)
            report.add(f"outbound.{channel}.{kind}", rate, "follow-ups/s", ceiling, note)

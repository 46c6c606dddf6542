"""Delivery through python-telegram-bot to the loopback Bot API: rate, retry_after, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.base import Button, OutgoingMessage, PermanentError, TemporaryError
from bot.channels.telegram import ChatPacer, TelegramChannel
from tests.support.fake_telegram import TOKEN, FakeTelegram, Fault
from tests.support.telegram_load import deliver


def _message(chat: int, text: str = "hej", buttons: tuple[Button, ...] = ()) -> OutgoingMessage:
    return OutgoingMessage(
        outbox_id=1,
        channel="telegram",
        address=str(chat),
        language="sv",
        text=text,
        buttons=buttons,
    )


@pytest.mark.slow
async def test_every_message_is_delivered_once_through_429s_5xx_and_slow_answers(
    db_url: str, tmp_path: Path
) -> None:
    async with FakeTelegram() as fake:
        fake.fail(
            "sendMessage",
            Fault(200, "", delay=0.3),
            Fault(429, "Too Many Requests: retry after 1", retry_after=1),
            Fault(502, "Bad Gateway"),
            Fault(200, "", delay=0.2),
            Fault(429, "Too Many Requests: retry after 1", retry_after=1),
            Fault(500, "Internal Server Error"),
        )
        result = await deliver(db_url, fake, tmp_path, count=60, rate=100.0, chats=30)
    assert result.sent_rows == 60
    assert set(result.delivered) == {f"message {n}" for n in range(60)}
    assert max(result.delivered.values()) == 1, "a message was delivered twice"
    # 60 deliveries plus the four refused attempts, each tried once by the client
    assert result.calls == 64
    # two messages per chat at 1 per second per chat, and two 1-second pauses
    assert result.seconds >= 1.0


async def test_send_puts_buttons_in_an_inline_keyboard_and_maps_failures() -> None:
    async with FakeTelegram() as fake:
        channel = TelegramChannel(TOKEN, fake.url, chat_interval=0)
        try:
            buttons = (Button("Ja", "met_again=yes"), Button("Nej", "met_again=no"))
            result = await channel.send(_message(42, "Har ni träffats igen?", buttons))
            assert result.provider_id == str(fake.sent[0].message_id)
            assert fake.sent[0].buttons == [("Ja", "met_again=yes"), ("Nej", "met_again=no")]
            assert fake.sent[0].text == "Har ni träffats igen?"

            fake.blocked.add(43)
            with pytest.raises(PermanentError):
                await channel.send(_message(43))
            with pytest.raises(PermanentError, match="chat not found"):
                await channel.send(_message(-44))
            fake.fail("sendMessage", Fault(429, "Too Many Requests: retry after 7", retry_after=7))
            with pytest.raises(TemporaryError) as flood:
                await channel.send(_message(42))
            assert flood.value.retry_after == 7
            fake.fail("sendMessage", Fault(503, "Service Unavailable"))
            with pytest.raises(TemporaryError):
                await channel.send(_message(42))
            # the client tried each once: no retries behind the outbox's back
            assert fake.calls["sendMessage"] == 5
        finally:
            await channel.close()


async def test_one_chat_gets_at_most_one_message_per_interval() -> None:
    slept: list[float] = []
    now = [100.0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = ChatPacer(1.0, clock=lambda: now[0], sleep=sleep)
    await pacer.wait("a")
    await pacer.wait("b")
    await pacer.wait("a")
    await pacer.wait("a")
    assert slept == [1.0, 1.0]

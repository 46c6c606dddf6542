"""Deep links: issued hashed, spent once, expiring; an unlinked Telegram participant is asked on
the next channel with the link, where it fits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.channels.sms.segments import segments
from bot.channels.telegram import TelegramChannel, TelegramLinker, start_payload
from fikafollow.app import App
from scheduler.passes import dispatch_due
from store import intake, telegram_links
from store.models import OutboxMessage, Participant, Programme, TelegramLink

NOW = datetime(2026, 5, 25, 8, 0, tzinfo=UTC)
CSV = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
    "M1,2026-05-04,individual,P1,Leila,newcomer,fa,telegram,+46701234501,leila@example.org,woman\n"
    "M1,2026-05-04,individual,P2,Erik,established,sv,telegram,+46701234502,,man\n"
)


async def _import(app: App) -> None:
    programme = await app.programme(None, NOW - timedelta(days=20))
    rows, errors = intake.read_csv(CSV.encode(), "SE")
    assert not errors
    async with app.sessions.begin() as session:
        programme = await session.get_one(Programme, programme.id)
        await intake.apply(session, programme, rows, NOW - timedelta(days=20), app.book.days())


async def test_a_token_works_once_and_not_after_it_expired(app: App) -> None:
    await _import(app)
    async with app.sessions.begin() as session:
        people = {p.external_id: p for p in await session.scalars(select(Participant))}
        fresh = telegram_links.issue(session, people["P1"].id, NOW, timedelta(days=1))
        old = telegram_links.issue(session, people["P2"].id, NOW, timedelta(days=1))
    assert telegram_links.TOKEN_FORMAT.match(fresh) and len(fresh) <= 64
    async with app.sessions.begin() as session:
        stored = list(await session.scalars(select(TelegramLink.token_hash)))
        assert fresh not in stored and old not in stored, "only hashes are stored"
        assert await telegram_links.redeem(session, old, NOW + timedelta(days=2)) is None
        linked = await telegram_links.redeem(session, fresh, NOW + timedelta(hours=1))
        assert linked is not None and linked.external_id == "P1"
        assert await telegram_links.redeem(session, fresh, NOW + timedelta(hours=2)) is None
        assert await telegram_links.redeem(session, "bad token!", NOW) is None


async def test_unlinked_telegram_participant_is_asked_by_sms_with_the_link_where_it_fits(
    app: App,
) -> None:
    await _import(app)
    channel = TelegramChannel("1:x", "http://127.0.0.1:9")  # never called: the name is set
    app.conversation.telegram_linker = TelegramLinker(channel, timedelta(days=30), "FikaBot")
    result = await dispatch_due(app.sessions, app.conversation, NOW)
    assert result.started == 2
    async with app.sessions() as session:
        rows = {
            row.language: row
            for row in await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        }
        links = list(await session.scalars(select(TelegramLink)))
    assert {row.channel for row in rows.values()} == {"sms"}
    swedish = rows["sv"].payload["text"]
    assert "https://t.me/FikaBot?start=" in swedish and segments(swedish) <= 2
    # in Persian the link would make the SMS four parts: it is left out
    persian = rows["fa"].payload["text"]
    assert "t.me" not in persian and segments(persian) <= 2
    assert len(links) == 2


def test_start_payload() -> None:
    assert start_payload("/start abc-DEF_1") == "abc-DEF_1"
    assert start_payload("/start@FikaBot abc") == "abc"
    assert start_payload("/start") is None
    assert start_payload("/stop abc") is None
    assert start_payload("hello") is None


def test_webhook_mode_needs_a_public_url_and_a_secret() -> None:
    from fikafollow.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="FIKAFOLLOW_PUBLIC_URL"):
        load_settings(telegram_token="1:x", telegram_mode="webhook")
    with pytest.raises(ConfigError, match="FIKAFOLLOW_TELEGRAM_WEBHOOK_SECRET"):
        load_settings(telegram_token="1:x", telegram_mode="webhook", public_url="https://f.se")
    with pytest.raises(ConfigError, match="FIKAFOLLOW_TELEGRAM_MODE"):
        load_settings(telegram_mode="carrier-pigeon")


def test_links_without_telegram_configured_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fikafollow.commands import main

    assert main(["links"]) == 2
    assert "FIKAFOLLOW_TELEGRAM_TOKEN" in capsys.readouterr().err

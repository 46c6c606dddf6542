"""The whole Telegram conversation through `fikafollow serve`, against our own Bot API on loopback:
link, question, button, typed answer in Arabic digits, photo with caption, consent, /stop."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, update

from fikafollow.app import App
from fikafollow.commands import build_parser, run
from fikafollow.config import load_settings
from store import intake
from store.models import Answer, FollowUp, Greeting, InboxEvent, Participant, Programme
from tests.support.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram, Fault, free_port

CHAT = 5550001
SECRET = "s3cret-webhook_token"


def _csv() -> bytes:
    # matched ten days ago: the follow-up is not due yet, so the chat is linked first
    matched = (date.today() - timedelta(days=10)).isoformat()
    return (
        "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,"
        "gender\n"
        f"M1,{matched},individual,P1,Amina,newcomer,ar,telegram,,amina@example.org,woman\n"
        f"M1,{matched},individual,P2,Erik,established,sv,email,,erik@example.org,man\n"
    ).encode()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


def _environ(db_url: str, fake: FakeTelegram, port: int, tmp: Path, mode: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")}
    environ.update(
        FIKAFOLLOW_DATABASE_URL=db_url,
        FIKAFOLLOW_TELEGRAM_TOKEN=TOKEN,
        FIKAFOLLOW_TELEGRAM_API_URL=fake.url,
        FIKAFOLLOW_TELEGRAM_CHAT_INTERVAL="0.2",
        FIKAFOLLOW_TELEGRAM_POLL_TIMEOUT="2",
        FIKAFOLLOW_TICK_SECONDS="1",
        FIKAFOLLOW_RETRY_BASE_SECONDS="1",
        FIKAFOLLOW_PHOTO_DIR=str(tmp / "photos"),
        FIKAFOLLOW_QUIET_HOURS="00:00-00:01",
        # on the real clock: nor may a Sunday, a holiday or Friday midday hold it back
        FIKAFOLLOW_SEND_CALENDAR="off",
    )
    if mode == "webhook":
        environ.update(
            FIKAFOLLOW_TELEGRAM_MODE="webhook",
            FIKAFOLLOW_PUBLIC_URL=f"http://127.0.0.1:{port}",
            FIKAFOLLOW_TELEGRAM_WEBHOOK_SECRET=SECRET,
            # with a public URL the e-mail answer links are signed: PostgreSQL needs a shared key
            FIKAFOLLOW_SECRET_KEY="test-secret-key-0123456789",
        )
    return environ


async def _links(db_url: str, fake: FakeTelegram, tmp: Path) -> dict[str, str]:
    settings = load_settings(database_url=db_url, telegram_token=TOKEN, telegram_api_url=fake.url)
    out = tmp / "links.csv"
    code = await run(
        build_parser().parse_args(["links", "--out", str(out)]), settings, io.StringIO()
    )
    assert code == 0
    with out.open(encoding="utf-8") as fileobj:
        return {row["participant_id"]: row["telegram_link"] for row in csv.DictReader(fileobj)}


async def _wait(predicate: object, what: str, within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_whole_conversation_through_serve(db_url: str, tmp_path: Path, mode: str) -> None:
    app = App(
        load_settings(
            database_url=db_url,
            photo_dir=tmp_path / "photos",
            quiet_hours="00:00-00:01",
            send_calendar=False,
        ),
        channels={},
    )
    await app.start()
    now = datetime.now(UTC)
    programme = await app.programme(None, now)
    rows, errors = intake.read_csv(_csv(), "SE")
    assert not errors
    async with app.sessions.begin() as session:
        programme = await session.get_one(Programme, programme.id)
        await intake.apply(session, programme, rows, now, app.book.days())

    async with FakeTelegram() as fake:
        links = await _links(db_url, fake, tmp_path)
        assert set(links) == {"P1"}
        prefix = f"https://t.me/{BOT_USERNAME}?start="
        assert links["P1"].startswith(prefix)
        token = links["P1"].removeprefix(prefix)
        assert 1 <= len(token) <= 64

        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fikafollow",
            "serve",
            "--port",
            str(port),
            env=_environ(db_url, fake, port, tmp_path, mode),
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            if mode == "webhook":

                async def webhook_set() -> bool:
                    return fake.webhook is not None

                await _wait(webhook_set, "setWebhook")
                assert fake.webhook == (f"http://127.0.0.1:{port}/webhooks/telegram", SECRET)
                # a wrong or missing secret is refused and nothing is stored
                bad = {
                    "update_id": 1,
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "text": "/stop",
                        "chat": {"id": CHAT, "type": "private"},
                    },
                }
                assert await fake.post_webhook(bad, secret="wrong") == 403
                assert await fake.post_webhook(bad, secret="") == 403

            # an unknown token: a polite message, nothing changes
            await fake.text(CHAT, "/start not-a-real-token", language="de")
            unknown = (await fake.wait_for(CHAT, 1))[0]
            assert "link" in unknown.text and "länken" in unknown.text

            # the real link binds the chat and greets in Arabic
            await fake.text(CHAT, f"/start {token}")
            greeting = (await fake.wait_for(CHAT, 2))[1]
            assert "Amina" in greeting.text and "شكرًا" in greeting.text
            # the link works once
            await fake.text(CHAT + 1, f"/start {token}")
            await fake.wait_for(CHAT + 1, 1)
            async with app.sessions() as session:
                amina = await session.scalar(
                    select(Participant).where(Participant.external_id == "P1")
                )
                assert amina is not None and amina.telegram_chat_id == str(CHAT)

            # the follow-up falls due: the first question comes with buttons in Arabic
            async with app.sessions.begin() as session:
                await session.execute(update(FollowUp).values(due_at=datetime.now(UTC)))
            question = (await fake.wait_for(CHAT, 3))[2]
            assert [value for _label, value in question.buttons] == [
                "met_again=yes",
                "met_again=no",
            ]
            assert question.buttons[0][0] == "نعم"

            # a tap answers; the keyboard goes, a second tap changes nothing
            await fake.tap(CHAT, question, "met_again=yes")
            second = (await fake.wait_for(CHAT, 4))[3]
            assert second.buttons[0][1] == "will_meet_again=yes"
            assert (CHAT, question.message_id) in fake.edited
            assert len(fake.answered_callbacks) == 1
            await fake.tap(CHAT, question, "met_again=no")

            # a typed answer in Arabic-Indic digits: ٢ is the second option, maybe
            await fake.text(CHAT, "٢")
            invite = (await fake.wait_for(CHAT, 5))[4]
            assert not invite.buttons

            # a photo with a caption is a greeting; consent is asked once
            # an album: two photos with one media_group_id, the caption on the first; each is
            # stored, and the consent question is asked once for both
            # the first download fails: nothing is stored, the update comes again (webhook: a
            # 503 makes Telegram resend it; polling: the offset stays before it)
            fake.fail("getFile", Fault(500, "Internal Server Error"))
            await fake.photo(CHAT, _jpeg(), caption="فيكا لطيفة", media_group_id="album1")
            await fake.photo(CHAT, _jpeg(), media_group_id="album1")

            async def both_photos() -> bool:
                async with app.sessions() as session:
                    return len(list(await session.scalars(select(Greeting)))) == 2

            await _wait(both_photos, "the album")
            consent = (await fake.wait_for(CHAT, 6))[5]
            assert len(fake.to(CHAT)) == 6
            assert fake.calls["getFile"] == 3
            assert [v for _l, v in consent.buttons] == ["consent=yes", "consent=no"]
            await fake.tap(CHAT, consent, "consent=yes")
            await fake.wait_for(CHAT, 7)

            # /stop stops everything, confirmed in Arabic
            await fake.text(CHAT, "/stop")
            stopped = (await fake.wait_for(CHAT, 8))[7]
            said = {"programme": "Fika", "first_name": "Amina"}
            assert stopped.text == app.catalogue.render("opted_out", "ar", "telegram", **said).text

            async def settled() -> bool:
                async with app.sessions() as session:
                    who = await session.scalar(
                        select(Participant).where(Participant.external_id == "P1")
                    )
                    return who is not None and who.opted_out_at is not None

            await _wait(settled, "the opt-out")
            # /start without a link undoes it
            await fake.text(CHAT, "/start")
            welcome = (await fake.wait_for(CHAT, 9))[8]
            assert welcome.text == app.catalogue.render("opted_in", "ar", "telegram", **said).text
            if mode == "webhook":
                # Telegram sending an update again changes nothing
                events = await _count_events(app)
                status = await fake.post_webhook(
                    {
                        "update_id": 1001,
                        "message": {
                            "message_id": 9,
                            "date": 0,
                            "text": "/start x",
                            "chat": {"id": CHAT, "type": "private"},
                        },
                    }
                )
                assert status == 200
                assert await _count_events(app) == events
        finally:
            process.send_signal(signal.SIGINT)
            _out, err = await asyncio.wait_for(process.communicate(), 30)
        # uvicorn shuts down cleanly, then raises the signal again for whoever sent it
        assert process.returncode in (0, -signal.SIGINT), err.decode()[-2000:]
        assert b"tick failed" not in err and b"could not be handled" not in err
        # nothing personal and no secret in the log: not the name, chat, link or bot token
        for secret in (
            b"Amina",
            str(CHAT).encode(),
            token.encode(),
            TOKEN.encode(),
            SECRET.encode(),
        ):
            assert secret not in err, secret

    async with app.sessions() as session:
        amina = await session.scalar(select(Participant).where(Participant.external_id == "P1"))
        assert amina is not None and amina.opted_out_at is None
        answers = {a.question: (a.value, a.channel) for a in await session.scalars(select(Answer))}
        assert answers == {
            "met_again": ("yes", "telegram"),
            "will_meet_again": ("maybe", "telegram"),
        }
        greetings = list(await session.scalars(select(Greeting).order_by(Greeting.id)))
        assert [(g.words, g.consent) for g in greetings] == [("فيكا لطيفة", "yes"), ("", "yes")]
        for greeting in greetings:
            assert (tmp_path / "photos" / str(greeting.photo_path)).exists()
        outcomes = [
            e.outcome for e in await session.scalars(select(InboxEvent).order_by(InboxEvent.id))
        ]
        assert outcomes == [
            "link_unknown",
            "linked",
            "link_unknown",
            "answered",
            "stale_button",
            "answered",
            "greeting",
            "greeting",
            "consent",
            "opted_out",
            "opted_in",
        ]
    await app.close()


async def _count_events(app: App) -> int:
    async with app.sessions() as session:
        return len(list(await session.scalars(select(InboxEvent))))

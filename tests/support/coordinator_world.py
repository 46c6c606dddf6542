"""Two programmes with a coordinator each, served by a real uvicorn on loopback, for the tests
of the coordinators' web app (HTTP and browser)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select, update

from bot.channels.base import InboundMessage
from bot.web import WebContext, create_web_app
from fikafollow.app import App
from fikafollow.commands import main
from fikafollow.coordinator_web import coordinator_context
from store import intake
from store.models import FollowUp, Greeting, Match, Participant, Programme
from tests.support.mail_support import NOW, SmtpServer, free_port, mail_app, photo_with_gps

OTHER_CSV = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
    "X1,2026-05-04,family,Q1,Zainab,newcomer,ar,sms,+46701740611,,woman\n"
    "X1,2026-05-04,family,Q2,Gunnel,established,sv,sms,+46701740612,,woman\n"
)
LINK = re.compile(r"http://127\.0\.0\.1:8765(/coordinator/login/[A-Za-z0-9_\-]+)")
FIRST_EMAIL = "samordnare@example.org"
OTHER_EMAIL = "other@example.org"
# names, numbers and words of the first programme the second coordinator must never see
FIRST_SECRETS = ("Amina", "Karin", "Dariush", "Erik", "amina@example.org", "Vi drack kaffe")


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    app: App
    base: str
    smtp: SmtpServer
    clock: Clock
    greeting_ids: dict[str, int] = field(default_factory=dict)
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    sent: int = 0

    def client(self) -> httpx.AsyncClient:
        """An HTTP client of its own (a browser without cookies), closed with the world."""
        made = httpx.AsyncClient(base_url=self.base)
        self.clients.append(made)
        return made

    async def words_from(self, sender: str, text: str, channel: str = "email") -> str:
        """A participant writes: the real inbound path, as a channel hands it over."""
        self.sent += 1
        message = InboundMessage(channel, f"<words-{self.sent}@example.org>", sender, text)
        return await self.app.inbound.receive(message, self.clock())

    async def greeting_from(self, external_id: str, words: str, consent: str) -> int:
        """A fikahälsning (a photo and words) of the first programme's participant, as the
        conversation keeps one."""
        async with self.app.sessions.begin() as session:
            person = await _person(session, "default", external_id)
            followup = await session.scalar(
                select(FollowUp.id).where(FollowUp.participant_id == person.id)
            )
            stored = await self.app.photos.save(photo_with_gps())
            greeting = Greeting(
                followup_id=followup,
                participant_id=person.id,
                words=words,
                photo_path=stored.path,
                photo_type=stored.content_type,
                consent=consent,
                created_at=self.clock(),
                consent_at=self.clock(),
            )
            session.add(greeting)
            await session.flush()
            return greeting.id

    def sign_in_link(self, address: str) -> str:
        raw = [raw for _, rcpts, raw in self.smtp.sink.received if address in rcpts][-1]
        mail = message_from_bytes(raw, policy=policy.default)
        body = mail.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
        found = LINK.search(body)
        assert found, body
        return self.base + found[1]


def cli(db_url: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    assert main(list(args)) == 0


async def make_world(
    db_url: str, tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    app = await mail_app(db_url, tmp_path, smtp.port)
    clock = Clock()
    # the coordinators come in as an operator adds them: by the command line
    await asyncio.to_thread(
        cli,
        db_url,
        "coordinator",
        "add",
        "--name",
        "Sara",
        "--email",
        FIRST_EMAIL,
        "--language",
        "sv",
        monkeypatch=monkeypatch,
    )
    await asyncio.to_thread(
        cli,
        db_url,
        "programme",
        "set",
        "other",
        "--name",
        "Annat program",
        monkeypatch=monkeypatch,
    )
    await asyncio.to_thread(
        cli,
        db_url,
        "coordinator",
        "add",
        "--programme",
        "other",
        "--name",
        "Olle",
        "--email",
        OTHER_EMAIL,
        "--language",
        "sv",
        monkeypatch=monkeypatch,
    )
    rows, errors = intake.read_file(OTHER_CSV.encode(), "SE")
    assert not errors
    world = World(app, "", smtp, clock)
    async with app.sessions.begin() as session:
        other = await session.get_one(Programme, "other")
        await intake.apply(session, other, rows, NOW, app.book.days())
    # the first programme: Amina's follow-up ran out (call list), Karin sent a photo with consent
    assert (await app.tick(lambda: NOW)).drain.sent == 4
    async with app.sessions.begin() as session:
        karin = await _person(session, "default", "P2")
        amina = await _person(session, "default", "P1")
        await session.execute(
            update(FollowUp).where(FollowUp.participant_id == amina.id).values(status="expired")
        )
        amina.phone = "+46701740665"  # in PTS's range for fiction (070-174 06 05–99)
        followup = await session.scalar(
            select(FollowUp.id).where(FollowUp.participant_id == karin.id)
        )
        stored = await app.photos.save(photo_with_gps())
        greeting = Greeting(
            followup_id=followup,
            participant_id=karin.id,
            words="Vi drack kaffe och pratade länge",
            photo_path=stored.path,
            photo_type=stored.content_type,
            consent="yes",
            created_at=NOW,
            consent_at=NOW,
        )
        session.add(greeting)
        # the other programme: Zainab's expired too, and she sent a photo
        zainab = await _person(session, "other", "Q1")
        await session.execute(
            update(FollowUp).where(FollowUp.participant_id == zainab.id).values(status="expired")
        )
        zf = await session.scalar(select(FollowUp.id).where(FollowUp.participant_id == zainab.id))
        other_photo = await app.photos.save(photo_with_gps())
        other_greeting = Greeting(
            followup_id=zf,
            participant_id=zainab.id,
            words="شكرا",
            photo_path=other_photo.path,
            photo_type=other_photo.content_type,
            consent="yes",
            created_at=NOW,
            consent_at=NOW,
        )
        session.add(other_greeting)
        await session.flush()
        world.greeting_ids = {"first": greeting.id, "other": other_greeting.id}
    web = create_web_app(
        WebContext(app.sessions, app.book.days(), "SE", clock),
        [*_routes(app, clock)],
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            web, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        world.base = f"http://127.0.0.1:{port}"
        yield world
    finally:
        for client in world.clients:
            await client.aclose()
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        await app.close()


def _routes(app: App, clock: Clock) -> list[object]:
    from coordinator.web import coordinator_routes

    return list(coordinator_routes(coordinator_context(app, clock)))


async def _person(session: object, programme: str, external: str) -> Participant:
    found = await session.scalar(  # type: ignore[attr-defined]
        select(Participant).where(
            Participant.programme_id == programme, Participant.external_id == external
        )
    )
    assert found is not None
    return found


__all__ = ["FIRST_EMAIL", "FIRST_SECRETS", "OTHER_EMAIL", "Clock", "Match", "World", "make_world"]

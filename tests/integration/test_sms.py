"""The whole SMS conversation over real HTTP: the `twilio` client sends to a Twilio look-alike on
loopback, and Twilio's signed webhooks reach the running web app (uvicorn) on loopback."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.channels import sms
from bot.web import WebContext, create_web_app
from fikafollow.app import App
from fikafollow.config import load_settings
from store import intake, outbox
from store.database import make_engine
from store.models import (
    Answer,
    FollowUp,
    Greeting,
    InboxEvent,
    OutboxMessage,
    Participant,
    Programme,
)
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.loopback import bound_socket, serving, url_of

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
)
CSV = HEADER + (
    "M1,2026-05-04,individual,P1,Samira,newcomer,ar,sms,+46701000001,samira@example.org,woman\n"
    "M1,2026-05-04,individual,P2,Erik,established,sv,sms,+46701000002,,man\n"
    "M2,2026-05-04,individual,P3,Leila,newcomer,fa,sms,+46701000003,,woman\n"
    "M2,2026-05-04,individual,P4,Peter,established,en,sms,+46701000004,,man\n"
    "M3,2026-05-04,individual,P5,Yonas,newcomer,ti,sms,+46701000005,,man\n"
    "M3,2026-05-04,individual,P6,Karin,established,sv,sms,+46701000006,,woman\n"
)
DUE = datetime(2026, 5, 25, 8, 0, tzinfo=UTC)
PHONES = {
    "ar": "+46701000001",
    "sv": "+46701000002",
    "fa": "+46701000003",
    "en": "+46701000004",
    "ti": "+46701000005",
}
# "yes" to the first question, "maybe" to the second, as people type them
YES = {"ar": "نعم", "sv": "ja", "fa": "بله", "en": "yes", "ti": "እወ"}
MAYBE = {"ar": "ربما", "sv": "kanske", "fa": "شاید", "en": "maybe", "ti": "ምናልባት"}
INBOUND = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Service:
    app: App
    url: str
    http: httpx.AsyncClient
    clock: Clock
    twilio: FakeTwilio

    async def post(self, form: dict[str, str], **kw: object) -> httpx.Response:
        return await self.twilio.post(self.http, self.url + INBOUND, form, **kw)  # type: ignore[arg-type]

    async def text(self, sender: str, body: str, **kw: object) -> httpx.Response:
        return await self.post(self.twilio.inbound_form(sender, body), **kw)

    async def tick(self) -> None:
        await self.app.tick(self.clock)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    sock = bound_socket()
    fake.root = url_of(sock)
    async with serving(fake.app(), sock):
        yield fake


@pytest.fixture
async def service(db_url: str, tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[Service]:
    sock = bound_socket()
    settings = load_settings(
        database_url=db_url,
        photo_dir=tmp_path / "photos",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM_NUMBER,
        twilio_api_url=twilio.root,
        public_url=url_of(sock),
        # a public URL means signed answer links, and PostgreSQL needs a shared key for them
        secret_key="test-secret-key-0123456789",
    )
    app = App(settings)
    await app.start()
    clock = Clock(DUE)
    # the webhooks on the test's clock
    hooks = sms.setup(settings, app.channel_context(clock))
    assert hooks is not None
    web = create_web_app(WebContext(app.sessions, app.book.days(), "SE", clock), hooks.routes)
    try:
        async with serving(web, sock) as url, httpx.AsyncClient(timeout=30) as http:
            yield Service(app, url, http, clock, twilio)
    finally:
        await app.close()


async def seed(service: Service, csv: str = CSV) -> None:
    app = service.app
    programme = await app.programme(None, DUE - timedelta(days=20))
    rows, errors = intake.read_csv(csv.encode(), "SE")
    assert not errors
    async with app.sessions.begin() as session:
        programme = await session.get_one(Programme, programme.id)
        await intake.apply(session, programme, rows, DUE - timedelta(days=20), app.book.days())
    await service.tick()


def last_to(twilio: FakeTwilio, number: str) -> str:
    return [m.body for m in twilio.sent if m.to == number][-1]


async def outbox_rows(service: Service, number: str) -> list[OutboxMessage]:
    async with service.app.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.address == number).order_by(OutboxMessage.id)
        )
        return list(rows)


async def inbox_count(service: Service) -> int:
    async with service.app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxEvent)) or 0)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


# --- outbound through the twilio client ----------------------------------------------------------


async def test_first_questions_go_out_through_twilio_with_a_status_callback(
    service: Service, twilio: FakeTwilio
) -> None:
    await seed(service)
    assert sorted(m.to for m in twilio.sent) == sorted(f"+4670100000{i}" for i in range(1, 7))
    for message in twilio.sent:
        assert message.sender == FROM_NUMBER
        assert message.status_callback == service.url + STATUS
    rows = await outbox_rows(service, PHONES["ar"])
    assert [(r.status, r.kind) for r in rows] == [("sent", "question")]
    sent = next(m for m in twilio.sent if m.to == PHONES["ar"])
    # what went out is what the outbox holds, under Twilio's id
    assert rows[0].provider_id == sent.sid and sent.body == rows[0].payload["text"]
    assert "Erik" in sent.body


async def test_answers_by_text_in_five_languages_and_scripts(
    service: Service, twilio: FakeTwilio
) -> None:
    await seed(service)
    for language, number in PHONES.items():
        first = last_to(twilio, number)
        response = await service.text(number, YES[language])
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml")
        assert response.text.endswith("<Response/>")
        await service.tick()
        second = last_to(twilio, number)
        assert second != first, language
        await service.text(number, MAYBE[language])
        await service.tick()
        assert last_to(twilio, number) != second, language
    async with service.app.sessions() as session:
        rows = await session.execute(
            select(Participant.language, Answer.question, Answer.value, Answer.raw_text)
            .join(FollowUp, FollowUp.participant_id == Participant.id)
            .join(Answer, Answer.followup_id == FollowUp.id)
        )
        got = {(lang, q): (v, raw) for lang, q, v, raw in rows}
    kinds = {p: [r.kind for r in await outbox_rows(service, n)] for p, n in PHONES.items()}
    for language in PHONES:
        assert got[(language, "met_again")] == ("yes", YES[language])
        assert got[(language, "will_meet_again")] == ("maybe", MAYBE[language])
        assert kinds[language] == ["question", "question", "greeting_invite"]


# --- signatures ----------------------------------------------------------------------------------


async def test_forged_missing_or_changed_signatures_are_refused_and_store_nothing(
    service: Service, twilio: FakeTwilio
) -> None:
    await seed(service)
    number = PHONES["sv"]
    form = twilio.inbound_form(number, "ja")
    url = service.url + INBOUND
    forged = FakeTwilio(auth_token="0" * 32).sign(url, form)
    assert (await service.post(form, signature=forged)).status_code == 403
    assert (await service.post(form, signature=None)).status_code == 403
    # a captured request replayed with a changed body keeps the old signature
    changed = {**form, "Body": "nej"}
    good = twilio.sign(url, form)
    assert (await service.post(changed, signature=good)).status_code == 403
    # a signature for another of our URLs does not carry over
    other = twilio.sign(service.url + STATUS, form)
    assert (await service.post(form, signature=other)).status_code == 403
    assert await inbox_count(service) == 0
    status = twilio.status_form(twilio.sent[0].sid, "delivered")
    refused = await twilio.post(service.http, service.url + STATUS, status, signature=forged)
    assert refused.status_code == 403
    async with service.app.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).where(OutboxMessage.delivery_status.is_not(None))
            )
            == 0
        )
    assert (await service.post(form)).status_code == 200
    assert (await service.post(form)).status_code == 200  # Twilio's retry: stored once
    assert await inbox_count(service) == 1
    async with service.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 1


# --- delivery reports ----------------------------------------------------------------------------


async def test_status_callbacks_are_recorded_in_order(service: Service, twilio: FakeTwilio) -> None:
    await seed(service)
    sid = next(m.sid for m in twilio.sent if m.to == PHONES["en"])
    url = service.url + STATUS
    for state in ("queued", "sent", "delivered", "sent"):
        response = await twilio.post(service.http, url, twilio.status_form(sid, state))
        assert response.status_code == 204
    [row] = await outbox_rows(service, PHONES["en"])
    # the late "sent" does not undo "delivered"
    assert (row.delivery_status, row.delivery_error, row.status) == ("delivered", None, "sent")
    unknown = twilio.status_form("SM" + "9" * 32, "delivered")
    assert (await twilio.post(service.http, url, unknown)).status_code == 204


async def test_undeliverable_number_moves_the_participant_down_the_ladder(
    service: Service, twilio: FakeTwilio
) -> None:
    await seed(service)
    sid = next(m.sid for m in twilio.sent if m.to == PHONES["ar"])
    url = service.url + STATUS
    await twilio.post(service.http, url, twilio.status_form(sid, "sent"))
    response = await twilio.post(service.http, url, twilio.status_form(sid, "undelivered", 30003))
    assert response.status_code == 204
    [row] = await outbox_rows(service, PHONES["ar"])
    assert (row.delivery_status, row.delivery_error, row.status) == (
        "undelivered",
        "30003",
        "failed",
    )
    async with service.app.sessions() as session:
        samira = await session.scalar(select(Participant).where(Participant.phone == PHONES["ar"]))
        assert samira is not None and samira.dead_channels == "sms"
        moved = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.participant_id == samira.id, OutboxMessage.channel == "email"
                )
            )
        ).all()
    assert [(m.kind, m.address, m.language) for m in moved] == [
        ("question", "samira@example.org", "ar")
    ]
    # a temporary failure (carrier trouble) is recorded without giving up the number
    sid2 = next(m.sid for m in twilio.sent if m.to == PHONES["sv"])
    await twilio.post(service.http, url, twilio.status_form(sid2, "undelivered", 30008))
    [row2] = await outbox_rows(service, PHONES["sv"])
    assert (row2.delivery_status, row2.status) == ("undelivered", "sent")


async def test_twilio_errors_map_to_permanent_and_temporary_failures(
    service: Service, twilio: FakeTwilio
) -> None:
    twilio.failures.extend([20429, 20500, 20003, 21211])
    await seed(service)
    # six first questions: three came back for later, one failed for good, two went out
    assert len(twilio.sent) == 2
    async with service.app.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    failed = [r for r in rows if r.status == "failed"]
    assert [r.last_error for r in failed] == ["twilio 21211: invalid number"]
    waiting = sorted((r.last_error or "") for r in rows if r.status == "pending")
    assert waiting == [
        "twilio 401 20003: refused",
        "twilio 429 20429: rate limited",
        "twilio 500 20500: refused",
    ]
    # no error text from Twilio (which names the number) is kept
    assert all("+46" not in (r.last_error or "") for r in rows)
    service.clock.now += timedelta(hours=2)
    await service.tick()
    assert len(twilio.sent) == 5


# --- MMS -----------------------------------------------------------------------------------------


async def test_an_mms_photo_becomes_a_fikahalsning(service: Service, twilio: FakeTwilio) -> None:
    await seed(service)
    number = PHONES["sv"]
    await service.text(number, "ja")
    await service.text(number, "ja")
    media = twilio.add_media(jpeg(), "image/jpeg")
    form = twilio.inbound_form(number, "Vi bakade bullar", media=[media])
    assert (await service.post(form)).status_code == 200
    assert (await service.post(form)).status_code == 200  # a retry fetches nothing again
    assert twilio.media_fetches == 1
    async with service.app.sessions() as session:
        [greeting] = (await session.scalars(select(Greeting))).all()
    assert greeting.words == "Vi bakade bullar" and greeting.photo_type == "image/jpeg"
    assert greeting.photo_path and (service.app.settings.photo_dir / greeting.photo_path).exists()
    kinds = [r.kind for r in await outbox_rows(service, number)]
    assert kinds[-1] == "consent"
    await service.text(number, "1")
    async with service.app.sessions() as session:
        [greeting] = (await session.scalars(select(Greeting))).all()
    assert greeting.consent == "yes"


async def test_media_outside_twilios_api_is_not_fetched_with_the_credentials(
    service: Service, twilio: FakeTwilio
) -> None:
    await seed(service)
    number = PHONES["sv"]
    await service.text(number, "ja")
    await service.text(number, "ja")
    form = twilio.inbound_form(number, "")
    form.update(NumMedia="1", MediaUrl0="http://127.0.0.2:9/x.jpg", MediaContentType0="image/jpeg")
    assert (await service.post(form)).status_code == 200
    async with service.app.sessions() as session:
        assert (await session.scalars(select(Greeting))).all() == []


# --- STOP and START ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "stop", "start"),
    [
        ("ar", "توقف", "ابدأ"),
        ("sv", "STOPP", "starta"),
        ("en", "STOP", "START"),
        ("ti", "ኣቁም", "ጀምር"),
        ("fa", "لغو", "شروع"),
    ],
)
async def test_stop_and_start_by_sms(
    service: Service, twilio: FakeTwilio, language: str, stop: str, start: str
) -> None:
    await seed(service)
    number = PHONES[language]
    await service.text(number, stop)
    await service.tick()
    confirmation = last_to(twilio, number)
    async with service.app.sessions() as session:
        person = await session.scalar(select(Participant).where(Participant.phone == number))
        assert person is not None and person.opted_out_at is not None
        expected = service.app.catalogue.render(
            "opted_out", language, "sms", programme="Fika", first_name=person.first_name
        )
        assert confirmation == expected.text
        # a message written after the stop (a pass, a fallback) is held back by the sender
        outbox.enqueue(
            session,
            programme_id=person.programme_id,
            participant_id=person.id,
            followup_id=None,
            channel="sms",
            address=number,
            language=language,
            kind="question",
            question="met_again",
            payload={"text": "late", "rtl": False, "buttons": []},
            now=DUE,
        )
        await session.commit()
    before = len(twilio.sent)
    await service.tick()
    assert len(twilio.sent) == before
    rows = await outbox_rows(service, number)
    assert (rows[-1].status, rows[-1].last_error) == ("cancelled", "participant opted out")
    # an answer after the stop is kept, but what the dialogue says back is not sent
    await service.text(number, YES[language])
    await service.tick()
    assert len(twilio.sent) == before
    await service.text(number, start)
    await service.tick()
    async with service.app.sessions() as session:
        person = await session.scalar(select(Participant).where(Participant.phone == number))
        assert person is not None and person.opted_out_at is None
    assert [r.kind for r in await outbox_rows(service, number)][-1] == "opted_in"
    assert len(twilio.sent) == before + 1


async def test_start_reopens_sms_after_twilio_refused_the_number_as_unsubscribed(
    service: Service, twilio: FakeTwilio
) -> None:
    await seed(service)
    number = PHONES["en"]
    await service.text(number, "STOP")
    twilio.failures.append(21610)
    await service.tick()
    async with service.app.sessions() as session:
        person = await session.scalar(select(Participant).where(Participant.phone == number))
        assert person is not None and person.dead_channels == "sms"
    await service.text(number, "START")
    await service.tick()
    async with service.app.sessions() as session:
        person = await session.scalar(select(Participant).where(Participant.phone == number))
        assert person is not None and person.dead_channels == "" and person.opted_out_at is None
    assert last_to(twilio, number) == (await outbox_rows(service, number))[-1].payload["text"]


# --- a shared phone ------------------------------------------------------------------------------


async def test_a_family_phone_answers_for_the_member_with_an_open_followup(
    service: Service, twilio: FakeTwilio
) -> None:
    shared = "+46701000009"
    csv = HEADER + (
        "F1,2026-05-04,family,P1,Amal,newcomer,ar,sms,+46701000009,,woman\n"
        "F1,2026-05-04,family,P2,Anna,established,sv,email,,anna@example.org,woman\n"
        "F2,2026-04-20,family,P3,Omar,newcomer,ar,sms,+46701000009,,man\n"
        "F2,2026-04-20,family,P4,Nils,established,sv,email,,nils@example.org,man\n"
    )
    await seed(service, csv)
    async with service.app.sessions.begin() as session:
        omar = await session.scalar(select(Participant).where(Participant.first_name == "Omar"))
        assert omar is not None
        followup = await session.scalar(select(FollowUp).where(FollowUp.participant_id == omar.id))
        assert followup is not None
        followup.status = "expired"
    await service.text(shared, "نعم")
    async with service.app.sessions() as session:
        event = await session.scalar(select(InboxEvent))
        amal = await session.scalar(select(Participant).where(Participant.first_name == "Amal"))
    assert event is not None and amal is not None and event.participant_id == amal.id
    assert event.outcome == "answered"


async def test_a_family_phone_with_two_asked_answers_the_latest_and_says_which_fika(
    service: Service, twilio: FakeTwilio
) -> None:
    shared = "+46701000009"
    csv = HEADER + (
        "F1,2026-05-04,family,P1,Amal,newcomer,ar,sms,+46701000009,,woman\n"
        "F1,2026-05-04,family,P2,Anna,established,sv,email,,anna@example.org,woman\n"
        "F2,2026-05-04,family,P3,Omar,newcomer,ar,sms,+46701000009,,man\n"
        "F2,2026-05-04,family,P4,Nils,established,sv,email,,nils@example.org,man\n"
    )
    await seed(service, csv)
    async with service.app.sessions.begin() as session:
        amal = await session.scalar(select(Participant).where(Participant.first_name == "Amal"))
        assert amal is not None
        followup = await session.scalar(select(FollowUp).where(FollowUp.participant_id == amal.id))
        assert followup is not None and followup.started_at is not None
        # Omar was asked last
        followup.started_at -= timedelta(minutes=5)
    await service.text(shared, "نعم")
    await service.tick()
    async with service.app.sessions() as session:
        event = await session.scalar(select(InboxEvent))
        omar = await session.scalar(select(Participant).where(Participant.first_name == "Omar"))
    assert event is not None and omar is not None and event.participant_id == omar.id
    rows = [r for r in await outbox_rows(service, shared) if r.participant_id == omar.id]
    assert [r.kind for r in rows] == ["question", "answered_for", "question"]
    assert "Nils" in rows[1].payload["text"] and rows[1].language == "ar"
    assert "Nils" in [m.body for m in twilio.sent if m.to == shared][-2]


async def test_a_family_phone_names_whom_each_question_is_for_and_a_reply_answers_the_last_asked(
    service: Service, twilio: FakeTwilio
) -> None:
    shared = "+46701000009"
    csv = HEADER + (
        "F1,2026-05-04,family,P1,Amal,newcomer,ar,sms,+46701000009,,woman\n"
        "F1,2026-05-04,family,P2,Anna,established,sv,email,,anna@example.org,woman\n"
        "F2,2026-05-04,family,P3,Omar,newcomer,ar,sms,+46701000009,,man\n"
        "F2,2026-05-04,family,P4,Nils,established,sv,email,,nils@example.org,man\n"
    )
    catalogue = service.app.catalogue
    to_amal = catalogue.gettext("ar", "for_whom", first_name="Amal")
    to_omar = catalogue.gettext("ar", "for_whom", first_name="Omar")

    async def asked(name: str) -> list[tuple[str, str]]:
        async with service.app.sessions() as session:
            person = await session.scalar(select(Participant).where(Participant.first_name == name))
            assert person is not None
            answers = await session.execute(
                select(Answer.question, Answer.value)
                .join(FollowUp, FollowUp.id == Answer.followup_id)
                .where(FollowUp.participant_id == person.id)
                .order_by(Answer.id)
            )
            return [(q, v) for q, v in answers]

    await seed(service, csv)
    first = [m.body for m in twilio.sent if m.to == shared]
    # both first questions greet their person by name: nothing more is needed
    assert len(first) == 2 and {"Amal" in b for b in first} == {True, False}
    assert not any(b.startswith((to_amal, to_omar)) for b in first)

    # one reply, both asked at once: it counts for the later one (Omar), the family is told
    # which fika it was for, and his next question says it is for him
    service.clock.now = DUE + timedelta(minutes=5)
    await service.text(shared, "نعم")
    await service.tick()
    assert await asked("Omar") == [("met_again", "yes")] and await asked("Amal") == []
    sent = [m.body for m in twilio.sent if m.to == shared][2:]
    assert len(sent) == 2 and "Nils" in sent[0]
    assert sent[1].startswith(to_omar + "\n")

    # three days on, Amal is reminded (her question went out first): named, it is the last
    # message on the phone, and the reply answers it, not Omar's open question
    service.clock.now = DUE + timedelta(days=3, minutes=1)
    await service.tick()
    reminder = [m.body for m in twilio.sent if m.to == shared][4:]
    assert len(reminder) == 1 and reminder[0].startswith(to_amal + "\n")
    service.clock.now = DUE + timedelta(days=3, minutes=10)
    await service.text(shared, "لا")
    await service.tick()
    assert await asked("Amal") == [("met_again", "no")]
    assert await asked("Omar") == [("met_again", "yes")]
    after = [m.body for m in twilio.sent if m.to == shared][5:]
    # the family is told it was for Amal's fika (with Anna), and her next question names her
    assert "Anna" in after[0] and after[1].startswith(to_amal + "\n")


# --- load ----------------------------------------------------------------------------------------


@pytest.mark.timeout(240)
async def test_a_burst_of_2000_signed_posts_is_stored_once_each(
    service: Service, twilio: FakeTwilio
) -> None:
    count, concurrency = 2000, 20
    sids = [f"SM{i:032x}" for i in range(count)]
    # every tenth message is delivered twice, as Twilio does when a reply is slow
    plan = sids + sids[::10]
    queue = iter(plan)
    statuses: list[int] = []

    async def worker(n: int) -> None:
        for sid in queue:
            sender = f"+4673{int(sid[-6:], 16) % 1000000:07d}"
            form = twilio.inbound_form(sender, "hej", sid=sid)
            statuses.append((await service.post(form)).status_code)

    async with asyncio.timeout(200):
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    assert statuses.count(200) == len(plan)
    async with service.app.sessions() as session:
        stored = list(await session.scalars(select(InboxEvent.provider_id)))
    assert len(stored) == count and set(stored) == set(sids)


async def test_fikafollow_serve_takes_signed_sms_and_refuses_forged_ones(
    db_url: str, tmp_path: Path, twilio: FakeTwilio
) -> None:
    """The composition as deployed: `fikafollow serve` in its own process, configured by
    environment, answering Twilio's webhooks on a loopback port."""
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    root = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")},
        "FIKAFOLLOW_DATABASE_URL": db_url,
        "FIKAFOLLOW_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "FIKAFOLLOW_TWILIO_AUTH_TOKEN_FILE": str(tmp_path / "token"),
        "FIKAFOLLOW_TWILIO_FROM": FROM_NUMBER,
        "FIKAFOLLOW_TWILIO_API_URL": twilio.root,
        "FIKAFOLLOW_PUBLIC_URL": root,
        "FIKAFOLLOW_SECRET_KEY": "test-secret-key-0123456789",
        "FIKAFOLLOW_PHOTO_DIR": str(tmp_path / "photos"),
    }
    (tmp_path / "token").write_text(AUTH_TOKEN + "\n")
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fikafollow", "serve", "--port", str(port), env=env, cwd=tmp_path
    )
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            async with asyncio.timeout(30):
                while True:
                    try:
                        if (await http.get(root + "/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert server.returncode is None, "serve stopped"
                    await asyncio.sleep(0.1)
            form = twilio.inbound_form("+46709999999", "hej")
            url = root + INBOUND
            forged = FakeTwilio(auth_token="1" * 32).sign(url, form)
            assert (await twilio.post(http, url, form, signature=forged)).status_code == 403
            answered = await twilio.post(http, url, form)
            assert answered.status_code == 200 and answered.text.endswith("<Response/>")
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(InboxEvent.provider_id, InboxEvent.outcome))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [(form["MessageSid"], "unknown_sender")]

"""The thank-you suggests local activities that fit the match, in the participant's language,
within two SMS parts; a pair who have not met again get a kind nudge with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from bot.answer_pages import PageContext, answer_routes
from bot.channels.base import InboundMessage
from bot.channels.sms.segments import segments
from bot.web import WebContext, create_web_app
from fikafollow.app import App
from fikafollow.config import Settings
from messages.render import default_catalogue
from scheduler.passes import dispatch_due
from store import activities, intake
from store.match_files import Table
from store.models import OutboxMessage, Programme

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
)
CSV = HEADER + (
    "M1,2026-05-04,individual,P1,Amina,newcomer,ar,sms,+46701234501,,woman\n"
    "M1,2026-05-04,individual,P2,Karin,established,sv,sms,+46701234502,,woman\n"
    "M2,2026-05-04,family,P3,Yonas,newcomer,ti,sms,+46701234503,,man\n"
    "M2,2026-05-04,family,P4,Lars,established,sv,sms,+46701234504,,man\n"
)
DUE = datetime(2026, 5, 25, 8, 0, tzinfo=UTC)
ACTIVITIES = [
    ("Yoga för kvinnor", "individual", "", "tisdagar 18", "Folkets hus", "gratis", "ar,sv"),
    ("Drop-in-fotboll", "both", "12+", "onsdagar 17", "Idrottsplatsen", "", ""),
    ("Familjelördag", "family", "2-10", "lördagar 10", "Biblioteket", "gratis", ""),
    ("Persisk bokcirkel", "individual", "", "torsdagar", "Kafé Kupan", "", "fa"),
    ("Stickcafé", "individual", "", "måndagar", "Träffpunkten", "20 kr", ""),
]
_serial = iter(range(1, 1_000_000))


async def setup(app: App) -> None:
    programme = await app.programme(None, DUE - timedelta(days=20))
    columns = ("name", "for", "ages", "when", "where", "price", "languages")
    checked = activities.check_table(
        Table(
            list(columns),
            [
                (f"line {i}", dict(zip(columns, row, strict=True)))
                for i, row in enumerate(ACTIVITIES)
            ],
        )
    )
    assert not checked.errors
    rows, errors = intake.read_csv(CSV.encode(), "SE")
    assert not errors
    async with app.sessions.begin() as session:
        await activities.save(session, programme.id, checked.rows, DUE)
        programme = await session.get_one(Programme, programme.id)
        await intake.apply(session, programme, rows, DUE - timedelta(days=20), app.book.days())
    assert (await dispatch_due(app.sessions, app.conversation, DUE)).started == 4


async def say(app: App, phone: str, text: str) -> None:
    message = InboundMessage(
        channel="sms", provider_id=f"SM{next(_serial)}", sender=phone, text=text
    )
    async with app.sessions.begin() as session:
        await app.conversation.receive(session, message, DUE + timedelta(hours=1))


async def last_text(app: App, phone: str, kind: str) -> str:
    async with app.sessions() as session:
        found = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.address == phone, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())
        )
        return str(found.first().payload["text"])  # type: ignore[union-attr]


async def test_an_individual_match_gets_fitting_suggestions_in_arabic_and_swedish(app: App) -> None:
    await setup(app)
    catalogue = default_catalogue()
    for phone, words in (("+46701234501", ("1", "1", "لا")), ("+46701234502", ("ja", "ja", "nej"))):
        for text in words:
            await say(app, phone, text)
    for phone, language in (("+46701234501", "ar"), ("+46701234502", "sv")):
        text = await last_text(app, phone, "thanks")
        assert catalogue.gettext(language, "activities.suggest") in text
        assert catalogue.gettext(language, "activities.nudge") not in text
        # a language of the match first; never a family activity, nor one in a language
        # neither of them speaks
        assert "Yoga för kvinnor (tisdagar 18, Folkets hus, gratis)" in text
        assert "Familjelördag" not in text and "Persisk bokcirkel" not in text
        assert segments(text) <= 2, text


async def test_a_family_gets_family_activities_and_a_pair_not_met_gets_the_nudge(app: App) -> None:
    await setup(app)
    catalogue = default_catalogue()
    # Yonas: not met, maybe; then no fika greeting
    for text in ("2", "2", "ኣይፋል"):
        await say(app, "+46701234503", text)
    text = await last_text(app, "+46701234503", "thanks")
    assert catalogue.gettext("ti", "activities.nudge") in text
    # Tigrinya goes as UCS-2: only as many as fit in two parts, family ones only
    assert "Drop-in-fotboll" in text
    assert "Yoga" not in text and "Stickcafé" not in text
    assert segments(text) <= 2, text
    for text in ("ja", "kanske", "nej"):
        await say(app, "+46701234504", text)
    text = await last_text(app, "+46701234504", "thanks")
    assert catalogue.gettext("sv", "activities.nudge") in text
    assert "Drop-in-fotboll" in text and "Familjelördag" in text and "Yoga" not in text
    assert segments(text) <= 2, text


async def test_an_sms_without_room_for_the_list_links_to_the_page_in_their_language(
    settings: Settings,
) -> None:
    linked = App(
        settings.model_copy(update={"public_url": "http://127.0.0.1:8765", "secret_key": "s" * 32})
    )
    await linked.start()
    try:
        await setup(linked)
        for text in ("2", "2", "ኣይፋል"):
            await say(linked, "+46701234503", text)
        text = await last_text(linked, "+46701234503", "thanks")
        assert "Drop-in-fotboll" not in text and segments(text) <= 2, text
        url = text.rsplit(" ", 1)[1]
        assert url.startswith("http://127.0.0.1:8765/activities/")
        assert default_catalogue().gettext("ti", "activities.link", url=url) in text
        links = linked.links
        assert links is not None
        web = create_web_app(
            WebContext(linked.sessions, linked.book.days(), "SE", lambda: DUE),
            # the pages at the test's clock (serve's run at the real one)
            answer_routes(PageContext(linked.sessions, linked.conversation, links, lambda: DUE)),
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://127.0.0.1:8765"
        ) as client:
            page = await client.get(url.removeprefix("http://127.0.0.1:8765"))
            assert page.status_code == 200
            assert 'lang="ti"' in page.text
            assert "Familjelördag (lördagar 10, Biblioteket, gratis)" in page.text
            assert "Drop-in-fotboll" in page.text and "Yoga" not in page.text
            assert default_catalogue().gettext("ti", "activities.nudge") in page.text
            forged = await client.get("/activities/1.AAAAAAAAAAA")
            assert forged.status_code == 404
    finally:
        await linked.close()

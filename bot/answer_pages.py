"""The pages behind the links in our messages: one-click answers, the upload page, unsubscribe.

Mail scanners open links by themselves, so a GET never changes anything: it shows a page in the
participant's language with the answer preselected, and only the POST of that page (carrying a
form token bound to the link) records it. A link that is forged, expired or damaged changes
nothing and gets a polite page, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bot.conversation import Conversation, activity_line
from bot.links import (
    ACTIVITIES,
    ANSWER,
    LINK_LIFETIME,
    UNSUBSCRIBE,
    UPLOAD,
    BadLink,
    LinkClaim,
    LinkMaker,
)
from bot.surveys import CONSENT
from messages.render import Catalogue
from store import activities, answers, greetings
from store.models import FollowUp, Participant, Programme
from store.photos import MAX_BYTES, PhotoRejected

log = logging.getLogger(__name__)
MAX_WORDS = 2000
# the form around the photo: a little more than the photo itself
MAX_UPLOAD_BODY = MAX_BYTES + 256 * 1024
# a page with a person's answers stays out of every cache; the security headers every HTML
# response carries are bot/http_guards.py's
PAGE_HEADERS = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class PageContext:
    sessions: async_sessionmaker[AsyncSession]
    conversation: Conversation
    links: LinkMaker
    clock: Callable[[], datetime]

    @property
    def catalogue(self) -> Catalogue:
        return self.conversation.catalogue


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _problem(ctx: PageContext, language: str | None, status: int = 404) -> HTMLResponse:
    languages = [language] if language else ["sv", "en"]
    # each part rendered (and escaped) in its own language's environment
    parts = [Markup(ctx.catalogue.render_page("_problem_part", lang)) for lang in languages]
    html = ctx.catalogue.render_page("problem", languages[0], programme="", parts=parts)
    return _page(html, status)


@dataclass
class _Found:
    followup: FollowUp
    participant: Participant
    programme: Programme


async def _load(session: AsyncSession, claim: LinkClaim) -> _Found | None:
    followup = await session.get(FollowUp, claim.subject)
    if followup is None:
        return None
    participant = await session.get_one(Participant, followup.participant_id)
    programme = await session.get_one(Programme, followup.programme_id)
    return _Found(followup, participant, programme)


def answer_routes(ctx: PageContext) -> list[BaseRoute]:
    signer = ctx.links.signer
    book = ctx.conversation.book
    dialogue = ctx.conversation.dialogue

    def read(request: Request, purpose: str) -> tuple[str, LinkClaim]:
        token = str(request.path_params["token"])
        if purpose == UPLOAD:
            return token, LinkClaim(UPLOAD, signer.read_short(token, UPLOAD))
        return token, signer.read(token, purpose, ctx.clock())

    def too_old(followup: FollowUp) -> bool:
        # the upload link carries no expiry (it must fit in an SMS): the follow-up's age decides
        asked = followup.started_at or followup.due_at
        return asked + LINK_LIFETIME < ctx.clock()

    async def answer_page(
        session: AsyncSession, token: str, claim: LinkClaim, found: _Found, saved: bool
    ) -> HTMLResponse:
        followup, participant = found.followup, found.participant
        language = participant.language
        question = claim.question or ""
        options = dialogue.options_for(book.surveys[followup.survey], question)
        if question == CONSENT:
            current = await greetings.latest_consent(session, followup.id)
        else:
            current = await answers.current(session, followup.id, question)
        partner = await ctx.conversation.partners(session, followup)
        catalogue = ctx.catalogue
        upload_url = None
        if saved and followup.step in ("greeting",):
            upload_url = ctx.links.upload_url(followup.id)
        html = catalogue.render_page(
            "answer",
            language,
            programme=found.programme.name,
            question_text=catalogue.gettext(language, f"question.{question}", partner=partner),
            choices=[{"value": o, "label": catalogue.option_label(language, o)} for o in options],
            selected=current if (saved and current) else claim.option,
            current=current,
            current_label=catalogue.option_label(language, current) if current else "",
            saved=saved,
            action=f"/a/{token}",
            form_token=signer.form_token(token),
            upload_url=upload_url,
        )
        return _page(html)

    async def get_answer(request: Request) -> Response:
        try:
            token, claim = read(request, ANSWER)
        except BadLink as exc:
            log.info("answer link refused: %s", exc.reason)
            return _problem(ctx, None)
        async with ctx.sessions() as session:
            found = await _load(session, claim)
            if found is None:
                return _problem(ctx, None)
            return await answer_page(session, token, claim, found, saved=False)

    async def post_answer(request: Request) -> Response:
        try:
            token, claim = read(request, ANSWER)
        except BadLink as exc:
            log.info("answer link refused: %s", exc.reason)
            return _problem(ctx, None, 400)
        async with request.form(max_files=0, max_fields=5) as form:
            value = str(form.get("value", ""))
            given_form_token = str(form.get("form", ""))
        async with ctx.sessions.begin() as session:
            found = await _load(session, claim)
            if found is None:
                return _problem(ctx, None, 400)
            language = found.participant.language
            if not signer.check_form_token(token, given_form_token):
                log.info("answer form refused: bad form token")
                return _problem(ctx, language, 403)
            survey = book.surveys[found.followup.survey]
            if value not in dialogue.options_for(survey, claim.question or ""):
                # nothing chosen (or a made-up value): show the form again
                return await answer_page(session, token, claim, found, saved=False)
            outcome = await ctx.conversation.answer_directly(
                session, found.followup, claim.question or "", value, ctx.clock()
            )
            log.info("one-click answer on follow-up %s: %s", found.followup.id, outcome)
            await session.flush()
            return await answer_page(session, token, claim, found, saved=True)

    def upload_form(
        found: _Found,
        token: str,
        error: str | None = None,
        words: str = "",
        consent: str | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        html = ctx.catalogue.render_page(
            "upload",
            found.participant.language,
            programme=found.programme.name,
            action=f"/u/{token}",
            form_token=signer.form_token(token),
            error=error,
            words=words,
            consent=consent,
        )
        return _page(html, status)

    async def get_upload(request: Request) -> Response:
        try:
            token, claim = read(request, UPLOAD)
        except BadLink as exc:
            log.info("upload link refused: %s", exc.reason)
            return _problem(ctx, None)
        async with ctx.sessions() as session:
            found = await _load(session, claim)
        if found is None:
            return _problem(ctx, None)
        if too_old(found.followup):
            return _problem(ctx, found.participant.language)
        return upload_form(found, token)

    async def post_upload(request: Request) -> Response:
        try:
            token, claim = read(request, UPLOAD)
        except BadLink as exc:
            log.info("upload link refused: %s", exc.reason)
            return _problem(ctx, None, 400)
        async with ctx.sessions() as session:
            found = await _load(session, claim)
        if found is None:
            return _problem(ctx, None, 400)
        language = found.participant.language
        if too_old(found.followup):
            return _problem(ctx, language, 400)

        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_UPLOAD_BODY:
            return upload_form(found, token, "too_big", status=413)
        # the form is closed (its spooled file removed) as soon as the fields are read
        async with request.form(max_files=1, max_fields=5, max_part_size=64 * 1024) as form:
            form_token = str(form.get("form", ""))
            words = str(form.get("words", "")).strip()[:MAX_WORDS]
            consent = str(form.get("consent", "")) or None
            photo_field = form.get("photo")
            data = b""
            if isinstance(photo_field, UploadFile):
                data = await photo_field.read(MAX_BYTES + 1)
        if not signer.check_form_token(token, form_token):
            log.info("upload form refused: bad form token")
            return _problem(ctx, language, 403)
        if not data and not words:
            return upload_form(found, token, "empty", words, consent, 400)
        if data and consent not in ("yes", "no"):
            return upload_form(found, token, "consent_needed", words, None, 400)
        refused = None
        # the photo is stored within the transaction of its row (no connection is taken until
        # the first statement), so it is deleted again if that transaction rolls back
        async with ctx.sessions.begin() as session:
            stored = None
            if data:
                try:
                    stored = await ctx.conversation.photos.save(data, session)
                except PhotoRejected as exc:
                    refused = exc.reason
            if refused is None:
                followup = await session.get_one(FollowUp, found.followup.id)
                await ctx.conversation.add_greeting(
                    session,
                    followup,
                    stored,
                    words,
                    consent if stored is not None else None,
                    ctx.clock(),
                )
        if refused is not None:
            log.info("upload on follow-up %s rejected: %s", found.followup.id, refused)
            return upload_form(found, token, refused, words, consent, 400)
        log.info("greeting uploaded on follow-up %s", found.followup.id)
        html = ctx.catalogue.render_page(
            "greeting_thanks",
            language,
            programme=found.programme.name,
            consent=consent,
            action=f"/u/{token}",
        )
        return _page(html)

    async def activities_page(request: Request) -> Response:
        """The activities suggested after a follow-up, in the participant's language: what an
        SMS with no room for the list links to."""
        try:
            subject = signer.read_short(str(request.path_params["token"]), ACTIVITIES)
        except BadLink as exc:
            log.info("activities link refused: %s", exc.reason)
            return _problem(ctx, None)
        async with ctx.sessions() as session:
            found = await _load(session, LinkClaim(ACTIVITIES, subject))
            if found is None:
                return _problem(ctx, None)
            suggestion = await activities.for_followup(session, found.followup)
        if too_old(found.followup):
            return _problem(ctx, found.participant.language)
        html = ctx.catalogue.render_page(
            "activities",
            found.participant.language,
            programme=found.programme.name,
            nudge=suggestion.nudge,
            activities=[{"line": activity_line(a), "link": a.link} for a in suggestion.activities],
        )
        return _page(html)

    async def unsubscribe(request: Request) -> Response:
        try:
            token, claim = read(request, UNSUBSCRIBE)
        except BadLink as exc:
            log.info("unsubscribe link refused: %s", exc.reason)
            return _problem(ctx, None, 400 if request.method == "POST" else 404)
        async with ctx.sessions.begin() as session:
            participant = await session.get(Participant, claim.subject)
            if participant is None:
                return _problem(ctx, None, 404)
            programme = await session.get_one(Programme, participant.programme_id)
            done = request.method == "POST"
            if done:
                # RFC 8058: the mail program POSTs "List-Unsubscribe=One-Click" with no form
                # token; the signed link alone is the proof
                await ctx.conversation.unsubscribe(session, participant, ctx.clock())
                log.info("participant %s unsubscribed by link", participant.id)
            html = ctx.catalogue.render_page(
                "unsubscribe",
                participant.language,
                programme=programme.name,
                done=done or participant.opted_out_at is not None,
                action=f"/unsubscribe/{token}",
            )
        return _page(html)

    return [
        Route("/a/{token}", get_answer, methods=["GET"]),
        Route("/a/{token}", post_answer, methods=["POST"]),
        Route("/u/{token}", get_upload, methods=["GET"]),
        Route("/u/{token}", post_upload, methods=["POST"]),
        Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
        Route("/activities/{token}", activities_page, methods=["GET"]),
    ]

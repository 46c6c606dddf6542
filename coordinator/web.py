"""The coordinators' web app: routes under /coordinator/, each page scoped to a programme of the
signed-in coordinator.

Sign-in is a one-time link by e-mail; the session lives in an HttpOnly cookie and every form
carries the session's CSRF token. A programme is chosen with `?programme=` among the signed-in
coordinator's own; any other value is the first of theirs, never someone else's.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import logging
import secrets
import zipfile
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from coordinator.settings import PageTools, settings_routes
from coordinator.texts import environment, gettext, language_of
from messages import code_names
from messages.languages import codes
from reports import files as report_files
from reports.funder import tables as report_tables
from store import coordinator_auth, coordinator_pages, intake, notes
from store.calls import (
    PHONE,
    CallError,
    by_language,
    call_list,
    record_call,
    record_call_outcome,
)
from store.match_files import template_xlsx
from store.models import Greeting, Programme
from store.outcomes import answers_between, funder_figures
from store.photos import PhotoStore
from store.reporting import spreadsheet_safe
from store.vocabulary import CHANNELS, ROW_PROBLEM_TEXT

log = logging.getLogger(__name__)

COOKIE = "fikafollow_coordinator"
LOGIN_COOKIE = "fikafollow_login"
MAX_UPLOAD = 5 * 1024 * 1024
MAX_FORM = 64 * 1024
CALL_OUTCOMES = ("reached", "no_answer", "wrong_number", "declined")
RTL = frozenset({"ar", "fa"})
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

Mailer = Callable[[EmailMessage], Awaitable[None]]


@dataclass
class CoordinatorContext:
    """What the web app needs from the composition root."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    public_url: str | None
    # sends one mail through the same SMTP path as the digest; None: no mail server set
    mailer: Mailer | None
    mail_from: str
    survey_days: Mapping[str, int]
    default_region: str
    questions: Sequence[str] | Mapping[str, Sequence[str]]
    photos: PhotoStore
    configured_channels: Collection[str]
    # label of an answer option in a language ("yes" → "Ja")
    option_label: Callable[[str, str], str]
    # each survey's questions and their options (empty: a number or words), in asking order
    survey_options: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)
    # a question's words in a language ("met_again" → "Har ni träffats igen?")
    question_label: Callable[[str, str], str] = lambda _language, name: name
    # recent sign-in requests per client address (this process's view; the per-address limit
    # in the database holds across instances)
    login_requests: dict[str, list[datetime]] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """A signed-in request: who, in which programme, in which language."""

    who: coordinator_auth.SignedIn
    programme: Programme
    language: str

    def query(self, **extra: str) -> str:
        params = {"programme": self.programme.id, **extra}
        return "?" + urlencode(params)


def _secure(ctx: CoordinatorContext) -> bool:
    return bool(ctx.public_url and ctx.public_url.startswith("https://"))


def _render(
    language: str, name: str, status: int = 200, page: Page | None = None, **params: object
) -> HTMLResponse:
    template = environment(language).get_template(name)
    body = template.render(
        lang=language,
        page=page,
        csrf=page.who.csrf_token if page else params.pop("csrf", ""),
        rtl=RTL,
        here=name.removesuffix(".html"),
        **params,
    )
    response = HTMLResponse(body, status_code=status)
    # nothing of a coordinator's pages belongs in a shared cache; the frame, referrer and
    # content policies of every HTML response are bot/http_guards.py's
    response.headers["Cache-Control"] = "no-store"
    return response


def _browser_language(request: Request) -> str:
    accept = request.headers.get("accept-language", "").lower()
    return "sv" if accept.startswith("sv") or not accept else "en"


async def _small_form(request: Request) -> FormData | None:
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM:
        return None
    return await request.form(max_files=0, max_fields=50)


Endpoint = Callable[[Request], Awaitable[Response]]
PageHandler = Callable[[Request, Page], Awaitable[Response]]
FormHandler = Callable[[Request, Page, FormData], Awaitable[Response]]


def coordinator_routes(ctx: CoordinatorContext) -> list[BaseRoute]:
    """The web app's routes; mount them into the service's Starlette app."""

    async def current(request: Request) -> Page | Response:
        cookie = request.cookies.get(COOKIE, "")
        who = None
        if cookie:
            async with ctx.sessions.begin() as session:
                who = await coordinator_auth.signed_in(session, cookie, ctx.clock())
                if who is not None:
                    wanted = request.query_params.get("programme", "")
                    chosen = wanted if wanted in who.programme_ids else who.programme_ids[0]
                    programme = await session.get_one(Programme, chosen)
        if who is None:
            return RedirectResponse("/coordinator/login", status_code=303)
        return Page(who, programme, language_of(who.language))

    def csrf_ok(page: Page, form: FormData) -> bool:
        return secrets.compare_digest(str(form.get("csrf", "")), page.who.csrf_token)

    def signed_in(handler: PageHandler) -> Endpoint:
        """A page for a signed-in coordinator, within a programme of theirs."""

        async def endpoint(request: Request) -> Response:
            page = await current(request)
            if isinstance(page, Response):
                return page
            return await handler(request, page)

        return endpoint

    def form_post(
        upload: bool = False, too_large: PageHandler | None = None
    ) -> Callable[[FormHandler], Endpoint]:
        """The prologue of every form: signed in, within a programme of theirs, a body of a
        bounded size, the session's CSRF token; the handler sees only a form that passed.
        `upload` takes one file (the matches); `too_large` answers a body past the limit
        (else it is refused as a forged form is)."""
        limit = 2 * MAX_UPLOAD if upload else MAX_FORM

        def decorate(handler: FormHandler) -> Endpoint:
            async def endpoint(request: Request) -> Response:
                page = await current(request)
                if isinstance(page, Response):
                    return page
                length = request.headers.get("content-length")
                if length is None or not length.isdigit() or int(length) > limit:
                    return await too_large(request, page) if too_large else _forbidden(page)
                async with request.form(
                    max_files=1 if upload else 0,
                    max_fields=10 if upload else 50,
                    max_part_size=limit,
                ) as form:
                    if not csrf_ok(page, form):
                        return _forbidden(page)
                    return await handler(request, page, form)

            return endpoint

        return decorate

    # ---- sign-in ----

    async def login(request: Request) -> Response:
        language = _browser_language(request)
        if request.method == "GET":
            token = secrets.token_urlsafe(24)
            response = _render(language, "login.html", csrf=token)
            response.set_cookie(
                LOGIN_COOKIE,
                token,
                max_age=3600,
                path="/coordinator/login",
                httponly=True,
                samesite="lax",
                secure=_secure(ctx),
            )
            return response
        if not _allow_login(ctx, request.client.host if request.client else "?"):
            return _render(
                language,
                "message.html",
                429,
                title=gettext(language, "Too many tries"),
                text=gettext(language, "Wait a minute and try again."),
            )
        form = await _small_form(request)
        if form is None or not secrets.compare_digest(
            str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "-")
        ):
            return _render(
                language,
                "message.html",
                403,
                title=gettext(language, "Try again"),
                text=gettext(language, "Open the sign-in page again."),
            )
        email = str(form.get("email", "")).strip()[:320]
        now = ctx.clock()
        async with ctx.sessions.begin() as session:
            secret = await coordinator_auth.new_login_link(session, email, now) if email else None
            known = await coordinator_auth.coordinators_of(session, email) if secret else []
        if secret and known and ctx.mailer is not None:
            await _mail_link(ctx, known[0].email, language_of(known[0].language), secret)
        # the same page whatever the address: nobody learns who is a coordinator here
        return _render(language, "login_sent.html")

    async def follow_link(request: Request) -> Response:
        token = str(request.path_params["token"])
        if request.method == "GET":
            # mail scanners open every link: signing in takes a press of the button (a POST)
            return _render(_browser_language(request), "login_confirm.html", csrf=token)
        async with ctx.sessions.begin() as session:
            cookie = await coordinator_auth.use_login_link(session, token, ctx.clock())
        if cookie is None:
            language = _browser_language(request)
            return _render(
                language,
                "message.html",
                403,
                title=gettext(language, "Link used"),
                text=gettext(language, "This link is used or too old. Ask for a new one."),
                link="/coordinator/login",
            )
        response = RedirectResponse("/coordinator/", status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            path="/coordinator",
            httponly=True,
            samesite="lax",
            secure=_secure(ctx),
        )
        return response

    @form_post()
    async def logout(request: Request, page: Page, form: FormData) -> Response:
        async with ctx.sessions.begin() as session:
            await coordinator_auth.sign_out(session, request.cookies.get(COOKIE, ""), ctx.clock())
        response = RedirectResponse("/coordinator/login", status_code=303)
        response.delete_cookie(COOKIE, path="/coordinator")
        return response

    def _forbidden(page: Page) -> Response:
        return _render(
            page.language,
            "message.html",
            403,
            page=page,
            title=gettext(page.language, "Try again"),
            text=gettext(page.language, "The form was too old. Open the page again."),
        )

    # ---- pages ----

    def week_bounds(programme: Programme, now: datetime) -> tuple[datetime, datetime]:
        local = now.astimezone(ZoneInfo(programme.timezone))
        start = (local - timedelta(days=local.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return start.astimezone(UTC), (start + timedelta(days=7)).astimezone(UTC)

    @signed_in
    async def dashboard(request: Request, page: Page) -> Response:
        now = ctx.clock()
        start, end = week_bounds(page.programme, now)
        async with ctx.sessions() as session:
            week = await coordinator_pages.week(
                session, page.programme.id, start, end, ctx.configured_channels
            )
            calls = await call_list(session, page.programme.id, ctx.questions)
            words = await coordinator_pages.words_to_read(
                session, page.programme.id, unread_only=True
            )
            pairs = await coordinator_pages.pairs_needing_attention(session, page.programme.id)
            greetings = [
                g
                for g in await coordinator_pages.greetings(session, page.programme.id)
                if g.social is None and g.consent == "yes"
            ]
        return _render(
            page.language,
            "dashboard.html",
            page=page,
            week=week,
            calls=calls,
            words=words,
            choices=answer_choices(page.language),
            answer_label=lambda given: answer_label(page.language, given),
            pairs=pairs,
            greetings=greetings,
        )

    def answer_choices(language: str) -> list[tuple[str, list[tuple[str, str]]]]:
        """What a note can become, by survey: ("met_again=yes", "Har ni träffats igen? Ja")."""
        return [
            (
                _survey_title(language, survey),
                [
                    (
                        f"{question}={option}",
                        f"{ctx.question_label(language, question)} "
                        f"{ctx.option_label(language, option)}",
                    )
                    for question, options in questions.items()
                    for option in options
                ],
            )
            for survey, questions in ctx.survey_options.items()
        ]

    def answer_label(language: str, given: str) -> str:
        """A note's answer as kept ("met_again=yes") in words ("Har ni träffats igen? Ja")."""
        return "; ".join(
            f"{ctx.question_label(language, q)} {ctx.option_label(language, v)}"
            for q, _, v in (part.partition("=") for part in given.split(","))
        )

    async def notes_page(
        request: Request, page: Page, notice: str = "", status: int = 200
    ) -> Response:
        async with ctx.sessions() as session:
            words = await coordinator_pages.words_to_read(session, page.programme.id)
            # a stranger wrote to the service's own number or address: no programme's, so
            # every coordinator may be the one who knows who it is (a new phone, a relative)
            strangers = await notes.listing(session, None, limit=100)
        return _render(
            page.language,
            "notes.html",
            status,
            page=page,
            words=words,
            strangers=strangers,
            channel_name=lambda code: code_names.channel_name(page.language, code),
            choices=answer_choices(page.language),
            answer_label=lambda given: answer_label(page.language, given),
            notice=notice,
        )

    @form_post()
    async def note_form(request: Request, page: Page, form: FormData) -> Response:
        wanted = str(form.get("note", ""))
        action = str(form.get("action", ""))
        question, _, value = str(form.get("answer", "")).partition("=")
        allowed = {
            q: frozenset(options)
            for questions in ctx.survey_options.values()
            for q, options in questions.items()
        }
        now = ctx.clock()
        try:
            async with ctx.sessions.begin() as session:
                found = (
                    await notes.find(session, page.programme.id, int(wanted))
                    if wanted.isdigit()
                    else None
                )
                if found is not None and action == "read":
                    await notes.mark_read(session, page.programme.id, found.id, now)
                elif found is not None and action == "answer":
                    await notes.resolve(
                        session, page.programme.id, found.id, {question: value}, allowed, now
                    )
        except notes.NoteError:
            return await notes_page(
                request,
                page,
                gettext(page.language, "Not saved: choose an answer (a question and an option)."),
                422,
            )
        if found is None or action not in ("answer", "read"):
            # another programme's note is as unknown as one that never was
            return await notes_page(request, page, gettext(page.language, "Not found."), 404)
        return await notes_page(request, page, gettext(page.language, "Saved."))

    async def matches_too_large(request: Request, page: Page) -> Response:
        return _render(
            page.language,
            "matches.html",
            413,
            page=page,
            preview=None,
            problem=gettext(page.language, "The file is too large."),
        )

    @form_post(upload=True, too_large=matches_too_large)
    async def matches_upload(request: Request, page: Page, form: FormData) -> Response:
        confirmed = form.get("confirm") == "yes"
        if confirmed:
            try:
                data = base64.b64decode(str(form.get("data", "")), validate=True)
            except (binascii.Error, ValueError):
                data = b""
        else:
            upload = form.get("file")
            data = await upload.read() if isinstance(upload, UploadFile) else b""
        if not data:
            return _render(
                page.language,
                "matches.html",
                400,
                page=page,
                preview=None,
                problem=gettext(page.language, "Choose a file first."),
            )
        rows, errors = intake.read_file(data, ctx.default_region)
        if errors:
            return _render(
                page.language,
                "matches.html",
                422,
                page=page,
                preview=None,
                errors=[_row_problem(page.language, e) for e in errors],
            )
        async with ctx.sessions() as session:
            programme = await session.get_one(Programme, page.programme.id)
            result = await intake.apply(session, programme, rows, ctx.clock(), ctx.survey_days)
            if confirmed:
                await session.commit()
            else:
                await session.rollback()  # a preview writes nothing
        return _render(
            page.language,
            "matches.html",
            page=page,
            preview=rows,
            result=result,
            confirmed=confirmed,
            data=base64.b64encode(data).decode("ascii"),
        )

    @signed_in
    async def matches(request: Request, page: Page) -> Response:
        return _render(page.language, "matches.html", page=page, preview=None)

    @signed_in
    async def matches_template(request: Request, page: Page) -> Response:
        return Response(
            template_xlsx(intake.COLUMNS, intake.EXAMPLE_ROWS),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="matches-template.xlsx"'},
        )

    async def calls_page(
        request: Request, page: Page, notice: str = "", status: int = 200
    ) -> Response:
        async with ctx.sessions() as session:
            rows = await call_list(session, page.programme.id, ctx.questions)
            ids = await coordinator_pages.participant_ids(
                session, page.programme.id, [r.participant_id for r in rows]
            )
        return _render(
            page.language,
            "calls.html",
            status,
            page=page,
            groups=by_language(rows),
            ids=ids,
            notice=notice,
            outcomes=CALL_OUTCOMES,
            surveys=ctx.survey_options,
            question=lambda q: ctx.question_label(page.language, q),
            option=lambda v: ctx.option_label(page.language, v),
            # a heading: "Arabiska", though the name is written "arabiska" in a sentence
            language_name=lambda code: _first_up(code_names.language_name(page.language, code)),
            own_name=lambda code: code_names.own_name(page.language, code),
            # why no message reaches them, in the coordinator's words (kept as codes)
            reason=lambda row: "; ".join(
                code_names.unreachable_name(page.language, channel, why)
                for channel, why in row.unreachable
            ),
        )

    @form_post()
    async def call_form(request: Request, page: Page, form: FormData) -> Response:
        outcome = str(form.get("outcome", ""))
        participant, match = str(form.get("participant", "")), str(form.get("match", ""))
        # the questions of every survey: the person's follow-up decides which are theirs
        answers = {
            q: str(form.get(q, "")).strip()[:200]
            for questions in ctx.survey_options.values()
            for q in questions
            if str(form.get(q, "")).strip()
        }
        try:
            async with ctx.sessions.begin() as session:
                if outcome == "reached":
                    if not answers:
                        raise CallError("no answers")
                    await record_call(
                        session,
                        page.programme.id,
                        participant,
                        match,
                        answers,
                        str(form.get("note", ""))[:2000],
                        ctx.clock(),
                        surveys=ctx.survey_options or None,
                    )
                else:
                    await record_call_outcome(
                        session, page.programme.id, participant, match, outcome, ctx.clock()
                    )
        except CallError:
            return await calls_page(
                request,
                page,
                gettext(page.language, "Not saved: choose the answers the person gave."),
                422,
            )
        return await calls_page(request, page, gettext(page.language, "Saved."))

    async def greetings_page(
        request: Request, page: Page, notice: str = "", status: int = 200
    ) -> Response:
        async with ctx.sessions() as session:
            rows = await coordinator_pages.greetings(session, page.programme.id)
        return _render(
            page.language, "greetings.html", status, page=page, greetings=rows, notice=notice
        )

    @form_post()
    async def greeting_form(request: Request, page: Page, form: FormData) -> Response:
        decision = str(form.get("decision", ""))
        wanted = str(form.get("greeting", ""))
        async with ctx.sessions.begin() as session:
            found = (
                await coordinator_pages.greeting(session, page.programme.id, int(wanted))
                if wanted.isdigit()
                else None
            )
            if found is None or decision not in ("approved", "rejected"):
                status, notice = 404, gettext(page.language, "Not found.")
            elif decision == "approved" and found.consent != "yes":
                status = 409
                notice = gettext(page.language, "No consent: it cannot be approved.")
            else:
                found.social, found.social_at = decision, ctx.clock()
                status, notice = 200, gettext(page.language, "Saved.")
        return await greetings_page(request, page, notice, status)

    async def greeting_photo(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return Response(status_code=404)
        async with ctx.sessions() as session:
            found = await coordinator_pages.greeting(
                session, page.programme.id, int(request.path_params["id"])
            )
        data = await _photo(ctx, found)
        if data is None:
            return Response(status_code=404)
        return Response(
            data,
            media_type=found.photo_type if found and found.photo_type else "image/jpeg",
            headers={"Cache-Control": "private, no-store"},
        )

    @signed_in
    async def greetings_zip(request: Request, page: Page) -> Response:
        async with ctx.sessions() as session:
            rows = await coordinator_pages.greetings(session, page.programme.id, social="approved")
            stored = {
                g.id: await coordinator_pages.greeting(session, page.programme.id, g.id)
                for g in rows
            }
        out = io.BytesIO()
        captions = io.StringIO()
        writer = csv.writer(captions, lineterminator="\n")
        writer.writerow(["file", "date", "match", "first_name", "words"])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for row in rows:
                data = await _photo(ctx, stored[row.id])
                name = f"{row.matched_on}_{_safe(row.match_id)}_{row.id}.jpg" if data else ""
                if data is not None:
                    archive.writestr(name, data)
                writer.writerow(
                    [
                        spreadsheet_safe(v)
                        for v in (name, row.matched_on, row.match_id, row.first_name, row.words)
                    ]
                )
            archive.writestr("captions.csv", "\ufeff" + captions.getvalue())
        return Response(
            out.getvalue(),
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="fikahalsningar.zip"'},
        )

    @signed_in
    async def answers(request: Request, page: Page) -> Response:
        q = request.query_params
        now = ctx.clock()
        start = week_bounds(page.programme, now)[0] if q.get("period") == "week" else EPOCH
        async with ctx.sessions() as session:
            lines = await answers_between(session, page.programme.id, start, now + timedelta(1))
        lines = [
            a
            for a in lines
            if (not q.get("language") or a.language == q["language"])
            and (not q.get("channel") or a.channel == q["channel"])
            and (not q.get("match") or a.match_id == q["match"])
        ]
        label = ctx.option_label
        if request.url.path.endswith(".csv"):
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(
                [
                    "answered_at",
                    "first_name",
                    "language",
                    "channel",
                    "match_id",
                    "question",
                    "value",
                    "label",
                    "words",
                ]
            )
            for a in lines:
                writer.writerow(
                    [
                        spreadsheet_safe(v)
                        for v in (
                            a.answered_at.isoformat(),
                            a.first_name,
                            a.language,
                            a.channel,
                            a.match_id,
                            a.question,
                            a.value,
                            label(page.language, a.value),
                            a.raw_text,
                        )
                    ]
                )
            return Response(
                "\ufeff" + text.getvalue(),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="answers.csv"'},
            )
        return _render(
            page.language,
            "answers.html",
            page=page,
            answers=lines,
            label=lambda v: label(page.language, v),
            question=lambda q: ctx.question_label(page.language, q),
            # the filters choose among names; the query keeps the codes (`language=ar`)
            language_codes=codes(),
            channel_codes=(*CHANNELS, PHONE),
            language_name=lambda code: code_names.language_name(page.language, code),
            channel_name=lambda code: code_names.channel_name(page.language, code),
            # a plain dict: Jinja's urlencode takes pairs from a mapping, not QueryParams' keys
            filters=dict(q.items()),
        )

    @signed_in
    async def person(request: Request, page: Page) -> Response:
        async with ctx.sessions() as session:
            found = await coordinator_pages.participant(
                session, page.programme.id, int(request.path_params["id"])
            )
            events = await coordinator_pages.timeline(session, found) if found else []
        if found is None:
            return _render(
                page.language,
                "message.html",
                404,
                page=page,
                title=gettext(page.language, "Not found."),
                text="",
            )

        def detail(event: coordinator_pages.Event) -> str:
            # every event in the coordinator's words: what came in, what was answered, and
            # what went out (its kind, its question, where its delivery stands)
            if event.direction == "in":
                return gettext(page.language, event.detail)
            if event.direction == "answer":
                return answer_label(page.language, event.detail.replace(":", "=", 1))
            if event.direction == "out":
                kind, _, rest = event.detail.partition(":")
                question, _, status = rest.partition(":")
                parts = [code_names.message_name(page.language, kind)]
                if question:
                    parts.append(ctx.question_label(page.language, question))
                if status:
                    parts.append(code_names.delivery_name(page.language, status))
                return " · ".join(parts)
            return ""

        return _render(
            page.language,
            "person.html",
            page=page,
            person=found,
            events=events,
            detail=detail,
            language_name=code_names.language_name(page.language, found.language),
            own_name=code_names.own_name(page.language, found.language),
            channel_name=lambda code: code_names.channel_name(page.language, code),
        )

    @signed_in
    async def report(request: Request, page: Page) -> Response:
        q = request.query_params
        today = ctx.clock().date()
        try:
            first = (
                date.fromisoformat(q.get("from", ""))
                if q.get("from")
                else today.replace(month=1, day=1)
            )
            last = date.fromisoformat(q["to"]) if q.get("to") else today
        except ValueError:
            first, last = today.replace(month=1, day=1), today
        if last < first:
            first, last = last, first
        async with ctx.sessions() as session:
            # the follow-up rows are the first survey's; the answers table has every survey's
            figures = await funder_figures(
                session, page.programme.id, first, last, survey=next(iter(ctx.survey_days), None)
            )
        # the report in the coordinator's language, its questions in the surveys' order
        asked = ctx.questions
        surveys = list(asked.values()) if isinstance(asked, Mapping) else [asked]
        order = list(dict.fromkeys(q for qs in surveys for q in qs))
        tables = report_tables(page.programme, figures, first, last, order, page.language)
        fmt = q.get("format", "")
        if fmt in ("csv", "xlsx", "html"):
            name = f"report-{first}-{last}.{fmt}"
            disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
            if fmt == "csv":
                return Response(
                    report_files.to_csv(tables),
                    media_type="text/csv; charset=utf-8",
                    headers=disposition,
                )
            if fmt == "xlsx":
                return Response(
                    report_files.to_xlsx(tables),
                    headers=disposition,
                    media_type=(
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    ),
                )
            return Response(
                report_files.to_html(tables, page.language),
                media_type="text/html",
                headers=disposition,
            )
        chart = report_files.to_html(tables, page.language)
        return _render(
            page.language,
            "report.html",
            page=page,
            first=first,
            last=last,
            figures=figures,
            chart=chart,
        )

    return [
        Route("/coordinator/login", login, methods=["GET", "POST"]),
        Route("/coordinator/login/{token}", follow_link, methods=["GET", "POST"]),
        Route("/coordinator/logout", logout, methods=["POST"]),
        Route("/coordinator/", dashboard, methods=["GET"]),
        Route("/coordinator/matches", matches, methods=["GET"]),
        Route("/coordinator/matches", matches_upload, methods=["POST"]),
        Route("/coordinator/matches/template.xlsx", matches_template, methods=["GET"]),
        Route("/coordinator/notes", signed_in(notes_page), methods=["GET"]),
        Route("/coordinator/notes", note_form, methods=["POST"]),
        Route("/coordinator/calls", signed_in(calls_page), methods=["GET"]),
        Route("/coordinator/calls", call_form, methods=["POST"]),
        Route("/coordinator/greetings", signed_in(greetings_page), methods=["GET"]),
        Route("/coordinator/greetings", greeting_form, methods=["POST"]),
        Route("/coordinator/greetings/approved.zip", greetings_zip, methods=["GET"]),
        Route("/coordinator/greetings/{id:int}/photo", greeting_photo, methods=["GET"]),
        Route("/coordinator/answers", answers, methods=["GET"]),
        Route("/coordinator/answers.csv", answers, methods=["GET"]),
        Route("/coordinator/people/{id:int}", person, methods=["GET"]),
        Route("/coordinator/report", report, methods=["GET"]),
        *settings_routes(ctx, PageTools(current, csrf_ok, _forbidden, _render, _small_form)),
    ]


LOGINS_PER_CLIENT = 10
LOGIN_WINDOW = timedelta(minutes=10)


def _allow_login(ctx: CoordinatorContext, client: str) -> bool:
    now = ctx.clock()
    if len(ctx.login_requests) > 10_000:
        ctx.login_requests.clear()  # bounded memory under a flood from many addresses
    recent = [t for t in ctx.login_requests.get(client, []) if t > now - LOGIN_WINDOW]
    if len(recent) >= LOGINS_PER_CLIENT:
        ctx.login_requests[client] = recent
        return False
    ctx.login_requests[client] = [*recent, now]
    return True


@dataclass(frozen=True)
class ShownProblem:
    where: str
    reason: str


def _place(language: str, where: str) -> str:
    """`line 3` / `row 3` / `file` in the coordinator's words ("rad 3", "filen")."""
    kind, _, number = where.partition(" ")
    if kind in ("line", "row") and number.isdigit():
        return gettext(language, kind + " {n}").format(n=number)
    return gettext(language, where)


def _row_problem(language: str, error: intake.RowError) -> ShownProblem:
    """A row's problem said in the coordinator's language: the catalogue's msgid is the
    English text with its parameters in braces, so a code without a translation reads English."""
    params = dict(error.params)
    if "at" in params:
        params["at"] = _place(language, params["at"])
    text = gettext(language, ROW_PROBLEM_TEXT[error.code]).format(**params)
    return ShownProblem(_place(language, error.where), text)


def _survey_title(language: str, survey: str) -> str:
    msgid = f"survey {survey}"
    title = gettext(language, msgid)
    # a survey added to bot/surveys.toml without words here shows by its name
    return survey if title == msgid else title


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:40]


async def _photo(ctx: CoordinatorContext, greeting: Greeting | None) -> bytes | None:
    """The greeting's photo from the photo store (folder or bucket); a stored name that is a
    path is never followed (the store refuses it)."""
    if greeting is None or not greeting.photo_path:
        return None
    return await ctx.photos.read(greeting.photo_path)


async def _mail_link(ctx: CoordinatorContext, to: str, language: str, token: str) -> None:
    assert ctx.mailer is not None
    base = (ctx.public_url or "").rstrip("/")
    link = f"{base}/coordinator/login/{token}"
    mail = EmailMessage()
    mail["From"] = ctx.mail_from
    mail["To"] = to
    mail["Subject"] = gettext(language, "Sign in to fikafollow")
    mail.set_content(
        gettext(language, "Open this link within 15 minutes to sign in:")
        + f"\n\n{link}\n\n"
        + gettext(language, "If you did not ask for it, you can ignore this e-mail.")
        + "\n"
    )
    try:
        await ctx.mailer(mail)
    except Exception as exc:  # the page says the same; the operator sees the failure's kind
        log.warning("coordinator sign-in mail not sent (%s)", type(exc).__name__)

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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from coordinator.settings import PageTools, settings_routes
from coordinator.texts import environment, gettext, language_of
from store import coordinator_auth, coordinator_pages, intake
from store.calls import CallError, by_language, call_list, record_call, record_call_outcome
from store.match_files import template_xlsx
from store.models import Greeting, Programme
from store.outcomes import answers_between, funder_figures
from store.reporting import spreadsheet_safe

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
    photo_dir: Path
    configured_channels: Collection[str]
    # label of an answer option in a language ("yes" → "Ja")
    option_label: Callable[[str, str], str]
    report: ReportMaker | None = None
    # recent sign-in requests per client address (this process's view; the per-address limit
    # in the database holds across instances)
    login_requests: dict[str, list[datetime]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportMaker:
    """The funder report's tables and files, given by the composition root."""

    tables: Callable[[Programme, Any, date, date], Any]
    to_csv: Callable[[Any], str]
    to_xlsx: Callable[[Any], bytes]
    to_html: Callable[[Any], str]


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

    async def logout(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
        form = await _small_form(request)
        if form is None or not csrf_ok(page, form):
            return _forbidden(page)
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

    async def dashboard(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
        now = ctx.clock()
        start, end = week_bounds(page.programme, now)
        async with ctx.sessions() as session:
            week = await coordinator_pages.week(
                session, page.programme.id, start, end, ctx.configured_channels
            )
            calls = await call_list(session, page.programme.id, ctx.questions)
            words = await coordinator_pages.words_to_read(session, page.programme.id)
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
            pairs=pairs,
            greetings=greetings,
        )

    async def matches(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
        if request.method == "GET":
            return _render(page.language, "matches.html", page=page, preview=None)
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > 2 * MAX_UPLOAD:
            return _render(
                page.language,
                "matches.html",
                413,
                page=page,
                preview=None,
                problem=gettext(page.language, "The file is too large."),
            )
        async with request.form(max_files=1, max_fields=10, max_part_size=2 * MAX_UPLOAD) as form:
            if not csrf_ok(page, form):
                return _forbidden(page)
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
                page.language, "matches.html", 422, page=page, preview=None, errors=errors
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

    async def matches_template(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
        return Response(
            template_xlsx(intake.COLUMNS, intake.EXAMPLE_ROWS),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="matches-template.xlsx"'},
        )

    async def calls(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
        notice = ""
        status = 200
        if request.method == "POST":
            form = await _small_form(request)
            if form is None or not csrf_ok(page, form):
                return _forbidden(page)
            outcome = str(form.get("outcome", ""))
            participant, match = str(form.get("participant", "")), str(form.get("match", ""))
            answers = {
                q: str(form.get(q, "")) for q in ("met_again", "will_meet_again") if form.get(q, "")
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
                        )
                    else:
                        await record_call_outcome(
                            session, page.programme.id, participant, match, outcome, ctx.clock()
                        )
                notice = gettext(page.language, "Saved.")
            except CallError:
                notice = gettext(page.language, "Not saved: choose the answers the person gave.")
                status = 422
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
        )

    async def greetings(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
        notice = ""
        status = 200
        if request.method == "POST":
            form = await _small_form(request)
            if form is None or not csrf_ok(page, form):
                return _forbidden(page)
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
                    notice = gettext(page.language, "Saved.")
        async with ctx.sessions() as session:
            rows = await coordinator_pages.greetings(session, page.programme.id)
        return _render(
            page.language, "greetings.html", status, page=page, greetings=rows, notice=notice
        )

    async def greeting_photo(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return Response(status_code=404)
        async with ctx.sessions() as session:
            found = await coordinator_pages.greeting(
                session, page.programme.id, int(request.path_params["id"])
            )
        path = _photo_path(ctx, found)
        if path is None:
            return Response(status_code=404)
        return Response(
            path.read_bytes(),
            media_type=found.photo_type if found and found.photo_type else "image/jpeg",
            headers={"Cache-Control": "private, no-store"},
        )

    async def greetings_zip(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
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
                path = _photo_path(ctx, stored[row.id])
                name = f"{row.matched_on}_{_safe(row.match_id)}_{row.id}.jpg" if path else ""
                if path is not None:
                    archive.writestr(name, path.read_bytes())
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

    async def answers(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
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
            filters=q,
        )

    async def person(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
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
        return _render(page.language, "person.html", page=page, person=found, events=events)

    async def report(request: Request) -> Response:
        page = await current(request)
        if isinstance(page, Response):
            return page
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
        maker = ctx.report
        fmt = q.get("format", "")
        if maker is not None and fmt in ("csv", "xlsx", "html"):
            tables = maker.tables(page.programme, figures, first, last)
            name = f"report-{first}-{last}.{fmt}"
            disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
            if fmt == "csv":
                return Response(
                    maker.to_csv(tables), media_type="text/csv; charset=utf-8", headers=disposition
                )
            if fmt == "xlsx":
                return Response(
                    maker.to_xlsx(tables),
                    headers=disposition,
                    media_type=(
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    ),
                )
            return Response(maker.to_html(tables), media_type="text/html", headers=disposition)
        chart = maker.to_html(maker.tables(page.programme, figures, first, last)) if maker else ""
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
        Route("/coordinator/matches", matches, methods=["GET", "POST"]),
        Route("/coordinator/matches/template.xlsx", matches_template, methods=["GET"]),
        Route("/coordinator/calls", calls, methods=["GET", "POST"]),
        Route("/coordinator/greetings", greetings, methods=["GET", "POST"]),
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


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:40]


def _photo_path(ctx: CoordinatorContext, greeting: Greeting | None) -> Path | None:
    if greeting is None or not greeting.photo_path:
        return None
    root = ctx.photo_dir.resolve()
    path = (root / greeting.photo_path).resolve()
    # the stored name is ours, but a path outside the photo folder is never served
    if root not in path.parents or not path.is_file():
        return None
    return path


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

"""A programme's content in the coordinators' web app: its settings (which surveys it runs, the
send calendar, Ramadan evenings) and its local activities (list, upload, remove).

The same store functions as `fikafollow programme set` and `fikafollow activities`; the page
helpers (session, CSRF, rendering) are web.py's, handed over as they are when web.py mounts
these routes, so this module never imports web.py at run time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from coordinator.texts import gettext
from messages.languages import names_in, ramadan_codes
from store import activities, programmes
from store.match_files import MAX_FILE, FileProblem, read_table
from store.models import Programme
from store.programmes import RAMADAN_CHOICES

if TYPE_CHECKING:
    from coordinator.web import CoordinatorContext, Page

CALENDAR_CHOICES = ("on", "off")
# the blocked days and hours shown under the settings, from today
CALENDAR_DAYS = 30


@dataclass(frozen=True)
class PageTools:
    """web.py's helpers for a signed-in page."""

    current: Callable[[Request], Awaitable[Page | Response]]
    csrf_ok: Callable[[Page, FormData], bool]
    forbidden: Callable[[Page], Response]
    render: Callable[..., HTMLResponse]
    small_form: Callable[[Request], Awaitable[FormData | None]]


def settings_routes(ctx: CoordinatorContext, tools: PageTools) -> list[BaseRoute]:
    """GET/POST /coordinator/settings and /coordinator/activities."""

    def settings_page(
        page: Page, programme: Programme, status: int = 200, **extra: object
    ) -> HTMLResponse:
        window = programmes.send_window(programme)
        today = ctx.clock().astimezone(window.zone).date()
        names = names_in(page.language)
        return tools.render(
            page.language,
            "settings.html",
            status,
            page=page,
            surveys=[(name, days) for name, days in ctx.survey_days.items()],
            running=programmes.surveys_of(programme),
            calendar="on" if programme.send_calendar else "off",
            ramadan=programmes.ramadan_choice(programme),
            ramadan_choices=tuple(RAMADAN_CHOICES),
            ramadan_languages=[names[c] for c in names if c in ramadan_codes()],
            blocks=window.calendar.between(today, today + timedelta(days=CALENDAR_DAYS)),
            language_names=names,
            **{"notice": "", "problem": "", "change": None, **extra},
        )

    async def settings(request: Request) -> Response:
        page = await tools.current(request)
        if isinstance(page, Response):
            return page
        if request.method == "GET":
            return settings_page(page, page.programme)
        form = await tools.small_form(request)
        if form is None or not tools.csrf_ok(page, form):
            return tools.forbidden(page)
        wanted = [str(v) for v in form.getlist("surveys")]
        calendar = str(form.get("send_calendar", ""))
        ramadan = str(form.get("ramadan", ""))
        if (
            any(name not in ctx.survey_days for name in wanted)
            or calendar not in CALENDAR_CHOICES
            or ramadan not in RAMADAN_CHOICES
        ):
            # only a forged or stale form gets here: the page offers nothing else
            return settings_page(
                page,
                page.programme,
                422,
                problem=gettext(page.language, "Not saved: choose one of the options."),
            )
        surveys = [name for name in ctx.survey_days if name in wanted]
        async with ctx.sessions.begin() as session:
            programme = await session.get_one(Programme, page.programme.id)
            programme.send_calendar = calendar == "on"
            for column, value in programmes.ramadan_changes(ramadan).items():
                setattr(programme, column, value)
            change = await programmes.set_surveys(
                session, programme, surveys, ctx.survey_days, ctx.clock()
            )
        async with ctx.sessions() as session:
            programme = await session.get_one(Programme, page.programme.id)
        return settings_page(
            page, programme, notice=gettext(page.language, "Saved."), change=change
        )

    async def activities_page(page: Page, status: int = 200, **extra: object) -> Response:
        async with ctx.sessions() as session:
            listed = await activities.listing(session, page.programme.id)
        return tools.render(
            page.language,
            "activities.html",
            status,
            page=page,
            activities=listed,
            columns=activities.COLUMNS,
            language_names=names_in(page.language),
            **{"notice": "", "problem": "", "errors": [], **extra},
        )

    async def activity_list(request: Request) -> Response:
        page = await tools.current(request)
        if isinstance(page, Response):
            return page
        if request.method == "GET":
            return await activities_page(page)
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            return await _upload(request, page)
        form = await tools.small_form(request)
        if form is None or not tools.csrf_ok(page, form):
            return tools.forbidden(page)
        name = str(form.get("name", ""))
        if form.get("confirm") != "yes":
            # the list's Remove button only asks: a tap by mistake on a phone removes nothing,
            # and the question is a page of its own, so it needs no JavaScript
            async with ctx.sessions() as session:
                listed = await activities.listing(session, page.programme.id)
            if not any(a.name == name for a in listed):
                return await activities_page(
                    page, 404, problem=gettext(page.language, "Not found.")
                )
            return tools.render(page.language, "activity_remove.html", page=page, activity=name)
        async with ctx.sessions.begin() as session:
            removed = await activities.remove(session, page.programme.id, name)
        if not removed:
            return await activities_page(page, 404, problem=gettext(page.language, "Not found."))
        return await activities_page(page, notice=gettext(page.language, "Removed."))

    async def _upload(request: Request, page: Page) -> Response:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > 2 * MAX_FILE:
            problem = gettext(page.language, "The file is too large.")
            return await activities_page(page, 413, problem=problem)
        async with request.form(max_files=1, max_fields=5, max_part_size=2 * MAX_FILE) as form:
            if not tools.csrf_ok(page, form):
                return tools.forbidden(page)
            upload = form.get("file")
            data = await upload.read() if isinstance(upload, UploadFile) else b""
        if not data:
            problem = gettext(page.language, "Choose a file first.")
            return await activities_page(page, 400, problem=problem)
        try:
            checked = activities.check_table(read_table(data))
        except FileProblem as exc:
            return await activities_page(page, 422, errors=[(exc.where, exc.reason)])
        if checked.errors:
            # a file with any bad row saves nothing, as `activities import`
            return await activities_page(page, 422, errors=checked.errors)
        async with ctx.sessions.begin() as session:
            added, changed = await activities.save(
                session, page.programme.id, checked.rows, ctx.clock()
            )
        notice = gettext(page.language, "Saved: {added} new, {changed} changed.").format(
            added=added, changed=changed
        )
        return await activities_page(page, notice=notice)

    return [
        Route("/coordinator/settings", settings, methods=["GET", "POST"]),
        Route("/coordinator/activities", activity_list, methods=["GET", "POST"]),
    ]

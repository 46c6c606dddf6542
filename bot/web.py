"""The web endpoints: health, the matches API; the channels' webhooks join here as they arrive."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.answer_pages import MAX_UPLOAD_BODY
from bot.http_guards import BodyLimit, DatabaseAway, SecurityHeaders
from store import api_keys, intake
from store.models import Programme

log = logging.getLogger(__name__)
MAX_BODY = 2 * 1024 * 1024
# what any request may carry, read while it streams in; each endpoint keeps its own finer limit.
# Webhooks carry a form or an update (Telegram's are far below 1 MB); the upload page a photo;
# the rest (pages, the coordinators' match files) a few megabytes at most.
BODY_LIMITS = {
    "/webhooks/": 1024 * 1024,
    "/api/": MAX_BODY,
    "/u/": MAX_UPLOAD_BODY,
}
DEFAULT_BODY_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class WebContext:
    sessions: async_sessionmaker[AsyncSession]
    survey_days: Mapping[str, int]
    default_region: str
    clock: Callable[[], datetime]
    # the public URL is https: browsers are told to use nothing else (HSTS)
    https: bool = False


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def create_web_app(ctx: WebContext, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The app: health and the matches API, plus what the configured channels add."""

    async def healthz(request: Request) -> JSONResponse:
        try:
            async with ctx.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # any failure of the database means unhealthy
            log.warning("health check: database unavailable (%s)", type(exc).__name__)
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def post_matches(request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _error(401, "send the API key as 'Authorization: Bearer KEY'")
        # the key is checked before the body is read or parsed: a stranger's body costs nothing
        async with ctx.sessions() as session:
            api_key = await api_keys.verify(session, key)
        if api_key is None:
            return _error(401, "unknown or revoked API key")
        raw = await request.body()  # bounded while it streams by BodyLimit (/api/ prefix)
        async with ctx.sessions() as session:
            zone = (await session.get_one(Programme, api_key.programme_id)).timezone
        today = ctx.clock().astimezone(ZoneInfo(zone)).date()
        try:
            rows, errors = intake.read_api_body(raw, ctx.default_region, today)
        except intake.NotJson:
            return _error(400, "body is not JSON")
        if errors:
            return _error(
                422,
                "nothing was imported",
                errors=[{"where": e.where, "reason": e.reason} for e in errors],
            )
        async with ctx.sessions() as session:
            programme = await session.get_one(Programme, api_key.programme_id)
            result = await intake.apply(session, programme, rows, ctx.clock(), ctx.survey_days)
            await session.commit()
        return JSONResponse(
            {
                "matches_created": result.matches_created,
                "matches_changed": result.matches_changed,
                "participants_created": result.participants_created,
                "participants_changed": result.participants_changed,
                "followups_created": result.followups_created,
                "followups_moved": result.followups_moved,
            }
        )

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/api/matches", post_matches, methods=["POST"]),
            *routes,
        ],
        middleware=[
            Middleware(BodyLimit, default=DEFAULT_BODY_LIMIT, by_prefix=BODY_LIMITS),
            Middleware(SecurityHeaders, https=ctx.https),
            # innermost: its 503 goes out through the headers and the limit like any answer
            Middleware(DatabaseAway),
        ],
    )

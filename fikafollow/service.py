"""`fikafollow serve`: the web app and the scheduled passes in one process."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime
from types import FrameType

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.email import smtp_settings
from bot.web import WebContext, create_web_app
from fikafollow.app import App
from fikafollow.config import Settings
from fikafollow.coordinator_web import web_routes_for_coordinators
from messages.digest import DigestRenderer
from scheduler.digest import run_digests
from scheduler.digest_mail import DigestMailer
from store.database import is_away

log = logging.getLogger(__name__)
# how long a stopping `serve` waits for the pass under way (its message in flight)
STOP_WAIT_SECONDS = 20.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def _kind(exc: BaseException) -> str:
    """The error's type and its cause's (the text may carry a statement's values)."""
    cause = exc.__cause__ or exc.__context__
    return type(exc).__name__ + (f" from {type(cause).__name__}" if cause is not None else "")


async def serve(settings: Settings, host: str | None = None, port: int | None = None) -> int:
    app = App(settings)
    await app.start()
    await app.programme(None, utc_now())
    web = create_web_app(
        WebContext(
            sessions=app.sessions,
            survey_days=app.book.days(),
            default_region=settings.default_region,
            clock=utc_now,
            https=(settings.public_url or "").startswith("https://"),
        ),
        [*app.web_routes(), *web_routes_for_coordinators(app)],
    )

    passes: set[asyncio.Task[object]] = set()

    async def tick() -> None:
        task = asyncio.current_task()
        if task is not None:
            passes.add(task)
            task.add_done_callback(passes.discard)
        try:
            result = await app.tick(utc_now)
            chased = result.chase.reminded + result.chase.moved + result.chase.expired
            if result.dispatch.started or chased or result.drain.sent or result.drain.failed:
                log.info(
                    "tick: started %s, chased %s, sent %s, retried %s, failed %s",
                    result.dispatch.started,
                    chased,
                    result.drain.sent,
                    result.drain.retried,
                    result.drain.failed,
                )
        except Exception as exc:
            # a failing pass must not stop the schedule; the next one tries again
            if is_away(exc):
                # an outage is not a bug: one line per pass, no traceback to wade through
                log.warning("tick: database away (%s); the next tick tries again", _kind(exc))
            else:
                log.exception("tick failed")

    # APScheduler only triggers; the database's claims make a doubled pass harmless
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        tick,
        "interval",
        seconds=settings.tick_seconds,
        next_run_time=utc_now(),
        max_instances=1,
        coalesce=True,
        id="tick",
    )
    renderer = DigestRenderer()
    smtp = smtp_settings(settings)
    mailer = DigestMailer(smtp) if smtp is not None else None
    questions = app.survey_questions()

    async def digests() -> None:
        now = utc_now()
        try:
            await run_digests(
                app.sessions,
                renderer,
                now,
                questions,
                mailer=mailer,
                review_link=app.review_link(now),
                configured=list(app.channels),
                web_url=settings.public_url,
                photos=app.photos,
            )
        except Exception as exc:
            if is_away(exc):
                log.warning("digest job: database away (%s); it runs again", _kind(exc))
            else:
                log.exception("digest job failed")

    # each coordinator's digest is claimed once per ISO week in the database; the job only
    # has to run often enough to be on time
    if mailer is not None:
        scheduler.add_job(
            digests, "interval", minutes=15, max_instances=1, coalesce=True, id="digest"
        )
    config = uvicorn.Config(
        web,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level.lower(),
        access_log=False,  # request lines carry phone numbers in webhook query strings
    )
    server = uvicorn.Server(config)

    def stop_sending(_signal: int, _frame: FrameType | None) -> None:
        app.sender.stop()

    # uvicorn takes SIGTERM and SIGINT while it serves and raises them again once it stopped
    # serving: these handlers then stop the sender, which gives back what it has not sent
    for stopping in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stopping, stop_sending)
    scheduler.start()
    tasks = [asyncio.create_task(task()) for task in app.background_tasks()]
    try:
        await server.serve()
    finally:
        app.sender.stop()
        # the scheduler's shutdown cancels a pass under way, leaving its batch claimed: let it
        # give back what it holds first, and start no other meanwhile
        scheduler.pause()
        if passes:
            await asyncio.wait(set(passes), timeout=STOP_WAIT_SECONDS)
        scheduler.shutdown(wait=False)
        for running in tasks:
            running.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.close()
    return 0

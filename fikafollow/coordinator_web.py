"""Wires the coordinators' web app (`coordinator/`) to the running service's parts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage

from starlette.routing import BaseRoute

from bot.channels.email import SmtpSettings, smtp_settings, submit
from coordinator.web import CoordinatorContext, Mailer, coordinator_routes
from fikafollow.app import App
from messages.digest import survey_label


def utc_now() -> datetime:
    return datetime.now(UTC)


def _mailer(smtp: SmtpSettings | None) -> Mailer | None:
    if smtp is None:
        return None

    async def send(mail: EmailMessage) -> None:
        # the digest's path: one SMTP submission with the FIKAFOLLOW_SMTP_* settings
        await submit(smtp, mail)

    return send


def coordinator_context(app: App, clock: Callable[[], datetime] = utc_now) -> CoordinatorContext:
    settings = app.settings
    smtp = smtp_settings(settings)
    return CoordinatorContext(
        sessions=app.sessions,
        clock=clock,
        public_url=settings.public_url,
        mailer=_mailer(smtp),
        mail_from=smtp.mail_from if smtp else "",
        survey_days=app.book.days(),
        default_region=settings.default_region,
        questions=app.survey_questions(),
        photos=app.photos,
        configured_channels=tuple(app.channels),
        option_label=app.catalogue.option_label,
        survey_options={
            name: {q: survey.questions[q].options for q in survey.question_names}
            for name, survey in app.book.surveys.items()
        },
        # the words the participant was asked, so a caller can read the question out
        question_label=lambda language, name: survey_label(language, f"{name}_q"),
    )


def web_routes_for_coordinators(app: App) -> list[BaseRoute]:
    """The /coordinator/ routes for `serve`'s web app."""
    return coordinator_routes(coordinator_context(app))

"""Programmes: each has its own time zone, send hour and quiet hours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.languages import ramadan_codes
from store.models import FollowUp, Match, MatchMember, Programme
from store.send_calendar import SendCalendar
from store.timing import SendWindow
from store.vocabulary import FollowUpStatus


def send_window(programme: Programme) -> SendWindow:
    return SendWindow(
        timezone=programme.timezone,
        send_hour=programme.send_hour,
        quiet_start=programme.quiet_start,
        quiet_end=programme.quiet_end,
        calendar=SendCalendar(
            holidays=bool(programme.send_calendar),
            ramadan=bool(programme.ramadan_evenings),
            ramadan_languages=ramadan_codes() if programme.ramadan_by_language else None,
        ),
    )


# `--ramadan` and the web app's setting: (ramadan_evenings, ramadan_by_language) of each choice
RAMADAN_CHOICES: dict[str, tuple[bool, bool]] = {
    "off": (False, False),
    "language": (True, True),
    "on": (True, False),
}


def ramadan_choice(programme: Programme) -> str:
    """The programme's Ramadan setting as `--ramadan` names it: off, language or on."""
    if not programme.ramadan_evenings:
        return "off"
    return "language" if programme.ramadan_by_language else "on"


def ramadan_changes(choice: str) -> dict[str, bool]:
    """The columns a Ramadan choice (off, language, on) sets."""
    evenings, by_language = RAMADAN_CHOICES[choice]
    return {"ramadan_evenings": evenings, "ramadan_by_language": by_language}


async def get_or_create(
    session: AsyncSession,
    programme_id: str,
    now: datetime,
    *,
    name: str,
    timezone: str,
    send_hour: int,
    quiet: tuple[int, int],
    send_calendar: bool,
) -> Programme:
    """The programme, created with these defaults the first time it is named."""
    programme = await session.get(Programme, programme_id)
    if programme is None:
        programme = Programme(
            id=programme_id,
            name=name,
            timezone=timezone,
            send_hour=send_hour,
            quiet_start=quiet[0],
            quiet_end=quiet[1],
            surveys="three_weeks",
            send_calendar=send_calendar,
            created_at=now,
        )
        session.add(programme)
        await session.flush()
    return programme


async def listing(session: AsyncSession) -> list[Programme]:
    """Every programme, by id."""
    return list((await session.scalars(select(Programme).order_by(Programme.id))).all())


async def save(
    session: AsyncSession,
    programme_id: str,
    now: datetime,
    *,
    defaults: SendWindow,
    changes: Mapping[str, str | int | bool],
    send_calendar: bool = True,
) -> Programme:
    """Create the programme (with `defaults` for its timing, its id as its name, and
    `send_calendar` unless `changes` say otherwise) or change it; `changes` maps Programme's
    column names to their new values."""
    programme = await get_or_create(
        session,
        programme_id,
        now,
        name=programme_id,
        timezone=defaults.timezone,
        send_hour=defaults.send_hour,
        quiet=(defaults.quiet_start, defaults.quiet_end),
        send_calendar=send_calendar,
    )
    for column, value in changes.items():
        setattr(programme, column, value)
    return programme


@dataclass
class SurveyChange:
    scheduled: int = 0  # follow-ups of a survey turned on, for matches already imported
    withdrawn: int = 0  # follow-ups of a survey turned off that had not started


def surveys_of(programme: Programme) -> list[str]:
    """The surveys the programme runs, in the order it names them."""
    return [name for name in programme.surveys.split(",") if name]


async def set_surveys(
    session: AsyncSession,
    programme: Programme,
    surveys: Sequence[str],
    survey_days: Mapping[str, int],
    now: datetime,
) -> SurveyChange:
    """Run these surveys from now on, for new and existing matches: a survey turned on is
    scheduled for every member of every match that has none of it yet (at its day after the
    first fika, or at the next time we may write if that day has passed); a survey turned off
    loses the follow-ups that have not started. One already asking goes on to its end, so
    nobody is cut off mid-conversation."""
    change = SurveyChange()
    before = set(surveys_of(programme))
    programme.surveys = ",".join(surveys)
    stopped = before - set(surveys)
    if stopped:
        gone = await session.execute(
            delete(FollowUp).where(
                FollowUp.programme_id == programme.id,
                FollowUp.survey.in_(sorted(stopped)),
                FollowUp.status == FollowUpStatus.SCHEDULED,
            )
        )
        change.withdrawn = int(getattr(gone, "rowcount", 0) or 0)
    started = [name for name in surveys if name not in before]
    if not started:
        return change
    window = send_window(programme)
    members = (
        await session.execute(
            select(Match.id, Match.matched_on, MatchMember.participant_id)
            .join(MatchMember, MatchMember.match_id == Match.id)
            .where(Match.programme_id == programme.id)
            .order_by(Match.id, MatchMember.participant_id)
        )
    ).all()
    have = set(
        (
            await session.execute(
                select(FollowUp.match_id, FollowUp.participant_id, FollowUp.survey).where(
                    FollowUp.programme_id == programme.id, FollowUp.survey.in_(started)
                )
            )
        ).all()
    )
    earliest = window.next_allowed(now)
    for survey in started:
        for match_id, matched_on, participant_id in members:
            if (match_id, participant_id, survey) in have:
                continue
            due = max(window.due_at(matched_on, survey_days[survey]), earliest)
            session.add(
                FollowUp(
                    programme_id=programme.id,
                    match_id=match_id,
                    participant_id=participant_id,
                    survey=survey,
                    due_at=due,
                    status=FollowUpStatus.SCHEDULED,
                )
            )
            change.scheduled += 1
    await session.flush()
    return change

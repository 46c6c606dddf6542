"""What became of each follow-up, and the counts the digest and the funder report are made of.

Every query here is scoped to one programme: a coordinator sees only their own programme's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Answer,
    FollowUp,
    Greeting,
    Match,
    MatchMember,
    OutboxMessage,
    Participant,
)
from store.vocabulary import OUT_OF_ATTEMPTS, FollowUpStatus, OutboxStatus

# the follow-ups a dispatch pass has dealt with (past `scheduled` and `claimed`)
STARTED = (
    FollowUpStatus.ACTIVE,
    FollowUpStatus.DONE,
    FollowUpStatus.EXPIRED,
    FollowUpStatus.OPTED_OUT,
    FollowUpStatus.UNREACHABLE,
)


@dataclass(frozen=True)
class Outcome:
    """One follow-up that was asked: who, how it was reached, what they said."""

    followup_id: int
    match_id: str
    match_kind: str
    first_name: str
    participant_id: str
    role: str
    gender: str
    language: str
    # the channel the answer came on, or else the last one asked on
    channel: str
    answered: bool
    met_again: str | None
    will_meet_again: str | None
    survey: str = ""
    # every answer given, by question, whatever the survey
    answers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    met_again: int = 0
    will_meet_again: dict[str, int] = field(default_factory=lambda: {"yes": 0, "maybe": 0, "no": 0})

    def add(self, outcome: Outcome) -> None:
        self.sent += 1
        self.answered += outcome.answered
        self.met_again += outcome.met_again == "yes"
        if outcome.will_meet_again in self.will_meet_again:
            self.will_meet_again[outcome.will_meet_again] += 1

    @property
    def rate(self) -> float:
        """Answered out of asked, 0-100."""
        return 100.0 * self.answered / self.sent if self.sent else 0.0


def tally(outcomes: Iterable[Outcome]) -> Tally:
    total = Tally()
    for outcome in outcomes:
        total.add(outcome)
    return total


def tally_by(outcomes: Iterable[Outcome], key: Callable[[Outcome], str]) -> dict[str, Tally]:
    groups: dict[str, Tally] = {}
    for outcome in outcomes:
        groups.setdefault(key(outcome), Tally()).add(outcome)
    return dict(sorted(groups.items()))


async def outcomes(
    session: AsyncSession,
    programme_id: str,
    *,
    started: tuple[datetime, datetime] | None = None,
    matched: tuple[date, date] | None = None,
    until: datetime | None = None,
    survey: str | None = None,
) -> list[Outcome]:
    """Follow-ups that were asked, started in [start, end) or of matches from the first day to
    the last (inclusive), of one survey or all; answers given before `until` (default: all)."""
    stmt = (
        select(FollowUp, Participant, Match)
        .join(Participant, Participant.id == FollowUp.participant_id)
        .join(Match, Match.id == FollowUp.match_id)
        # asked means a question reached a provider, or a coordinator phoned: one still waiting
        # in the outbox for a channel is not followed up
        .where(
            FollowUp.programme_id == programme_id,
            FollowUp.started_at.is_not(None),
            or_(FollowUp.asked_at.is_not(None), FollowUp.called_at.is_not(None)),
        )
        .order_by(FollowUp.id)
    )
    if started is not None:
        stmt = stmt.where(FollowUp.started_at >= started[0], FollowUp.started_at < started[1])
    if matched is not None:
        stmt = stmt.where(Match.matched_on >= matched[0], Match.matched_on <= matched[1])
    if until is not None:
        stmt = stmt.where(FollowUp.started_at < until)
    if survey is not None:
        stmt = stmt.where(FollowUp.survey == survey)
    found = [(f, p, m) for f, p, m in await session.execute(stmt)]
    answers: dict[int, dict[str, Answer]] = {}
    if found:
        # the same follow-ups as a subquery, not their ids bound one by one: a large programme
        # has more than the 32,767 parameters asyncpg can bind in one statement
        chosen = stmt.with_only_columns(FollowUp.id).order_by(None)
        query = select(Answer).where(Answer.followup_id.in_(chosen))
        if until is not None:
            query = query.where(Answer.answered_at < until)
        for answer in (await session.scalars(query.order_by(Answer.answered_at, Answer.id))).all():
            answers.setdefault(answer.followup_id, {})[answer.question] = answer
    rows = []
    for f, p, m in found:
        given = answers.get(f.id, {})
        first = min(given.values(), key=lambda a: (a.answered_at, a.id)) if given else None
        rows.append(
            Outcome(
                followup_id=f.id,
                match_id=m.external_id,
                match_kind=m.kind,
                first_name=p.first_name,
                participant_id=p.external_id,
                role=p.role,
                gender=p.gender or "unknown",
                language=p.language,
                channel=first.channel if first else (f.channel or p.channel),
                answered=bool(given),
                met_again=given["met_again"].value if "met_again" in given else None,
                will_meet_again=(
                    given["will_meet_again"].value if "will_meet_again" in given else None
                ),
                survey=f.survey,
                answers={q: a.value for q, a in given.items()},
            )
        )
    return rows


@dataclass(frozen=True)
class AnswerLine:
    first_name: str
    language: str
    channel: str
    match_id: str
    question: str
    value: str
    raw_text: str
    answered_at: datetime


async def answers_between(
    session: AsyncSession, programme_id: str, start: datetime, end: datetime
) -> list[AnswerLine]:
    """The answers given in [start, end), with the participants' own words."""
    rows = await session.execute(
        select(Answer, Participant, Match)
        .join(FollowUp, FollowUp.id == Answer.followup_id)
        .join(Participant, Participant.id == FollowUp.participant_id)
        .join(Match, Match.id == FollowUp.match_id)
        .where(
            FollowUp.programme_id == programme_id,
            Answer.answered_at >= start,
            Answer.answered_at < end,
        )
        .order_by(Answer.answered_at, Answer.id)
    )
    return [
        AnswerLine(
            p.first_name,
            p.language,
            a.channel,
            m.external_id,
            a.question,
            a.value,
            a.raw_text,
            a.answered_at,
        )
        for a, p, m in rows
    ]


@dataclass(frozen=True)
class GreetingLine:
    greeting_id: int
    first_name: str
    match_id: str
    words: str
    has_photo: bool
    consent: str | None
    # the stored photo's name in the photo folder, and the coordinator's decision on it
    photo_path: str | None = None
    social: str | None = None


async def greetings_between(
    session: AsyncSession, programme_id: str, start: datetime, end: datetime
) -> list[GreetingLine]:
    rows = await session.execute(
        select(Greeting, Participant, Match)
        .join(FollowUp, FollowUp.id == Greeting.followup_id)
        .join(Participant, Participant.id == Greeting.participant_id)
        .join(Match, Match.id == FollowUp.match_id)
        .where(
            FollowUp.programme_id == programme_id,
            Greeting.created_at >= start,
            Greeting.created_at < end,
        )
        .order_by(Greeting.created_at, Greeting.id)
    )
    return [
        GreetingLine(
            g.id,
            p.first_name,
            m.external_id,
            g.words,
            g.photo_path is not None,
            g.consent,
            g.photo_path,
            g.social,
        )
        for g, p, m in rows
    ]


@dataclass(frozen=True)
class ProblemLine:
    first_name: str
    language: str
    channel: str
    what: str


async def failures_between(
    session: AsyncSession, programme_id: str, start: datetime, end: datetime
) -> list[ProblemLine]:
    """Messages that could not be delivered for good, and participants who opted out."""
    failed = await session.execute(
        select(OutboxMessage, Participant)
        .join(Participant, Participant.id == OutboxMessage.participant_id)
        .where(
            OutboxMessage.programme_id == programme_id,
            OutboxMessage.status == OutboxStatus.FAILED,
            OutboxMessage.created_at >= start,
            OutboxMessage.created_at < end,
        )
        .order_by(OutboxMessage.id)
    )
    lines = [
        ProblemLine(
            p.first_name,
            p.language,
            o.channel,
            # retries that ran out say nothing about the address: the message can be sent again
            "not sent (outage)"
            if (o.last_error or "").startswith(OUT_OF_ATTEMPTS)
            else "delivery failed",
        )
        for o, p in failed
    ]
    opted = await session.scalars(
        select(Participant)
        .where(
            Participant.programme_id == programme_id,
            Participant.opted_out_at >= start,
            Participant.opted_out_at < end,
        )
        .order_by(Participant.opted_out_at, Participant.id)
    )
    lines += [ProblemLine(p.first_name, p.language, p.channel, "opted out") for p in opted]
    return lines


@dataclass
class FunderRow:
    followed_up: int = 0
    answered: int = 0
    met_again: int = 0
    will_meet_again: int = 0
    photos: int = 0
    photos_consented: int = 0

    def values(self) -> list[int]:
        return [
            self.followed_up,
            self.answered,
            self.met_again,
            self.will_meet_again,
            self.photos,
            self.photos_consented,
        ]


@dataclass
class FunderFigures:
    matches: dict[str, int]
    participants: dict[tuple[str, str], int]
    newcomers: int
    women_newcomers: int
    total: FunderRow
    by_language: dict[str, FunderRow]
    by_channel: dict[str, FunderRow]
    # any survey's questions: (survey, question) → answer → how many gave it; and how many
    # follow-ups of each survey were asked
    answers: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    asked_by_survey: dict[str, int] = field(default_factory=dict)
    # (survey, question) → match → the answers its members gave, for figures per pair
    by_match: dict[tuple[str, str], dict[str, set[str]]] = field(default_factory=dict)
    # participants by gender, whatever their role
    genders: dict[str, int] = field(default_factory=dict)


async def funder_figures(
    session: AsyncSession,
    programme_id: str,
    first_day: date,
    last_day: date,
    survey: str | None = None,
) -> FunderFigures:
    """The funder report's figures for matches first met from `first_day` to `last_day`
    (inclusive), with all that became of them. The follow-up rows count the follow-ups of
    `survey` (default: all); the answers by question count every survey's."""
    chosen = select(Match.kind, Match.id).where(
        Match.programme_id == programme_id,
        Match.matched_on >= first_day,
        Match.matched_on <= last_day,
    )
    by_kind: dict[str, int] = {"individual": 0, "family": 0}
    for kind, _match_id in await session.execute(chosen):
        by_kind[kind] = by_kind.get(kind, 0) + 1
    # subqueries rather than bound ids: past 32,767 of them asyncpg refuses the statement
    people = (
        await session.scalars(
            select(Participant)
            .join(MatchMember, MatchMember.participant_id == Participant.id)
            .where(MatchMember.match_id.in_(chosen.with_only_columns(Match.id)))
            .distinct()
        )
    ).all()
    participants: dict[tuple[str, str], int] = {}
    for p in people:
        key = (p.role, p.gender or "unknown")
        participants[key] = participants.get(key, 0) + 1
    newcomers = [p for p in people if p.role == "newcomer"]
    every = await outcomes(session, programme_id, matched=(first_day, last_day))
    asked = [o for o in every if survey is None or o.survey == survey]
    answers: dict[tuple[str, str], dict[str, int]] = {}
    asked_by_survey: dict[str, int] = {}
    by_match: dict[tuple[str, str], dict[str, set[str]]] = {}
    for o in every:
        for question, value in o.answers.items():
            by_match.setdefault((o.survey, question), {}).setdefault(o.match_id, set()).add(value)
        asked_by_survey[o.survey] = asked_by_survey.get(o.survey, 0) + 1
        for question, value in o.answers.items():
            counts = answers.setdefault((o.survey, question), {})
            counts[value] = counts.get(value, 0) + 1
    photos: dict[int, tuple[int, int]] = {}
    if asked:
        rows = await session.execute(
            select(Greeting.followup_id, Greeting.consent)
            .join(FollowUp, FollowUp.id == Greeting.followup_id)
            .join(Match, Match.id == FollowUp.match_id)
            .where(
                FollowUp.programme_id == programme_id,
                FollowUp.started_at.is_not(None),
                Match.matched_on >= first_day,
                Match.matched_on <= last_day,
                # the type, not the file: an erased photo was still received
                Greeting.photo_type.is_not(None),
            )
        )
        for followup_id, consent in rows:
            got, ok = photos.get(followup_id, (0, 0))
            photos[followup_id] = (got + 1, ok + (consent == "yes"))
    total = FunderRow()
    by_language: dict[str, FunderRow] = {}
    by_channel: dict[str, FunderRow] = {}
    for o in asked:
        got, ok = photos.get(o.followup_id, (0, 0))
        for row in (
            total,
            by_language.setdefault(o.language, FunderRow()),
            by_channel.setdefault(o.channel, FunderRow()),
        ):
            row.followed_up += 1
            row.answered += o.answered
            row.met_again += o.met_again == "yes"
            row.will_meet_again += o.will_meet_again == "yes"
            row.photos += got
            row.photos_consented += ok
    return FunderFigures(
        matches=by_kind,
        participants=dict(sorted(participants.items())),
        newcomers=len(newcomers),
        women_newcomers=sum(1 for p in newcomers if p.gender == "woman"),
        total=total,
        by_language=dict(sorted(by_language.items())),
        by_channel=dict(sorted(by_channel.items())),
        answers=answers,
        asked_by_survey=asked_by_survey,
        by_match=by_match,
        genders={
            g: sum(1 for p in people if (p.gender or "unknown") == g)
            for g in sorted({p.gender or "unknown" for p in people})
        },
    )

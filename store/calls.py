"""The call list: whom a coordinator should phone, and the answers a phone call brings."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import store.answers
from store.models import Answer, FollowUp, Match, Participant
from store.vocabulary import FollowUpStatus

PHONE = "phone"
# a follow-up a phone call can finish: one still asking, expired, or without a channel
CALLABLE = (FollowUpStatus.EXPIRED, FollowUpStatus.ACTIVE, FollowUpStatus.UNREACHABLE)
CALL_ANSWERS: Mapping[str, frozenset[str]] = {
    "met_again": frozenset({"yes", "no"}),
    "will_meet_again": frozenset({"yes", "maybe", "no"}),
}


@dataclass(frozen=True)
class CallRow:
    language: str
    first_name: str
    phone: str
    email: str
    participant_id: str
    match_id: str
    unanswered: tuple[str, ...]


class CallError(ValueError):
    """A call outcome that cannot be recorded; nothing was written."""


async def call_list(
    session: AsyncSession, programme_id: str, questions: Sequence[str]
) -> list[CallRow]:
    """Everyone whose follow-up expired without an answer and who has not been phoned yet,
    by language (so a volunteer gets the list in the language they speak), then by name."""
    stmt = (
        select(FollowUp, Participant, Match)
        .join(Participant, Participant.id == FollowUp.participant_id)
        .join(Match, Match.id == FollowUp.match_id)
        .where(
            FollowUp.programme_id == programme_id,
            FollowUp.status == FollowUpStatus.EXPIRED,
            FollowUp.called_at.is_(None),
            Participant.opted_out_at.is_(None),
        )
        .order_by(Participant.language, Participant.first_name, Participant.id, Match.id)
    )
    found = [(f, p, m) for f, p, m in await session.execute(stmt)]
    answered: dict[int, set[str]] = {}
    if found:
        # the same follow-ups as a subquery: bound one by one, a large programme's ids pass the
        # 32,767 parameters asyncpg allows in one statement
        chosen = stmt.with_only_columns(FollowUp.id).order_by(None)
        for followup_id, question in await session.execute(
            select(Answer.followup_id, Answer.question).where(Answer.followup_id.in_(chosen))
        ):
            answered.setdefault(followup_id, set()).add(question)
    return [
        CallRow(
            language=p.language,
            first_name=p.first_name,
            phone=p.phone or "",
            email=p.email or "",
            participant_id=p.external_id,
            match_id=m.external_id,
            unanswered=tuple(q for q in questions if q not in answered.get(f.id, set())),
        )
        for f, p, m in found
    ]


def by_language(rows: Collection[CallRow]) -> dict[str, list[CallRow]]:
    grouped: dict[str, list[CallRow]] = {}
    for row in rows:
        grouped.setdefault(row.language, []).append(row)
    return grouped


async def record_call(
    session: AsyncSession,
    programme_id: str,
    participant_id: str,
    match_id: str,
    answers: Mapping[str, str],
    note: str,
    now: datetime,
) -> int:
    """Store what a participant said on the phone as answers with channel `phone`; returns the
    number of answers written. The follow-up leaves the call list."""
    for question, value in answers.items():
        allowed = CALL_ANSWERS.get(question)
        if allowed is None or value not in allowed:
            raise CallError(
                f"{question}: {value!r} is not one of {', '.join(sorted(allowed or ()))}"
            )
    followup = await session.scalar(
        select(FollowUp)
        .join(Participant, Participant.id == FollowUp.participant_id)
        .join(Match, Match.id == FollowUp.match_id)
        .where(
            FollowUp.programme_id == programme_id,
            Participant.external_id == participant_id,
            Match.external_id == match_id,
        )
        .order_by(FollowUp.id.desc())
        .limit(1)
    )
    if followup is None:
        raise CallError(f"no follow-up of participant {participant_id} in match {match_id}")
    for question, value in answers.items():
        await store.answers.record(
            session,
            followup_id=followup.id,
            question=question,
            value=value,
            raw_text=note,
            channel=PHONE,
            inbox_id=None,
            now=now,
        )
    followup.called_at = now
    if followup.status in CALLABLE:
        if len(answers) == len(CALL_ANSWERS):
            followup.status = FollowUpStatus.DONE
        followup.finished_at = followup.finished_at or now
    return len(answers)


async def record_call_outcome(
    session: AsyncSession,
    programme_id: str,
    participant_id: str,
    match_id: str,
    outcome: str,
    now: datetime,
) -> None:
    """A call that brought no answers: `wrong_number` marks the phone dead and `declined`
    opts the person out; both take them off the call list. `no_answer` changes nothing, so
    they stay on the list to be tried again."""
    if outcome not in ("no_answer", "wrong_number", "declined"):
        raise CallError(f"outcome {outcome!r} is not one of no_answer, wrong_number, declined")
    row = (
        await session.execute(
            select(FollowUp, Participant)
            .join(Participant, Participant.id == FollowUp.participant_id)
            .join(Match, Match.id == FollowUp.match_id)
            .where(
                FollowUp.programme_id == programme_id,
                Participant.external_id == participant_id,
                Match.external_id == match_id,
            )
            .order_by(FollowUp.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        raise CallError(f"no follow-up of participant {participant_id} in match {match_id}")
    followup, person = row
    if outcome == "no_answer":
        return
    followup.called_at = now
    if outcome == "wrong_number":
        dead = {c for c in person.dead_channels.split(",") if c} | {"sms", PHONE}
        person.dead_channels = ",".join(sorted(dead))
    else:
        person.opted_out_at = person.opted_out_at or now

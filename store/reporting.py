"""Queries for exports and summaries."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable, Collection
from datetime import datetime
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Answer, FollowUp, Greeting, InboxEvent, Match, OutboxMessage, Participant

# rows fetched at a time by a streamed export
STREAM_ROWS = 1000
ANSWER_COLUMNS = (
    "match_id",
    "participant_id",
    "language",
    "channel",
    "question",
    "answer",
    "raw_text",
    "answered_at",
)
# after the columns above (a contract): the answer as the option's label in a language
LABEL_COLUMN = "answer_label"


async def answer_rows(
    session: AsyncSession, programme_id: str, questions: Collection[str]
) -> AsyncIterator[dict[str, str]]:
    """One row per understood answer to a survey question, oldest first."""
    # plain columns streamed in slices, not ORM objects in one list: the export's memory stays
    # flat however many answers a programme has
    stmt = (
        select(
            Match.external_id,
            Participant.external_id,
            Participant.language,
            Answer.channel,
            Answer.question,
            Answer.value,
            Answer.raw_text,
            Answer.answered_at,
        )
        .join(FollowUp, FollowUp.id == Answer.followup_id)
        .join(Participant, Participant.id == FollowUp.participant_id)
        .join(Match, Match.id == FollowUp.match_id)
        .where(FollowUp.programme_id == programme_id, Answer.question.in_(list(questions)))
        .order_by(Answer.answered_at, Answer.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    result = await session.stream(stmt)
    async for match, participant, language, channel, question, value, raw, at in result:
        yield {
            "match_id": match,
            "participant_id": participant,
            "language": language,
            "channel": channel,
            "question": question,
            "answer": value,
            "raw_text": raw,
            "answered_at": _iso(at),
        }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def summary(session: AsyncSession, programme_id: str) -> dict[str, dict[str, int]]:
    """Counts for the end of a demo or a tick: follow-ups, outbox, inbox outcomes, answers."""
    followups = await session.execute(
        select(FollowUp.status, func.count())
        .where(FollowUp.programme_id == programme_id)
        .group_by(FollowUp.status)
    )
    out = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.programme_id == programme_id)
        .group_by(OutboxMessage.status)
    )
    inbound = await session.execute(
        select(InboxEvent.outcome, func.count())
        .join(Participant, Participant.id == InboxEvent.participant_id)
        .where(Participant.programme_id == programme_id)
        .group_by(InboxEvent.outcome)
    )
    answers = await session.execute(
        select(Answer.question, Answer.value, func.count())
        .join(FollowUp, FollowUp.id == Answer.followup_id)
        .where(FollowUp.programme_id == programme_id)
        .group_by(Answer.question, Answer.value)
    )
    greetings = await session.execute(
        select(Greeting.consent, func.count())
        .join(FollowUp, FollowUp.id == Greeting.followup_id)
        .where(FollowUp.programme_id == programme_id)
        .group_by(Greeting.consent)
    )
    return {
        "follow-ups": {str(k): n for k, n in followups},
        "outbox": {str(k): n for k, n in out},
        "replies": {str(k): n for k, n in inbound},
        "answers": {f"{q}={v}": n for q, v, n in answers},
        "fikahälsningar by consent": {str(k or "not asked"): n for k, n in greetings},
    }


async def write_answers_csv(
    session: AsyncSession,
    programme_id: str,
    questions: Collection[str],
    target: TextIO,
    label: Callable[[str], str] | None = None,
) -> int:
    """The answers export (columns ANSWER_COLUMNS, then LABEL_COLUMN when a `label` names each
    answer value); returns the number of rows."""
    columns = (*ANSWER_COLUMNS, LABEL_COLUMN) if label is not None else ANSWER_COLUMNS
    writer = csv.DictWriter(target, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    count = 0
    async for row in answer_rows(session, programme_id, questions):
        if label is not None:
            row[LABEL_COLUMN] = label(row["answer"])
        # a participant's reply is theirs to word: "=HYPERLINK(...)" must stay text
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
        count += 1
    return count


# OWASP CSV injection: a cell a spreadsheet would read as a formula gets a leading apostrophe
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """The value, with text that a spreadsheet would run as a formula neutralised."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

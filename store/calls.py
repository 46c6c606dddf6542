"""The call list: whom a coordinator should phone, and the answers a phone call brings."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import store.answers
import store.outbox
from messages import code_names
from store.intake import is_fixed_line
from store.models import Answer, FollowUp, Match, OutboxMessage, Participant
from store.vocabulary import FollowUpStatus, OutboxStatus, Unreachable

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
    # why no message could reach them, for one that was unreachable: each dead channel and
    # why, or (("", no_channel),); worded by the reader (messages.code_names.unreachable_name)
    unreachable: tuple[tuple[str, Unreachable], ...] = ()
    # the survey of the follow-up to call about: its questions are the ones to ask
    survey: str = ""

    @property
    def reason(self) -> str:
        """The reason in English, for the operator's command line ("SMS not possible:
        landline"); "" for one who is on the list because they did not answer."""
        return "; ".join(
            code_names.unreachable_name("en", channel, why) for channel, why in self.unreachable
        )


class CallError(ValueError):
    """A call outcome that cannot be recorded; nothing was written."""


async def call_list(
    session: AsyncSession,
    programme_id: str,
    questions: Sequence[str] | Mapping[str, Sequence[str]],
) -> list[CallRow]:
    """Everyone whose follow-up expired without an answer and who has not been phoned yet,
    by language (so a volunteer gets the list in the language they speak), then by name.

    `questions` are the questions to list as unanswered, or each survey's questions by survey
    (then a follow-up lists only its own survey's)."""
    stmt = (
        select(FollowUp, Participant, Match)
        .join(Participant, Participant.id == FollowUp.participant_id)
        .join(Match, Match.id == FollowUp.match_id)
        .where(
            FollowUp.programme_id == programme_id,
            # expired unanswered, or never reachable by message: a landline is there to phone
            FollowUp.status.in_((FollowUpStatus.EXPIRED, FollowUpStatus.UNREACHABLE)),
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
    reasons = await _unreachable_reasons(
        session, [p for f, p, _ in found if f.status == FollowUpStatus.UNREACHABLE]
    )
    return [
        CallRow(
            language=p.language,
            first_name=p.first_name,
            phone=p.phone or "",
            email=p.email or "",
            participant_id=p.external_id,
            match_id=m.external_id,
            unanswered=tuple(
                q
                for q in (
                    questions.get(f.survey, ()) if isinstance(questions, Mapping) else questions
                )
                if q not in answered.get(f.id, set())
            ),
            unreachable=reasons.get(p.id, ()) if f.status == FollowUpStatus.UNREACHABLE else (),
            survey=f.survey,
        )
        for f, p, m in found
    ]


# the channels' words for a refusal that condemns an address (the phrase after the last ": " of
# a failed message's last error: bot/channels/*/send.py, email/bounces.py), by what it means
PROVIDER_PHRASES: Mapping[str, Unreachable] = {
    "landline": Unreachable.LANDLINE,
    "landline (not a mobile number)": Unreachable.LANDLINE,
    "landline or unreachable carrier": Unreachable.LANDLINE,
    "invalid number": Unreachable.INVALID_NUMBER,
    "no number given": Unreachable.INVALID_NUMBER,
    "unknown destination": Unreachable.INVALID_NUMBER,
    "country not supported": Unreachable.NUMBER_UNREACHABLE,
    "region not enabled for the account": Unreachable.NUMBER_UNREACHABLE,
    "number cannot be reached": Unreachable.NUMBER_UNREACHABLE,
    "number cannot be reached from this sender": Unreachable.NUMBER_UNREACHABLE,
    "unreachable handset": Unreachable.NUMBER_UNREACHABLE,
    "unsubscribed (texted STOP)": Unreachable.SMS_STOPPED,
    "message blocked": Unreachable.SMS_BLOCKED,
    "filtered by the carrier": Unreachable.SMS_BLOCKED,
    "bot blocked or never started": Unreachable.BOT_BLOCKED,
    "chat not found": Unreachable.CHAT_NOT_FOUND,
    "mailbox does not exist": Unreachable.NO_MAILBOX,
    "mail domain does not exist": Unreachable.NO_MAIL_DOMAIN,
    "address not valid": Unreachable.ADDRESS_INVALID,
    "mailbox disabled": Unreachable.MAILBOX_UNAVAILABLE,
    "mailbox full": Unreachable.MAILBOX_UNAVAILABLE,
    "mailbox not available": Unreachable.MAILBOX_UNAVAILABLE,
    "receiving mail server cannot take mail": Unreachable.MAIL_REFUSED,
    "mail route failed": Unreachable.MAIL_REFUSED,
    "mail protocol refused": Unreachable.MAIL_REFUSED,
    "message content refused": Unreachable.MAIL_REFUSED,
    "refused by the receiving mail server": Unreachable.MAIL_REFUSED,
    "delivery failed": Unreachable.FAILED,
}
# the channels a coordinator is told about (a dead `phone` is a call outcome, not a reason)
REASON_CHANNELS = ("email", "sms", "telegram")


def unreachable_code(last_error: str | None) -> Unreachable:
    """What a failed message's last error means for reaching the person."""
    phrase = (last_error or "").rsplit(": ", 1)[-1].strip()
    if phrase in PROVIDER_PHRASES:
        return PROVIDER_PHRASES[phrase]
    # the SMTP server refused the recipient at submission ("recipient refused (550)", "smtp 550")
    if phrase.startswith(("recipient refused", "smtp ")):
        return Unreachable.MAIL_REFUSED
    return Unreachable.FAILED


async def _unreachable_reasons(
    session: AsyncSession, people: Sequence[Participant]
) -> dict[int, tuple[tuple[str, Unreachable], ...]]:
    """For each person, what made each of their channels fail, from the last failed message
    on it or, for a number the import found to be a landline, that."""
    if not people:
        return {}
    failures: dict[tuple[int, str], str | None] = {}
    for participant_id, channel, error in await session.execute(
        select(OutboxMessage.participant_id, OutboxMessage.channel, OutboxMessage.last_error)
        .where(
            OutboxMessage.participant_id.in_([p.id for p in people]),
            OutboxMessage.status == OutboxStatus.FAILED,
        )
        .order_by(OutboxMessage.id)
    ):
        failures[(participant_id, channel)] = error
    reasons: dict[int, tuple[tuple[str, Unreachable], ...]] = {}
    for person in people:
        parts: list[tuple[str, Unreachable]] = []
        for channel in sorted(person.dead()):
            if channel not in REASON_CHANNELS:
                continue
            if (person.id, channel) in failures:
                why = unreachable_code(failures[(person.id, channel)])
            elif channel == "sms" and person.phone and is_fixed_line(person.phone):
                why = Unreachable.LANDLINE
            else:
                why = Unreachable.FAILED
            parts.append((channel, why))
        reasons[person.id] = tuple(parts) or (("", Unreachable.NO_CHANNEL),)
    return reasons


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
    surveys: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> int:
    """Store what a participant said on the phone as answers with channel `phone`; returns the
    number of answers written. Each answer goes to the follow-up of the survey that asks the
    question; that follow-up leaves the call list.

    `surveys` maps each survey to its questions and their options (none: a number or words,
    checked by the caller); without it, the three-week questions."""
    asked = surveys if surveys is not None else {"three_weeks": CALL_ANSWERS}
    by_survey: dict[str, dict[str, str]] = {}
    for question, value in answers.items():
        owner = next((name for name, questions in asked.items() if question in questions), None)
        if owner is None:
            known = sorted({q for questions in asked.values() for q in questions})
            raise CallError(f"{question}: no survey asks it; known: {', '.join(known)}")
        allowed = asked[owner][question]
        if allowed and value not in allowed:
            raise CallError(f"{question}: {value!r} is not one of {', '.join(sorted(allowed))}")
        by_survey.setdefault(owner, {})[question] = value
    found: list[tuple[FollowUp, str, dict[str, str]]] = []
    for survey, given in by_survey.items():
        followup = await session.scalar(
            select(FollowUp)
            .join(Participant, Participant.id == FollowUp.participant_id)
            .join(Match, Match.id == FollowUp.match_id)
            .where(
                FollowUp.programme_id == programme_id,
                Participant.external_id == participant_id,
                Match.external_id == match_id,
                FollowUp.survey == survey,
            )
            .order_by(FollowUp.id.desc())
            .limit(1)
        )
        if followup is None:
            raise CallError(
                f"no follow-up of participant {participant_id} in match {match_id} ({survey})"
            )
        found.append((followup, survey, given))
    for followup, survey, given in found:
        for question, value in given.items():
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
        # what was queued for them before the call would ask what they just said
        await store.outbox.cancel_for_followup(session, followup.id, "participant was phoned")
        complete = len(given) == len(asked[survey])
        if followup.status in CALLABLE:
            if complete:
                followup.status = FollowUpStatus.DONE
            followup.finished_at = followup.finished_at or now
        elif followup.status == FollowUpStatus.SCHEDULED and complete:
            # the call asked everything before the message would have: nothing to send
            followup.status = FollowUpStatus.DONE
            followup.finished_at = now
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
    await store.outbox.cancel_for_followup(session, followup.id, "participant was phoned")
    if outcome == "wrong_number":
        person.mark_dead("sms")
        person.mark_dead(PHONE)
    else:
        person.opted_out_at = person.opted_out_at or now

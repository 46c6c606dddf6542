"""Where the pure dialogue meets the database: start a follow-up, take in what a participant sent.

Each call runs inside the caller's transaction, so the state change and the messages it causes are
committed together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import InboundMessage
from bot.dialogue import Dialogue, Incoming, Say, State, Turn
from bot.reach import address_for, ladder
from bot.replies import is_start, is_stop
from bot.surveys import SurveyBook
from messages.render import Catalogue
from store import inbox, outbox
from store.models import (
    Answer,
    FollowUp,
    Greeting,
    InboxEvent,
    MatchMember,
    OutboxMessage,
    Participant,
    Programme,
)
from store.photos import PhotoRejected, PhotoStore

log = logging.getLogger(__name__)
OPEN = ("active", "done")
# messages that ask something; one that cannot be delivered is asked again on the next channel
PROMPTS = frozenset({"question", "reprompt", "reminder", "consent", "greeting_invite"})


class Conversation:
    def __init__(self, book: SurveyBook, catalogue: Catalogue, photos: PhotoStore) -> None:
        self.book = book
        self.dialogue = Dialogue(book)
        self.catalogue = catalogue
        self.photos = photos

    async def start(self, session: AsyncSession, followup: FollowUp, now: datetime) -> str:
        """Ask the first question of a claimed follow-up; returns its new status."""
        participant = await session.get_one(Participant, followup.participant_id)
        if participant.opted_out_at is not None:
            followup.status = "opted_out"
            return followup.status
        reach = ladder(participant)
        if not reach:
            followup.status = "unreachable"
            return followup.status
        channel, address = reach[0]
        survey = self.book.surveys[followup.survey]
        turn = self.dialogue.start(survey)
        followup.status = "active"
        followup.step = turn.state.step
        followup.channel = channel
        followup.started_at = now
        followup.last_message_at = now
        await self._say(session, followup, participant, turn.say, channel, address, now)
        return followup.status

    async def fall_back(self, session: AsyncSession, failed: OutboxMessage, now: datetime) -> str:
        """A message failed for good on its channel: that channel is dead for the participant,
        and a question still open is asked again on the next channel of their ladder."""
        participant = await session.get_one(Participant, failed.participant_id)
        dead = {c for c in participant.dead_channels.split(",") if c} | {failed.channel}
        participant.dead_channels = ",".join(sorted(dead))
        if failed.followup_id is None or failed.kind not in PROMPTS:
            return "recorded"
        followup = await session.get_one(FollowUp, failed.followup_id)
        if followup.status not in OPEN or participant.opted_out_at is not None:
            return "recorded"
        reach = ladder(participant)
        if not reach:
            if followup.status == "active":
                followup.status = "unreachable"
            return "unreachable"
        channel, address = reach[0]
        followup.channel = channel
        followup.last_message_at = now
        survey = self.book.surveys[followup.survey]
        step = followup.step or survey.steps[0]
        first = step == survey.steps[0] and followup.step == survey.steps[0]
        says = self.dialogue.prompt(survey, step, first=first)
        await self._say(session, followup, participant, says, channel, address, now)
        return f"moved to {channel}"

    async def remind(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        """Ask the open question once more on the channel it went out on, as a reminder."""
        participant = await session.get_one(Participant, followup.participant_id)
        says = self._open_prompt(followup)
        channel = followup.channel
        address = address_for(participant, channel) if channel else None
        if not says or channel is None or not address:
            return False
        says = tuple(replace(s, kind="reminder") if s.kind == "question" else s for s in says)
        followup.last_message_at = now
        await self._say(session, followup, participant, says, channel, address, now)
        return True

    async def ask_on_next_channel(
        self, session: AsyncSession, followup: FollowUp, now: datetime
    ) -> str | None:
        """Ask the open question again, from the start, on the next channel of the ladder;
        returns that channel, or None when the participant has no other channel."""
        participant = await session.get_one(Participant, followup.participant_id)
        reach = ladder(participant)
        channels = [c for c, _ in reach]
        if followup.channel in channels:
            reach = reach[channels.index(followup.channel) + 1 :]
        else:
            # the current channel died: the ladder already starts at the next one
            reach = [(c, a) for c, a in reach if c != followup.channel]
        says = self._open_prompt(followup, first=True)
        if not reach or not says:
            return None
        channel, address = reach[0]
        followup.channel = channel
        followup.last_message_at = now
        await self._say(session, followup, participant, says, channel, address, now)
        return channel

    def _open_prompt(self, followup: FollowUp, first: bool = False) -> tuple[Say, ...]:
        survey = self.book.surveys[followup.survey]
        step = followup.step or survey.steps[0]
        if step not in survey.questions:
            return ()
        return self.dialogue.prompt(survey, step, first=first and step == survey.steps[0])

    async def receive(self, session: AsyncSession, message: InboundMessage, now: datetime) -> str:
        """Store an inbound message once and act on it; returns what became of it."""
        event = await inbox.record(
            session,
            channel=message.channel,
            provider_id=message.provider_id,
            sender=message.sender,
            text=message.text,
            payload={
                "button": message.button_value,
                "photos": len(message.photos),
                "photo_types": list(message.photo_types),
            },
            now=now,
        )
        if event is None:
            return "duplicate"
        event.outcome = await self._act(session, event, message, now)
        log.info("inbound %s event %s: %s", message.channel, event.id, event.outcome)
        return event.outcome

    async def _act(
        self, session: AsyncSession, event: InboxEvent, message: InboundMessage, now: datetime
    ) -> str:
        candidates = await self._participants(session, message.channel, message.sender)
        if not candidates:
            return "unknown_sender"
        followup, participant = await self._open_followup(session, candidates)
        event.participant_id = participant.id
        plain = message.button_value is None and not message.photos
        if plain and (is_stop(message.text) or is_start(message.text)):
            stop = is_stop(message.text)
            await self._opt(session, participant, stop, message, followup, now)
            return "opted_out" if stop else "opted_in"
        if followup is None:
            return "no_open_followup"
        event.followup_id = followup.id
        survey = self.book.surveys[followup.survey]
        state = State(followup.step or "", followup.resume_step, followup.reprompted)
        incoming = Incoming(message.text, message.button_value, len(message.photos))
        turn = self.dialogue.respond(survey, state, incoming)
        outcome = await self._apply(session, followup, participant, event, message, turn, now)
        return outcome

    async def _apply(
        self,
        session: AsyncSession,
        followup: FollowUp,
        participant: Participant,
        event: InboxEvent,
        message: InboundMessage,
        turn: Turn,
        now: datetime,
    ) -> str:
        say = turn.say
        if turn.greeting_photos:
            stored = []
            for data in message.photos:
                try:
                    stored.append(self.photos.save(data))
                except PhotoRejected as exc:
                    log.info("photo of inbound event %s rejected: %s", event.id, exc.reason)
            if not stored:
                # nothing usable came: keep the state, explain in their language
                await self._say(
                    session,
                    followup,
                    participant,
                    (Say("photo_rejected"),),
                    message.channel,
                    message.sender,
                    now,
                )
                return "photo_rejected"
            for photo in stored:
                session.add(
                    Greeting(
                        followup_id=followup.id,
                        participant_id=participant.id,
                        inbox_id=event.id,
                        words=turn.greeting_words or "",
                        photo_path=photo.path,
                        photo_type=photo.content_type,
                        created_at=now,
                    )
                )
        elif turn.greeting_words:
            session.add(
                Greeting(
                    followup_id=followup.id,
                    participant_id=participant.id,
                    inbox_id=event.id,
                    words=turn.greeting_words,
                    created_at=now,
                )
            )
        for question, value in turn.answers:
            await self._record_answer(session, followup, event, question, value, message, now)
        if turn.consent is not None:
            await session.execute(
                update(Greeting)
                .where(
                    Greeting.followup_id == followup.id,
                    Greeting.photo_path.is_not(None),
                    Greeting.consent.is_(None),
                )
                .values(consent=turn.consent, consent_at=now)
            )
        followup.step = turn.state.step
        followup.resume_step = turn.state.resume_step
        followup.reprompted = turn.state.reprompted
        followup.last_message_at = now
        if turn.answered_all and followup.status == "active":
            followup.status = "done"
            followup.finished_at = now
        await self._say(session, followup, participant, say, message.channel, message.sender, now)
        return turn.outcome

    async def _record_answer(
        self,
        session: AsyncSession,
        followup: FollowUp,
        event: InboxEvent,
        question: str,
        value: str,
        message: InboundMessage,
        now: datetime,
    ) -> None:
        existing = await session.scalar(
            select(Answer).where(Answer.followup_id == followup.id, Answer.question == question)
        )
        raw = message.text if message.button_value is None else message.button_value
        if existing is None:
            session.add(
                Answer(
                    followup_id=followup.id,
                    question=question,
                    value=value,
                    raw_text=raw,
                    channel=message.channel,
                    inbox_id=event.id,
                    answered_at=now,
                )
            )
        else:
            existing.value, existing.raw_text, existing.answered_at = value, raw, now
            existing.channel, existing.inbox_id = message.channel, event.id

    async def _opt(
        self,
        session: AsyncSession,
        participant: Participant,
        stop: bool,
        message: InboundMessage,
        followup: FollowUp | None,
        now: datetime,
    ) -> None:
        if stop:
            participant.opted_out_at = now
            # nothing already queued may go out after a stop, on any channel
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.participant_id == participant.id,
                    OutboxMessage.status == "pending",
                )
                .values(status="cancelled", last_error="participant opted out")
            )
        else:
            participant.opted_out_at = None
        kind = "opted_out" if stop else "opted_in"
        await self._say(
            session, followup, participant, (Say(kind),), message.channel, message.sender, now
        )

    async def _participants(
        self, session: AsyncSession, channel: str, sender: str
    ) -> Sequence[Participant]:
        column = {
            "telegram": Participant.telegram_chat_id,
            "sms": Participant.phone,
            "email": Participant.email,
        }.get(channel)
        if column is None:
            return []
        return (await session.scalars(select(Participant).where(column == sender))).all()

    async def _open_followup(
        self, session: AsyncSession, candidates: Sequence[Participant]
    ) -> tuple[FollowUp | None, Participant]:
        """The most recently asked open follow-up among the people behind one address."""
        ids = [p.id for p in candidates]
        followup = await session.scalar(
            select(FollowUp)
            .where(FollowUp.participant_id.in_(ids), FollowUp.status.in_(OPEN))
            .order_by(FollowUp.status.asc(), FollowUp.started_at.desc(), FollowUp.id.desc())
            .limit(1)
        )
        if followup is None:
            return None, candidates[0]
        return followup, next(p for p in candidates if p.id == followup.participant_id)

    async def _partners(self, session: AsyncSession, followup: FollowUp) -> str:
        names = await session.scalars(
            select(Participant.first_name)
            .join(MatchMember, MatchMember.participant_id == Participant.id)
            .where(
                MatchMember.match_id == followup.match_id,
                Participant.id != followup.participant_id,
            )
            .order_by(Participant.id)
        )
        return " & ".join(names)

    async def _say(
        self,
        session: AsyncSession,
        followup: FollowUp | None,
        participant: Participant,
        says: Sequence[Say],
        channel: str,
        address: str,
        now: datetime,
    ) -> None:
        if not says:
            return
        programme = await session.get_one(Programme, participant.programme_id)
        partner = await self._partners(session, followup) if followup is not None else ""
        for say in says:
            params: dict[str, object] = {
                "programme": programme.name,
                "first_name": participant.first_name,
            }
            # each kind takes exactly its own parameters; the renderer refuses others
            if say.kind == "question":
                params.update(
                    question=say.question, options=say.options, first=say.first, partner=partner
                )
            elif say.kind in ("reprompt", "reminder"):
                params.update(question=say.question, options=say.options)
            elif say.kind == "consent":
                params["options"] = say.options
            elif say.kind == "thanks_greeting":
                params["consent"] = say.consent
            rendered = self.catalogue.render(say.kind, participant.language, channel, **params)
            outbox.enqueue(
                session,
                programme_id=participant.programme_id,
                participant_id=participant.id,
                followup_id=followup.id if followup is not None else None,
                channel=channel,
                address=address,
                language=participant.language,
                kind=say.kind,
                question=say.question,
                payload={
                    "text": rendered.text,
                    "subject": rendered.subject,
                    "html": rendered.html,
                    "rtl": rendered.rtl,
                    "buttons": [asdict(b) for b in rendered.buttons],
                },
                now=now,
            )

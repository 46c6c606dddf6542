"""Where the pure dialogue meets the database: start a follow-up, take in what a participant sent.

Each call runs inside the caller's transaction, so the state change and the messages it causes are
committed together or not at all.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import InboundMessage
from bot.channels.sms import segments as sms_segments
from bot.dialogue import Dialogue, Incoming, Say, State, Turn
from bot.links import LinkMaker
from bot.reach import address_for, ladder
from bot.replies import is_start, is_stop
from bot.surveys import CONSENT, FINISHED, GREETING, SurveyBook
from messages.render import Catalogue, Rendered
from store import activities, answers, followups, greetings, inbox, notes, outbox, participants
from store.group_commit import PASS
from store.models import (
    Activity,
    FollowUp,
    Greeting,
    InboxEvent,
    Match,
    OutboxMessage,
    Participant,
    Programme,
)
from store.photos import PhotoRejected, PhotoStore, StoredPhoto
from store.vocabulary import (
    CHANNELS,
    NOTE_OUTCOMES,
    OPEN_FOLLOWUP,
    PROMPTS,
    FollowUpStatus,
    InboxOutcome,
    MessageKind,
)

log = logging.getLogger(__name__)
MAX_SMS_PARTS = 2
# a message of a follow-up that waited longer than this in the outbox is rendered again before
# it goes (its links and the weeks since the fika would be out of date) or dropped
VALIDITY = timedelta(days=1)
# the messages that ask a question with options: in an e-mail each option is a one-click link
ASKS = frozenset(
    {MessageKind.QUESTION, MessageKind.REPROMPT, MessageKind.REMINDER, MessageKind.CONSENT}
)
# the thank-yous, which suggest a few local activities
THANKS_KINDS = frozenset({MessageKind.THANKS, MessageKind.THANKS_GREETING})
# where `batch` leaves the partners' names of a batch in the session's `info`
PARTNERS_KEY = "fikafollow.partners"
LOADED_KEY = "fikafollow.loaded"
# (channel, address) → who is being asked there, for a prepared batch
ASKED_KEY = "fikafollow.asked_at"
# a deep link that binds the participant's Telegram chat, or None (bot/channels/telegram/links.py)
TelegramLinker = Callable[[AsyncSession, Participant, datetime], Awaitable[str | None]]


def activity_line(activity: Activity) -> str:
    """One suggestion as the coordinator wrote it: name, when, where, price."""
    details = ", ".join(v for v in (activity.when, activity.where, activity.price) if v)
    return f"{activity.name} ({details})" if details else activity.name


class Conversation:
    def __init__(
        self,
        book: SurveyBook,
        catalogue: Catalogue,
        photos: PhotoStore,
        telegram_linker: TelegramLinker | None = None,
    ) -> None:
        self.telegram_linker = telegram_linker
        self.book = book
        self.dialogue = Dialogue(book)
        self.catalogue = catalogue
        self.photos = photos
        # set when the service has a public address and a secret: e-mails then carry one-click
        # answer links, and e-mail and SMS a link to the upload page
        self.links: LinkMaker | None = None

    @asynccontextmanager
    async def batch(self, session: AsyncSession, batch: Sequence[FollowUp]) -> AsyncIterator[None]:
        """Around a pass starting or chasing these follow-ups one by one: load first, in a few
        statements, what writing to them needs (participants, matches, partners' names), and
        write their outbox rows at the end in one INSERT.

        Why: each lookup of its own also autoflushed the previous follow-up's outbox row and
        update, so a batch cost five round trips per follow-up; now nothing runs in between,
        and the commit updates the follow-ups in one executemany."""
        await self._prepare(session, batch)
        yield
        await outbox.write_held(session)
        session.info.pop(ASKED_KEY, None)

    async def _prepare(self, session: AsyncSession, batch: Sequence[FollowUp]) -> None:
        outbox.hold(session)
        if not batch:
            return
        match_ids = {f.match_id for f in batch}
        # held in the session's info: its identity map keeps objects only while someone
        # refers to them, and `session.get` must find them there
        loaded: list[object] = session.info.setdefault(LOADED_KEY, [])
        for programme_id in sorted({f.programme_id for f in batch}):
            loaded.append(await session.get_one(Programme, programme_id))
        people = await participants.load(session, {f.participant_id for f in batch})
        loaded += people
        # a shared address where someone else is being asked names whom a question is for:
        # those already asking there, and everyone this batch asks (started or chased now)
        addresses: dict[str, set[str]] = {}
        reached = [
            (person.id, channel, address)
            for person in people
            for channel in CHANNELS
            if (address := address_for(person, channel))
        ]
        for _, channel, address in reached:
            addresses.setdefault(channel, set()).add(address)
        asked = await participants.asked_at(session, addresses)
        for person_id, channel, address in reached:
            asked.setdefault((channel, address), set()).add(person_id)
        session.info[ASKED_KEY] = asked
        loaded += await participants.matches(session, match_ids)
        members = await participants.members_of_matches(session, match_ids)
        known: dict[tuple[int, int], list[str]] = session.info.setdefault(PARTNERS_KEY, {})
        for f in batch:
            known[(f.match_id, f.participant_id)] = [
                name for pid, name in members.get(f.match_id, ()) if pid != f.participant_id
            ]

    async def _others_asked(
        self, session: AsyncSession, channel: str, address: str, participant: Participant
    ) -> bool:
        asked: dict[tuple[str, str], set[int]] | None = session.info.get(ASKED_KEY)
        if asked is None:  # outside a prepared batch (a reply, a reprompt): ask the database
            return await participants.others_asked(session, channel, address, participant.id)
        return bool(asked.get((channel, address), set()) - {participant.id})

    async def start(
        self, session: AsyncSession, followup: FollowUp, now: datetime
    ) -> FollowUpStatus:
        """Ask the first question of a claimed follow-up; returns its new status."""
        participant = await session.get_one(Participant, followup.participant_id)
        if participant.opted_out_at is not None:
            followup.status = FollowUpStatus.OPTED_OUT
            return FollowUpStatus.OPTED_OUT
        reach = ladder(participant)
        if not reach:
            followup.status = FollowUpStatus.UNREACHABLE
            return FollowUpStatus.UNREACHABLE
        channel, address = reach[0]
        survey = self.book.surveys[followup.survey]
        turn = self.dialogue.start(survey)
        followup.status = FollowUpStatus.ACTIVE
        followup.step = turn.state.step
        followup.channel = channel
        followup.started_at = now
        followup.last_message_at = now
        await self._say(
            session, followup, participant, turn.say, channel, address, now, unprompted=True
        )
        return FollowUpStatus.ACTIVE

    async def failed_for_good(
        self, session: AsyncSession, failed: OutboxMessage, reason: str, now: datetime
    ) -> str:
        """Record that a message can never be delivered (a blocked bot, an invalid number, a
        provider's permanent error) and act on it (`fall_back`), in one transaction; returns what
        became of it. The sender and the delivery reports both come here."""
        if not await outbox.mark_failed(session, failed.id, reason):
            return "already recorded"
        return await self.fall_back(session, failed, now)

    async def fall_back(self, session: AsyncSession, failed: OutboxMessage, now: datetime) -> str:
        """A message failed for good on its channel: that channel is dead for the participant,
        and a question still open is asked again on the next channel of their ladder."""
        participant = await session.get_one(Participant, failed.participant_id)
        participant.mark_dead(failed.channel)
        if failed.followup_id is None or failed.kind not in PROMPTS:
            return "recorded"
        followup = await session.get_one(FollowUp, failed.followup_id)
        if followup.status not in OPEN_FOLLOWUP or participant.opted_out_at is not None:
            return "recorded"
        if followup.channel is not None and followup.channel != failed.channel:
            # the follow-up moved on already (a bounce can come back days later): it is asked
            # where it is now, not once more
            return "recorded"
        reach = ladder(participant)
        if not reach:
            if followup.status == FollowUpStatus.ACTIVE:
                followup.status = FollowUpStatus.UNREACHABLE
            return "unreachable"
        channel, address = reach[0]
        followup.channel = channel
        followup.last_message_at = now
        survey = self.book.surveys[followup.survey]
        step = followup.step or survey.steps[0]
        first = step == survey.steps[0] and followup.step == survey.steps[0]
        says = self.dialogue.prompt(survey, step, first=first)
        await self._say(
            session, followup, participant, says, channel, address, now, unprompted=True
        )
        return f"moved to {channel}"

    async def remind(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        """Ask the open question once more on the channel it went out on, as a reminder."""
        participant = await session.get_one(Participant, followup.participant_id)
        says = self._open_prompt(followup)
        channel = followup.channel
        address = address_for(participant, channel) if channel else None
        if not says or channel is None or not address:
            return False
        says = tuple(
            replace(s, kind=MessageKind.REMINDER) if s.kind == MessageKind.QUESTION else s
            for s in says
        )
        followup.last_message_at = now
        await self._say(
            session, followup, participant, says, channel, address, now, unprompted=True
        )
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
        await self._say(
            session, followup, participant, says, channel, address, now, unprompted=True
        )
        return channel

    def _open_prompt(self, followup: FollowUp, first: bool = False) -> tuple[Say, ...]:
        survey = self.book.surveys[followup.survey]
        step = followup.step or survey.steps[0]
        if step not in survey.questions:
            return ()
        return self.dialogue.prompt(survey, step, first=first and step == survey.steps[0])

    async def receive(
        self,
        session: AsyncSession,
        message: InboundMessage,
        now: datetime,
        followup_id: int | None = None,
    ) -> InboxOutcome:
        """Store an inbound message once and act on it; returns what became of it.

        `followup_id` is given when the channel already knows which follow-up the message
        answers (an e-mail reply's signed address or In-Reply-To); else the sender's address
        decides."""
        candidates: Sequence[Participant] = ()
        followup: FollowUp | None = None
        sender_id: int | None = None
        answers_id: int | None = None
        if followup_id is None:
            # who is behind the address and what they answer, before the event is stored: it is
            # then stored with what is known (a stranger's outcome; the sender and follow-up)
            # in its one insert, not inserted and then updated
            candidates, followup = await participants.at_address_answering(
                session, message.channel, message.sender
            )
            if candidates:
                sender_id = followup.participant_id if followup is not None else candidates[0].id
                if followup is not None and not _opts(message):
                    answers_id = followup.id
        stranger = followup_id is None and not candidates
        event = await inbox.record(
            session,
            channel=message.channel,
            provider_id=message.provider_id,
            sender=message.sender,
            text=message.text,
            payload=_stored_payload(message),
            now=now,
            outcome=InboxOutcome.UNKNOWN_SENDER if stranger else None,
            participant_id=sender_id,
            followup_id=answers_id,
        )
        if event is None:
            return InboxOutcome.DUPLICATE
        if followup_id is not None:
            outcome = await self._act_on_followup(session, event, message, followup_id, now)
        elif stranger:
            outcome = InboxOutcome.UNKNOWN_SENDER
        else:
            outcome = await self._act(session, event, message, candidates, followup, now)
        event.outcome = outcome
        if outcome in NOTE_OUTCOMES and event.text.strip():
            # nothing a participant says is lost: words that became no answer are kept to read
            programme_id = None
            if event.participant_id is not None:
                person = await session.get_one(Participant, event.participant_id)
                programme_id = person.programme_id
            notes.keep(session, event, programme_id, outcome, now)
        log.info("inbound %s event %s: %s", message.channel, event.id, outcome)
        return outcome

    async def receive_from_strangers(
        self, session: AsyncSession, items: Sequence[tuple[InboundMessage, datetime]]
    ) -> list[Any]:
        """A group's messages from addresses nobody is reached at, stored in one insert, as
        `receive` stores one (the outcome unknown_sender, its words kept as a note); PASS for
        the others, each then to `receive` alone. The inbound path's batch for a group commit:
        under load most webhooks are from nobody (a wrong number, a stranger, a benchmark)."""
        senders: dict[str, set[str]] = {}
        for message, _now in items:
            senders.setdefault(message.channel, set()).add(message.sender)
        known = {
            channel: await participants.known_addresses(session, channel, addresses)
            for channel, addresses in senders.items()
        }
        strangers: dict[tuple[str, str], int] = {}
        for index, (message, _now) in enumerate(items):
            if message.sender not in known[message.channel]:
                # the first of two with one id stores it; the second is its duplicate
                strangers.setdefault((message.channel, message.provider_id), index)
        stored = await inbox.record_many(
            session,
            [
                {
                    "channel": message.channel,
                    "provider_id": message.provider_id,
                    "sender": message.sender,
                    "text": message.text,
                    "payload": _stored_payload(message),
                    "received_at": now,
                    "outcome": InboxOutcome.UNKNOWN_SENDER,
                    "participant_id": None,
                    "followup_id": None,
                }
                for message, now in (items[index] for index in strangers.values())
            ],
        )
        results: list[Any] = []
        kept = []
        for index, (message, now) in enumerate(items):
            key = (message.channel, message.provider_id)
            if message.sender in known[message.channel]:
                results.append(PASS)
            elif strangers[key] != index or key not in stored:
                results.append(InboxOutcome.DUPLICATE)
            else:
                outcome = InboxOutcome.UNKNOWN_SENDER
                if outcome in NOTE_OUTCOMES and message.text.strip():
                    kept.append(
                        {
                            "programme_id": None,
                            "inbox_id": stored[key],
                            "participant_id": None,
                            "followup_id": None,
                            "channel": message.channel,
                            "text": message.text,
                            "reason": outcome,
                            "created_at": now,
                        }
                    )
                log.info("inbound %s event %s: %s", message.channel, stored[key], outcome)
                results.append(outcome)
        await notes.keep_many(session, kept)
        return results

    async def _act(
        self,
        session: AsyncSession,
        event: InboxEvent,
        message: InboundMessage,
        candidates: Sequence[Participant],
        followup: FollowUp | None,
        now: datetime,
    ) -> InboxOutcome:
        """Act on a message from `candidates` (not empty), answering `followup` if open."""
        if followup is None:
            participant = candidates[0]
        else:
            participant = next(p for p in candidates if p.id == followup.participant_id)
        event.participant_id = participant.id
        if _opts(message):
            stop = is_stop(message.text)
            await self._opt(session, participant, candidates, stop, message, followup, now)
            return InboxOutcome.OPTED_OUT if stop else InboxOutcome.OPTED_IN
        if followup is None:
            expired = await followups.latest_expired(session, [p.id for p in candidates])
            if expired is None:
                return InboxOutcome.NO_OPEN_FOLLOWUP
            person = next(p for p in candidates if p.id == expired.participant_id)
            event.participant_id = person.id
            return await self._late(session, event, message, person, expired, now)
        event.followup_id = followup.id
        others = [p.id for p in candidates if p.id != followup.participant_id]
        if others and await followups.any_active(session, others):
            # a shared phone where several are being asked: the answer counts for the latest
            # question, and the family is told which fika that was so they can set it right
            await self._say(
                session,
                followup,
                participant,
                (Say(MessageKind.ANSWERED_FOR),),
                message.channel,
                message.sender,
                now,
            )
        survey = self.book.surveys[followup.survey]
        state = State(followup.step or "", followup.resume_step, followup.reprompted)
        incoming = Incoming(
            message.text, message.button_value, len(message.photos), participant.language
        )
        turn = self.dialogue.respond(survey, state, incoming)
        outcome = await self._apply(session, followup, participant, event, message, turn, now)
        return outcome

    async def _act_on_followup(
        self,
        session: AsyncSession,
        event: InboxEvent,
        message: InboundMessage,
        followup_id: int,
        now: datetime,
    ) -> InboxOutcome:
        followup = await session.get_one(FollowUp, followup_id)
        participant = await session.get_one(Participant, followup.participant_id)
        event.participant_id = participant.id
        # what we say back goes to the address we know, not to wherever the reply came from
        if message.channel == "email" and participant.email:
            message = replace(message, sender=participant.email)
        if _opts(message):
            stop = is_stop(message.text)
            # everyone on the address the reply names: a family may share one mailbox
            sharing = (
                await participants.at_address(session, "email", participant.email)
                if message.channel == "email" and participant.email
                else ()
            )
            await self._opt(session, participant, sharing, stop, message, followup, now)
            return InboxOutcome.OPTED_OUT if stop else InboxOutcome.OPTED_IN
        if followup.status == FollowUpStatus.EXPIRED:
            return await self._late(session, event, message, participant, followup, now)
        if followup.status not in OPEN_FOLLOWUP:
            return InboxOutcome.NO_OPEN_FOLLOWUP
        event.followup_id = followup.id
        survey = self.book.surveys[followup.survey]
        state = State(followup.step or "", followup.resume_step, followup.reprompted)
        incoming = Incoming(
            message.text, message.button_value, len(message.photos), participant.language
        )
        turn = self.dialogue.respond(survey, state, incoming)
        return await self._apply(session, followup, participant, event, message, turn, now)

    async def _late(
        self,
        session: AsyncSession,
        event: InboxEvent,
        message: InboundMessage,
        participant: Participant,
        followup: FollowUp,
        now: datetime,
    ) -> InboxOutcome:
        """A reply after the follow-up expired: what it answers is recorded (marked late) and
        thanked, and the person leaves the call list; anything else is kept as a note."""
        event.followup_id = followup.id
        survey = self.book.surveys[followup.survey]
        state = State(followup.step or survey.steps[0], followup.resume_step, followup.reprompted)
        incoming = Incoming(
            message.text, message.button_value, len(message.photos), participant.language
        )
        turn = self.dialogue.respond(survey, state, incoming)
        if not turn.answers:
            return InboxOutcome.NO_OPEN_FOLLOWUP
        for question, value in turn.answers:
            await answers.record(
                session,
                followup_id=followup.id,
                question=question,
                value=value,
                raw_text=message.text if message.button_value is None else message.button_value,
                channel=message.channel,
                inbox_id=event.id,
                now=now,
                late=True,
            )
        # the call list holds expired follow-ups: one that was answered is done, late or not
        followup.status = FollowUpStatus.DONE
        followup.last_message_at = now
        await self._say(
            session,
            followup,
            participant,
            (Say(MessageKind.THANKS),),
            message.channel,
            message.sender,
            now,
        )
        return InboxOutcome.LATE_ANSWER

    async def answer_directly(
        self,
        session: AsyncSession,
        followup: FollowUp,
        question: str,
        value: str,
        now: datetime,
        channel: str = "email",
    ) -> InboxOutcome:
        """An answer given on a web page (a one-click link): recorded, or changed if given
        before; when it answers the step being asked, the dialogue moves on as for a button."""
        survey = self.book.surveys[followup.survey]
        if value not in self.dialogue.options_for(survey, question):
            raise ValueError(f"{value!r} is not an option of {question!r}")
        participant = await session.get_one(Participant, followup.participant_id)
        if participant.opted_out_at is not None:
            return InboxOutcome.OPTED_OUT
        message = InboundMessage(
            channel=channel,
            provider_id=f"link-{followup.id}-{secrets.token_hex(8)}",
            sender=participant.email or "",
            button_value=f"{question}={value}",
        )
        event = await inbox.record(
            session,
            channel=channel,
            provider_id=message.provider_id,
            sender=message.sender,
            text="",
            payload={"button": message.button_value, "via": "link"},
            now=now,
        )
        if event is None:  # a random id cannot repeat; kept for the type checker
            return InboxOutcome.DUPLICATE
        event.participant_id, event.followup_id = participant.id, followup.id
        if followup.status in OPEN_FOLLOWUP and followup.step == question:
            state = State(followup.step, followup.resume_step, followup.reprompted)
            turn = self.dialogue.respond(survey, state, Incoming(button=message.button_value))
            outcome = await self._apply(session, followup, participant, event, message, turn, now)
            event.outcome = outcome
            return outcome
        # an earlier answer changed: recorded, and nothing is asked again
        if question == CONSENT:
            await greetings.give_consent(session, followup.id, value, now, change=True)
        else:
            await self._record_answer(session, followup, event, question, value, message, now)
        event.outcome = InboxOutcome.ANSWER_CHANGED
        return InboxOutcome.ANSWER_CHANGED

    async def add_greeting(
        self,
        session: AsyncSession,
        followup: FollowUp,
        photo: StoredPhoto | None,
        words: str,
        consent: str | None,
        now: datetime,
    ) -> Greeting:
        """A fikahälsning from the upload page: photo, words and the consent given with them."""
        greeting = greetings.add(
            session,
            followup_id=followup.id,
            participant_id=followup.participant_id,
            words=words,
            photo=photo,
            consent=consent,
            now=now,
        )
        # the page asked the consent question itself: the invitation is answered
        if followup.step == GREETING and followup.resume_step is None:
            followup.step = FINISHED
            followup.last_message_at = now
            if followup.status == FollowUpStatus.ACTIVE:
                followup.status = FollowUpStatus.DONE
                followup.finished_at = now
        return greeting

    async def unsubscribe(
        self, session: AsyncSession, participant: Participant, now: datetime
    ) -> None:
        """The one-click unsubscribe (RFC 8058): no more messages, and no message to say so."""
        if participant.opted_out_at is None:
            participant.opted_out_at = now
        await outbox.cancel_pending(session, participant.id, "participant unsubscribed")

    async def _apply(
        self,
        session: AsyncSession,
        followup: FollowUp,
        participant: Participant,
        event: InboxEvent,
        message: InboundMessage,
        turn: Turn,
        now: datetime,
    ) -> InboxOutcome:
        say = turn.say
        if turn.greeting_photos:
            stored = []
            for data in message.photos:
                try:
                    stored.append(await self.photos.save(data, session))
                except PhotoRejected as exc:
                    log.info("photo of inbound event %s rejected: %s", event.id, exc.reason)
            if not stored:
                # nothing usable came: keep the state, explain in their language
                await self._say(
                    session,
                    followup,
                    participant,
                    (Say(MessageKind.PHOTO_REJECTED),),
                    message.channel,
                    message.sender,
                    now,
                )
                return InboxOutcome.PHOTO_REJECTED
            for photo in stored:
                greetings.add(
                    session,
                    followup_id=followup.id,
                    participant_id=participant.id,
                    inbox_id=event.id,
                    words=turn.greeting_words or "",
                    photo=photo,
                    now=now,
                )
        elif turn.greeting_words:
            greetings.add(
                session,
                followup_id=followup.id,
                participant_id=participant.id,
                inbox_id=event.id,
                words=turn.greeting_words,
                now=now,
            )
        for question, value in turn.answers:
            await self._record_answer(session, followup, event, question, value, message, now)
        if turn.consent is not None:
            await greetings.give_consent(session, followup.id, turn.consent, now, change=False)
        followup.step = turn.state.step
        followup.resume_step = turn.state.resume_step
        followup.reprompted = turn.state.reprompted
        followup.last_message_at = now
        if turn.answered_all and followup.status == FollowUpStatus.ACTIVE:
            followup.status = FollowUpStatus.DONE
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
        await answers.record(
            session,
            followup_id=followup.id,
            question=question,
            value=value,
            raw_text=message.text if message.button_value is None else message.button_value,
            channel=message.channel,
            inbox_id=event.id,
            now=now,
        )

    async def _opt(
        self,
        session: AsyncSession,
        participant: Participant,
        sharing: Sequence[Participant],
        stop: bool,
        message: InboundMessage,
        followup: FollowUp | None,
        now: datetime,
    ) -> None:
        """A STOP or START from an address is for everyone reached there (a family's shared
        phone, mailbox or chat is one recipient); it is confirmed once, naming none of them."""
        everyone = {p.id: p for p in (participant, *sharing)}
        for person in everyone.values():
            if stop:
                person.opted_out_at = person.opted_out_at or now
                # nothing already queued may go out after a stop, on any channel
                await outbox.cancel_pending(session, person.id, "participant opted out")
            else:
                person.opted_out_at = None
                # a start that arrived on a channel proves the channel works again (an SMS
                # number Twilio refused as unsubscribed, 21610, is open once its owner texts
                # START)
                person.revive(message.channel)
        kind = MessageKind.OPTED_OUT if stop else MessageKind.OPTED_IN
        await self._say(
            session, followup, participant, (Say(kind),), message.channel, message.sender, now
        )

    async def linked(
        self, session: AsyncSession, participant: Participant, chat: str, now: datetime
    ) -> None:
        """A participant linked their Telegram chat: greet them there, and move a follow-up that
        is waiting for an answer elsewhere to Telegram by asking its open question again."""
        await self._say(
            session, None, participant, (Say(MessageKind.TELEGRAM_LINKED),), "telegram", chat, now
        )
        if participant.opted_out_at is not None:
            return
        followup = await followups.latest_active(session, participant.id)
        if followup is None:
            return
        survey = self.book.surveys[followup.survey]
        followup.channel = "telegram"
        followup.last_message_at = now
        says = self.dialogue.prompt(survey, followup.step or survey.steps[0])
        await self._say(session, followup, participant, says, "telegram", chat, now)

    async def _render_question(
        self,
        session: AsyncSession,
        participant: Participant,
        channel: str,
        params: dict[str, object],
        now: datetime,
    ) -> Rendered:
        # someone who chose Telegram but never opened the bot is asked elsewhere, with the link
        # that binds their chat -- in an SMS only where it still fits in two parts
        rendered = self.catalogue.render(
            MessageKind.QUESTION, participant.language, channel, **params
        )
        wants_link = (
            self.telegram_linker is not None
            and params.get("first")
            and channel != "telegram"
            and participant.channel == "telegram"
            and participant.telegram_chat_id is None
        )
        if not wants_link or self.telegram_linker is None:
            return rendered
        link = await self.telegram_linker(session, participant, now)
        if link is None:
            return rendered
        linked = self.catalogue.render(
            MessageKind.QUESTION, participant.language, channel, telegram_link=link, **params
        )
        if channel == "sms" and sms_segments.segments(linked.text) > MAX_SMS_PARTS:
            log.info("telegram link left out of a %s SMS: no room", participant.language)
            return rendered
        return linked

    async def _render_thanks(
        self,
        session: AsyncSession,
        followup: FollowUp,
        participant: Participant,
        kind: MessageKind,
        channel: str,
        params: dict[str, object],
    ) -> Rendered:
        """The thank-you with a few local activities that fit the match (a kind nudge first for
        someone who has not met again); in an SMS only as many as fit in two parts."""
        suggestion = await activities.for_followup(session, followup)
        lines = [activity_line(a) for a in suggestion.activities]
        if channel == "sms" and lines and self.links is not None:
            whole = self.catalogue.render(
                kind,
                participant.language,
                channel,
                activities=tuple(lines),
                nudge=suggestion.nudge,
                **params,
            )
            if sms_segments.segments(whole.text) <= MAX_SMS_PARTS:
                return whole
            # no room for the list: a link to a page with it, in their language
            linked = self.catalogue.render(
                kind,
                participant.language,
                channel,
                activities_url=self.links.activities_url(followup.id),
                **params,
            )
            if sms_segments.segments(linked.text) <= MAX_SMS_PARTS:
                return linked
        for count in range(len(lines), -1, -1):
            rendered = self.catalogue.render(
                kind,
                participant.language,
                channel,
                activities=tuple(lines[:count]),
                nudge=suggestion.nudge,
                **params,
            )
            if channel != "sms" or sms_segments.segments(rendered.text) <= MAX_SMS_PARTS:
                return rendered
        return rendered

    async def partners(self, session: AsyncSession, followup: FollowUp) -> str:
        """The names of the others in the follow-up's match, as the messages show them."""
        known = session.info.get(PARTNERS_KEY, {}).get((followup.match_id, followup.participant_id))
        names = (
            known
            if known is not None
            else await participants.partner_names(
                session, followup.match_id, followup.participant_id
            )
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
        unprompted: bool = False,
    ) -> None:
        """Write what is said into the outbox; `unprompted` when we write first (a start, a
        reminder, the next channel), not in answer to what the participant just sent."""
        for say in says:
            payload = await self._payload(
                session, followup, participant, say, channel, address, now
            )
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
                payload=payload,
                now=now,
                unprompted=unprompted,
                valid_until=now + VALIDITY if followup is not None else None,
            )

    async def _payload(
        self,
        session: AsyncSession,
        followup: FollowUp | None,
        participant: Participant,
        say: Say,
        channel: str,
        address: str,
        now: datetime,
    ) -> dict[str, object]:
        """One message rendered for the outbox, with the links and headers valid at `now`."""
        programme = await session.get_one(Programme, participant.programme_id)
        partner = await self.partners(session, followup) if followup is not None else ""
        params: dict[str, object] = {
            "programme": programme.name,
            "first_name": participant.first_name,
        }
        # each kind takes exactly its own parameters; the renderer refuses others
        if say.kind == MessageKind.QUESTION:
            params.update(
                question=say.question, options=say.options, first=say.first, partner=partner
            )
            if say.first and followup is not None:
                params["weeks"] = await self._weeks_since_fika(session, followup, programme, now)
            # the survey's own opening, and the wording for the participant's role
            params.update(survey=followup.survey if followup else None, role=participant.role)
        elif say.kind in (MessageKind.REPROMPT, MessageKind.REMINDER):
            params.update(question=say.question, options=say.options, role=participant.role)
        elif say.kind == MessageKind.CONSENT:
            params["options"] = say.options
        elif say.kind == MessageKind.THANKS_GREETING:
            params["consent"] = say.consent
        elif say.kind == MessageKind.ANSWERED_FOR:
            params["partner"] = partner
        if say.kind in ASKS and await self._others_asked(session, channel, address, participant):
            # a family's shared phone, mailbox or chat where more than one is being asked: the
            # question says whom it is for (the answer still counts for the latest asked)
            params["named"] = True
        extra = self._link_params(say, followup, channel, now)
        params.update(extra)
        if say.kind == MessageKind.QUESTION:
            rendered = await self._render_question(session, participant, channel, params, now)
        elif say.kind in THANKS_KINDS and followup is not None:
            rendered = await self._render_thanks(
                session, followup, participant, say.kind, channel, params
            )
        else:
            rendered = self.catalogue.render(say.kind, participant.language, channel, **params)
        if channel == "sms" and extra and sms_segments.segments(rendered.text) > MAX_SMS_PARTS:
            # a long public address would make a third SMS part: the link is left out
            for key in extra:
                params.pop(key)
            rendered = self.catalogue.render(say.kind, participant.language, channel, **params)
        return {
            "text": rendered.text,
            "subject": rendered.subject,
            "html": rendered.html,
            "rtl": rendered.rtl,
            "buttons": [asdict(b) for b in rendered.buttons],
            # what a re-rendering needs to say the same again (`refresh`)
            "first": say.first,
            **self._mail_headers(followup, participant, channel, now),
        }

    async def _weeks_since_fika(
        self, session: AsyncSession, followup: FollowUp, programme: Programme, now: datetime
    ) -> int:
        """How many whole weeks ago the first fika really was, in the programme's zone."""
        # the match is usually in the session already (the partners' names were read from it)
        matched_on = (await session.get_one(Match, followup.match_id)).matched_on
        today = now.astimezone(ZoneInfo(programme.timezone)).date()
        return max((today - matched_on).days // 7, 1)

    async def refresh(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> bool:
        """A prompt waited past its validity: render it again as it would be written now
        (current links, headers, reply address, how long ago the fika was) and keep it valid
        a while longer; False when it is not worth sending any more (the caller cancels it)."""
        if row.followup_id is None:
            return True
        followup = await session.get_one(FollowUp, row.followup_id)
        participant = await session.get_one(Participant, row.participant_id)
        survey = self.book.surveys[followup.survey]
        if row.question is not None and row.question != followup.step:
            return False
        options = self.dialogue.options_for(survey, row.question) if row.question else ()
        say = Say(
            MessageKind(row.kind),
            question=row.question,
            options=options,
            first=bool(row.payload.get("first")),
        )
        row.payload = await self._payload(
            session, followup, participant, say, row.channel, row.address, now
        )
        row.valid_until = now + VALIDITY
        return True

    def _link_params(
        self, say: Say, followup: FollowUp | None, channel: str, now: datetime
    ) -> dict[str, object]:
        """Links for the renderer: answer links in e-mail, the upload page in e-mail and SMS."""
        if self.links is None or followup is None:
            return {}
        if say.kind in ASKS and channel == "email":
            question = say.question or CONSENT
            return {"link_urls": self.links.answer_urls(followup.id, question, say.options, now)}
        if say.kind == MessageKind.GREETING_INVITE and channel in ("email", "sms"):
            return {"upload_url": self.links.upload_url(followup.id)}
        return {}

    def _mail_headers(
        self, followup: FollowUp | None, participant: Participant, channel: str, now: datetime
    ) -> dict[str, str]:
        if self.links is None or channel != "email":
            return {}
        headers = {"unsubscribe_url": self.links.unsubscribe_url(participant.id, now)}
        if followup is not None:
            headers["reply_token"] = self.links.signer.reply_token(followup.id)
        return headers


def _opts(message: InboundMessage) -> bool:
    """Whether the message opts out or back in (STOP, START), rather than answering."""
    plain = message.button_value is None and not message.photos
    return plain and (is_stop(message.text) or is_start(message.text))


def _stored_payload(message: InboundMessage) -> dict[str, object]:
    """What the inbox keeps of a message beside its text: never the photos' bytes."""
    return {
        "button": message.button_value,
        "photos": len(message.photos),
        "photo_types": list(message.photo_types),
    }

"""The one way in from the channels: each call is one unit of work that hands to the conversation.

A channel's receive side reads its provider's wire format and calls `ConversationInbound` (the
`Inbound` interface of `bot/channels/base.py`); it runs no SQL and never sees the conversation.
Here the events are stored (once, by the provider's id), the store is asked what the channel
needs to know, and the conversation acts, all in one unit of work: its own SAVEPOINT in a
transaction that concurrent calls share (`store/group_commit.py`), and each call returns only
once that transaction has committed.

Most webhooks under load are from addresses nobody is reached at (a wrong number, a stranger,
a benchmark): the group's messages are first looked up together, and those from nobody are
stored in one insert, with their words kept as notes (`Conversation.receive_from_strangers`,
beside `Conversation.receive`, which stores a stranger's alone the same way); the rest go to the
conversation each in its own unit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import DELIVERY_RANK, Bounce, DeliveryReport, InboundMessage
from bot.conversation import Conversation
from bot.reach import address_for
from messages.render import LANGUAGES, Catalogue
from store import inbox, outbox, telegram_links
from store.group_commit import GroupCommit
from store.models import Participant
from store.vocabulary import InboxOutcome

log = logging.getLogger(__name__)


class ConversationInbound:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        conversation: Conversation,
        catalogue: Catalogue,
        programme_name: str,
        commits: GroupCommit | None = None,
    ) -> None:
        self.sessions = sessions
        self.commits = commits if commits is not None else GroupCommit(sessions)
        self.conversation = conversation
        self.catalogue = catalogue
        self.programme_name = programme_name

    async def receive(
        self, message: InboundMessage, now: datetime, *, followup_id: int | None = None
    ) -> str:
        async def work(session: AsyncSession) -> str:
            outcome = await self.conversation.receive(
                session, message, now, followup_id=followup_id
            )
            if outcome == "opted_in" and message.channel == "telegram":
                # whoever blocked the bot and now starts it again can be reached there again,
                # everyone behind that chat
                await telegram_links.reopen_chat(session, message.sender)
            return outcome

        if followup_id is not None:
            return await self.commits.run(work)
        return await self.commits.run(
            work, batch=self.conversation.receive_from_strangers, item=(message, now)
        )

    async def delivery_report(self, report: DeliveryReport, now: datetime) -> str:
        async def work(session: AsyncSession) -> str:
            row = await outbox.by_provider_id(session, report.channel, report.provider_id)
            if row is None:
                log.info("delivery report for a message not in the outbox")
                return "unknown"
            if DELIVERY_RANK[report.status] >= DELIVERY_RANK.get(row.delivery_status or "", -1):
                outbox.note_delivery(row, report.status, report.error, now)
            if report.permanent is None:
                return "noted"
            # the address is dead for this channel: the next channel of the ladder takes over,
            # in the same transaction as the record (once, however many reports say so)
            outcome = await self.conversation.failed_for_good(session, row, report.permanent, now)
            log.info("outbox %s undeliverable (%s): %s", row.id, report.error, outcome)
            return outcome

        return await self.commits.run(work)

    async def bounce(self, bounce: Bounce, now: datetime) -> str:
        async with self.sessions.begin() as session:
            event = await inbox.record(
                session,
                channel=bounce.channel,
                provider_id=bounce.provider_id,
                # the notification's sender is a mail server, its words the server's: neither
                # is anything a participant said
                sender="",
                text="",
                payload={"bounce": bounce.status, "permanent": bounce.permanent},
                now=now,
            )
            if event is None:
                return InboxOutcome.DUPLICATE
            row = await outbox.returned(
                session, bounce.channel, bounce.original_ids, bounce.followup_id, bounce.recipients
            )
            if row is None:
                event.outcome = InboxOutcome.BOUNCE_UNMATCHED
                log.info("bounce %s event %s: no message of ours", bounce.status, event.id)
                return event.outcome
            event.participant_id = row.participant_id
            event.followup_id = row.followup_id
            if not bounce.permanent:
                # a delay: the server keeps trying, and nothing is condemned
                event.outcome = InboxOutcome.DELAYED
                log.info("bounce %s event %s: outbox %s delayed", bounce.status, event.id, row.id)
                return event.outcome
            outbox.note_delivery(row, "failed", bounce.status, now)
            # the reason as the call list shows it ("E-mail not possible: mailbox does not exist")
            reason = f"bounce {bounce.status}: {bounce.reason}"
            person = await session.get_one(Participant, row.participant_id)
            if address_for(person, row.channel) != row.address:
                # a late bounce of an address the person no longer has: the new one is not dead
                await outbox.mark_failed(session, row.id, reason)
                outcome = "old address"
            else:
                outcome = await self.conversation.failed_for_good(session, row, reason, now)
            event.outcome = InboxOutcome.BOUNCED
            log.info("bounce %s event %s: outbox %s %s", bounce.status, event.id, row.id, outcome)
        return event.outcome

    async def link(self, message: InboundMessage, token: str, now: datetime) -> str:
        async def work(session: AsyncSession) -> tuple[int, str]:
            event = await inbox.record(
                session,
                channel=message.channel,
                provider_id=message.provider_id,
                sender=message.sender,
                text=message.text,
                payload={"link": True},
                now=now,
            )
            if event is None:
                return 0, "duplicate"
            participant = await telegram_links.redeem(session, token, now)
            if participant is None:
                event.outcome = "link_unknown"
            else:
                telegram_links.bind_chat(participant, message.sender, now)
                event.participant_id = participant.id
                event.outcome = "linked"
                await self.conversation.linked(session, participant, message.sender, now)
            return event.id, event.outcome

        event_id, outcome = await self.commits.run(work)
        if outcome != "duplicate":
            log.info("inbound %s event %s: %s", message.channel, event_id, outcome)
        return outcome

    async def seen(self, channel: str, provider_id: str) -> bool:
        async with self.sessions() as session:
            return await inbox.seen(session, channel, provider_id)

    async def replied_to(self, provider_ids: Sequence[str]) -> int | None:
        if not provider_ids:
            return None
        async with self.sessions() as session:
            return await outbox.followup_replied_to(session, provider_ids)

    def stranger_reply(self, channel: str, language: str) -> str:
        # in their language if we have it, else in English and Swedish
        languages = [language] if language in LANGUAGES else ["en", "sv"]
        return "\n\n".join(
            self.catalogue.render(
                "link_unknown", lang, channel, programme=self.programme_name, first_name=""
            ).text
            for lang in languages
        )

"""The tables. Times are stored as UTC and always come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.vocabulary import CLAIMABLE_OUTBOX, FollowUpStatus, OutboxStatus

# the rows of the outbox's partial index: those a sender may claim
_CLAIMABLE = ", ".join(f"'{status}'" for status in CLAIMABLE_OUTBOX)
OPEN_OUTBOX_SQL = f"status IN ({_CLAIMABLE})"
# the rows of the outbox's other partial index: those whose body the retention pass has not
# erased yet (written out, as above, so that SQLite matches the index to the query)
KEPT_OUTBOX_SQL = "erased_at IS NULL"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite keeps no zone; store naive UTC everywhere and hand back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Programme(Base):
    __tablename__ = "programme"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    send_hour: Mapped[int] = mapped_column(Integer, default=10)
    # minutes after local midnight; start > end means the quiet time spans midnight
    quiet_start: Mapped[int] = mapped_column(Integer, default=20 * 60)
    quiet_end: Mapped[int] = mapped_column(Integer, default=9 * 60)
    surveys: Mapped[str] = mapped_column(String(200), default="three_weeks")
    created_at: Mapped[datetime]
    # chasing: a reminder after reminder_days without an answer, the next channel ladder_days
    # later, and the call list once expire_days have passed since the first question
    reminder_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    ladder_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    expire_days: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    # the funder's targets; 0 means none set
    target_individual: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    target_family: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    target_women_percent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # at most this many follow-ups start per local day, oldest match first, so a large backlog
    # is spread over days instead of flooding the providers (and the coordinators) at once
    daily_cap: Mapped[int] = mapped_column(Integer, default=1000, server_default="1000")
    # the send calendar (store/send_calendar.py): no conversation starts on Swedish holidays and
    # eves, Sundays or Friday midday; and, set by a coordinator, not on Ramadan evenings
    send_calendar: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ramadan_evenings: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # with ramadan_evenings: kept only for participants whose language's data file hints that
    # Ramadan matters (messages/locale/<code>/language.toml, ramadan_hint), not for everyone
    ramadan_by_language: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programme.id"))
    # sha256 of a 256-bit random key: a slow hash buys nothing for keys nobody can guess
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Participant(Base):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("programme_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programme.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    gender: Mapped[str | None] = mapped_column(String(10))
    # a family's children's ages, "3,7" (store.intake), for the activities suggested to a
    # family match; "" when not given
    children_ages: Mapped[str] = mapped_column(String(100), default="", server_default="")
    telegram_chat_id: Mapped[str | None] = mapped_column(String(40), index=True)
    # channels that failed for good (blocked bot, invalid number …), comma-separated and sorted;
    # the ladder skips them. Read and written through the methods below, not by hand.
    dead_channels: Mapped[str] = mapped_column(String(100), default="")
    opted_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def dead(self) -> frozenset[str]:
        """The channels that failed for good for this participant."""
        return frozenset(c for c in (self.dead_channels or "").split(",") if c)

    def is_dead(self, channel: str) -> bool:
        return channel in self.dead()

    def mark_dead(self, channel: str) -> None:
        """The channel failed for good (a blocked bot, an invalid number): the ladder skips it."""
        self.dead_channels = ",".join(sorted(self.dead() | {channel}))

    def revive(self, channel: str) -> None:
        """The channel proved to work again (a START, a new Telegram link)."""
        self.dead_channels = ",".join(sorted(self.dead() - {channel}))


class Match(Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("programme_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programme.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    matched_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MatchMember(Base):
    __tablename__ = "match_member"

    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id"), primary_key=True, index=True
    )


class FollowUp(Base):
    __tablename__ = "followup"
    __table_args__ = (
        UniqueConstraint("match_id", "participant_id", "survey"),
        Index("ix_followup_status_due", "status", "due_at"),
        Index("ix_followup_participant_status", "participant_id", "status"),
        # the chase claim and the daily cap's count, each run every tick
        Index("ix_followup_chase", "status", "chase_stage", "last_delivered_at"),
        Index("ix_followup_programme_started", "programme_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programme.id"))
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    survey: Mapped[str] = mapped_column(String(50))
    due_at: Mapped[datetime]
    # a FollowUpStatus (store/vocabulary.py, which draws the transitions)
    status: Mapped[str] = mapped_column(String(20), default=FollowUpStatus.SCHEDULED)
    step: Mapped[str | None] = mapped_column(String(50))
    # the step a photo interrupted, to go back to once consent is given
    resume_step: Mapped[str | None] = mapped_column(String(50))
    reprompted: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # a ChaseStage: 0 = only asked, 1 = reminded, 2 = asked again on the next channel
    chase_stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_chased_at: Mapped[datetime | None]
    # a coordinator phoned about this expired follow-up; it leaves the call list
    called_at: Mapped[datetime | None]
    # the clocks run from delivery, not from queueing: when a provider first accepted a question
    # of this follow-up (the expiry clock; NULL while it waits for a channel: "waiting"), and
    # when it last accepted one (the clock of the next reminder or ladder step)
    asked_at: Mapped[datetime | None]
    last_delivered_at: Mapped[datetime | None]


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # the claim's OR (pending and due, or a lease run out) defeats a (status, …) index on
        # SQLite: with a million sent rows it scanned them all. This index holds only the open
        # rows, in the order a claim takes them.
        Index(
            "ix_outbox_open",
            "channel",
            "id",
            sqlite_where=text(OPEN_OUTBOX_SQL),
            postgresql_where=text(OPEN_OUTBOX_SQL),
        ),
        # the retention pass's question, "old and not erased yet": an erased row leaves the
        # index, so no pass reads it again
        Index(
            "ix_outbox_kept",
            "created_at",
            sqlite_where=text(KEPT_OUTBOX_SQL),
            postgresql_where=text(KEPT_OUTBOX_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programme.id"))
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followup.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(40))  # a MessageKind
    question: Mapped[str | None] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]]
    # an OutboxStatus (store/vocabulary.py, which draws the transitions)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    # indexed: an e-mail reply's In-Reply-To and a provider's delivery report find the message by it
    provider_id: Mapped[str | None] = mapped_column(String(200), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # what the provider later reported (SMS: queued, sent, delivered, undelivered, failed) and
    # its error code; "sent" above only means the provider accepted the message
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_error: Mapped[str | None] = mapped_column(String(20))
    delivery_at: Mapped[datetime | None]
    # written on our own initiative (a follow-up's start, a reminder, the next channel), not in
    # answer to something the participant just sent: held to the send hour, quiet hours and
    # one a local day
    unprompted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # when the body (payload) was erased, by the retention pass or a request to be forgotten
    erased_at: Mapped[datetime | None]
    # a prompt that waited past this is rendered again (current links, headers, how long ago
    # the fika was) or dropped by the sender; NULL: valid as long as it waits
    valid_until: Mapped[datetime | None]


class InboxEvent(Base):
    """One inbound event exactly as received, stored once per provider id."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(320))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followup.id"), index=True)
    # what became of it: an InboxOutcome (store/vocabulary.py)
    outcome: Mapped[str | None] = mapped_column(String(40))


class Note(Base):
    """Words a participant sent that became no answer and no greeting (not understood, after
    the last question, after expiry, from an unknown address): kept for a coordinator to read."""

    __tablename__ = "note"
    __table_args__ = (Index("ix_note_programme_read", "programme_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL for an unknown sender whose programme cannot be told
    programme_id: Mapped[str | None] = mapped_column(ForeignKey("programme.id"))
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id"), unique=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followup.id"))
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    # the InboxOutcome that made it a note
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    # the answer a coordinator made of it ("met_again=yes"), if any
    resolved_as: Mapped[str | None] = mapped_column(String(100))


class Answer(Base):
    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("followup_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followup.id"))
    question: Mapped[str] = mapped_column(String(50))
    value: Mapped[str] = mapped_column(String(20))
    raw_text: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20))
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox.id"))
    answered_at: Mapped[datetime]
    # given after the follow-up had expired: counted, but shown as late
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Greeting(Base):
    """A fikahälsning: a photo and/or a few words, shared only with consent."""

    __tablename__ = "greeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followup.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox.id"))
    words: Mapped[str] = mapped_column(Text, default="")
    photo_path: Mapped[str | None] = mapped_column(String(500))
    photo_type: Mapped[str | None] = mapped_column(String(50))
    consent: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime]
    consent_at: Mapped[datetime | None]
    # a coordinator's decision from the digest link: approved or rejected for social media
    social: Mapped[str | None] = mapped_column(String(10))
    social_at: Mapped[datetime | None]


class Coordinator(Base):
    """Someone at a programme who reads its weekly digest; sees only their programme's data."""

    __tablename__ = "coordinator"
    __table_args__ = (UniqueConstraint("programme_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programme.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(5), default="sv")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    # when the digest is due in the coordinator's zone: ISO weekday (1 = Monday) and hour
    digest_weekday: Mapped[int] = mapped_column(Integer, default=1)
    digest_hour: Mapped[int] = mapped_column(Integer, default=9)
    created_at: Mapped[datetime]


class DigestRun(Base):
    """One weekly digest per coordinator: the unique key makes a second sender back off."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("coordinator_id", "iso_year", "iso_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("coordinator.id"))
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class TelegramLink(Base):
    """A one-time deep link that binds a participant's Telegram chat (`/start <token>`)."""

    __tablename__ = "telegram_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    # sha256 of the token: the database alone cannot be used to link someone's chat
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class CoordinatorLoginLink(Base):
    """A one-time sign-in link mailed to a coordinator's address (the web app's magic link)."""

    __tablename__ = "coordinator_login_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the address signs in, not one coordinator row: one person may coordinate several programmes
    email: Mapped[str] = mapped_column(String(320), index=True)
    # sha256 of the token: a copy of the database does not sign anyone in
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class CoordinatorSession(Base):
    """A signed-in browser: the cookie holds the token, the table its hash and the CSRF token."""

    __tablename__ = "coordinator_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Activity(Base):
    """A local activity a programme suggests to its matches (made with a local association)."""

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("programme_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programme.id"), index=True)
    # as the coordinator wrote them: never translated
    name: Mapped[str] = mapped_column(String(200))
    # individual, family or both
    for_kind: Mapped[str] = mapped_column(String(20))
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    when: Mapped[str] = mapped_column(String(200), default="")
    where: Mapped[str] = mapped_column(String(200), default="")
    price: Mapped[str] = mapped_column(String(100), default="")
    # language codes, comma-separated; empty: any language
    languages: Mapped[str] = mapped_column(String(100), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RateSlot(Base):
    """Where a channel's shared send timeline stands (PostgreSQL, several instances): the
    instant up to which sends are already reserved (store/rate_slots.py)."""

    __tablename__ = "rate_slot"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

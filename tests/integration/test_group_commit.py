"""Group commit (`store/group_commit.py`): many webhooks' writes committed in one transaction,
each answered only after that commit, each failure kept to its own request.

Through the real interfaces: signed Twilio posts over loopback HTTP to the web app on uvicorn,
on SQLite and PostgreSQL; and the committer itself on a real database, where a unit that breaks
a constraint or raises must not take the rest of its group with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import sms
from bot.channels.base import InboundMessage
from bot.web import WebContext, create_web_app
from fikafollow.app import App
from fikafollow.config import load_settings
from store import intake
from store.group_commit import PASS, GroupCommit
from store.models import Answer, InboxEvent, Note, Programme
from store.vocabulary import InboxOutcome
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.loopback import bound_socket, serving, url_of

DUE = datetime(2026, 5, 25, 8, 0, tzinfo=UTC)
HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
)
PEOPLE = 50
INBOUND = "/webhooks/twilio/sms"


def phone(n: int) -> str:
    return f"+4670200{n:04d}"


def matches_csv() -> str:
    rows = [
        f"M{n // 2},2026-05-04,individual,P{n},Person{n},"
        f"{'newcomer' if n % 2 else 'established'},sv,sms,{phone(n)},,woman\n"
        for n in range(PEOPLE)
    ]
    return HEADER + "".join(rows)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    sock = bound_socket()
    fake.root = url_of(sock)
    async with serving(fake.app(), sock):
        yield fake


@pytest.fixture
async def app(db_url: str, tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[App]:
    settings = load_settings(
        database_url=db_url,
        photo_dir=tmp_path / "photos",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM_NUMBER,
        twilio_api_url=twilio.root,
        public_url="http://127.0.0.1:9",  # replaced per test by the server's own address
        secret_key="test-secret-key-0123456789",
    )
    found = App(settings)
    await found.start()
    try:
        yield found
    finally:
        await found.close()


async def test_fifty_concurrent_answers_each_stored_and_recorded_once(
    app: App, twilio: FakeTwilio
) -> None:
    sock = bound_socket()
    settings = app.settings.model_copy(update={"public_url": url_of(sock)})
    hooks = sms.setup(settings, app.channel_context(lambda: DUE))
    assert hooks is not None
    web = create_web_app(WebContext(app.sessions, app.book.days(), "SE", lambda: DUE), hooks.routes)
    programme = await app.programme(None, DUE - timedelta(days=20))
    rows, errors = intake.read_csv(matches_csv().encode(), "SE")
    assert not errors
    async with app.sessions.begin() as session:
        found = await session.get_one(Programme, programme.id)
        await intake.apply(session, found, rows, DUE - timedelta(days=20), app.book.days())
    await app.tick(lambda: DUE)
    asked = len(twilio.sent)
    assert asked == PEOPLE

    forms = [twilio.inbound_form(phone(n), "ja") for n in range(PEOPLE)]
    limits = httpx.Limits(max_connections=PEOPLE)
    async with serving(web, sock) as url, httpx.AsyncClient(timeout=60, limits=limits) as http:
        # all at once, then all again at once (Twilio's retries): the same sids, stored once
        for _round in range(2):
            responses = await asyncio.gather(
                *(twilio.post(http, url + INBOUND, form) for form in forms)
            )
            assert [r.status_code for r in responses] == [200] * PEOPLE
    commits = app.inbound.commits
    assert commits.units == 2 * PEOPLE
    async with app.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(InboxEvent))
        sids = await session.scalar(select(func.count(func.distinct(InboxEvent.provider_id))))
        answers = (
            await session.execute(
                select(Answer.followup_id, func.count()).group_by(Answer.followup_id)
            )
        ).all()
    assert stored == sids == PEOPLE
    assert len(answers) == PEOPLE
    assert {count for _followup, count in answers} == {1}
    # each answer was followed by the next question, once, through the outbox
    await app.tick(lambda: DUE)
    assert len(twilio.sent) == asked + PEOPLE


def _event(n: int, sid: str | None = None) -> InboxEvent:
    return InboxEvent(
        channel="sms",
        provider_id=sid or f"SMgroup{n}",
        sender=phone(n),
        text="ja",
        payload={},
        received_at=DUE,
    )


async def _stored_sids(app: App) -> list[str]:
    async with app.sessions() as session:
        return list(
            await session.scalars(select(InboxEvent.provider_id).order_by(InboxEvent.provider_id))
        )


async def test_a_failing_member_fails_alone_and_the_group_commits(app: App) -> None:
    commits = GroupCommit(app.sessions)

    def add(n: int) -> Any:
        async def work(session: AsyncSession) -> str:
            session.add(_event(n))
            await session.flush()
            return f"stored {n}"

        return work

    async def breaks_a_constraint(session: AsyncSession) -> str:
        # the same (channel, provider_id) twice: the inbox's unique key refuses the second
        session.add_all([_event(90, "SMtwice"), _event(91, "SMtwice")])
        await session.flush()
        return "never"

    async def writes_then_raises(session: AsyncSession) -> str:
        session.add(_event(92))
        await session.flush()
        raise ValueError("a bug after writing")

    units = [add(n) for n in range(10)]
    units[3] = breaks_a_constraint
    units[7] = writes_then_raises
    # queued together before the writer runs: one group
    results = await asyncio.gather(*(commits.run(u) for u in units), return_exceptions=True)
    assert isinstance(results[3], IntegrityError)
    assert isinstance(results[7], ValueError)
    assert [r for i, r in enumerate(results) if i not in (3, 7)] == [
        f"stored {n}" for n in range(10) if n not in (3, 7)
    ]
    assert (commits.groups, commits.units) == (1, 8)
    # nothing of the failed members, everything of the others, once
    assert await _stored_sids(app) == sorted(f"SMgroup{n}" for n in range(10) if n not in (3, 7))


async def test_a_failed_group_commit_runs_each_member_again_alone(app: App) -> None:
    commits = GroupCommit(app.sessions)
    failed: list[bool] = []

    def add(n: int) -> Any:
        async def work(session: AsyncSession) -> int:
            session.add(_event(n))
            await session.flush()
            return n

        return work

    async def spoils_the_commit(session: AsyncSession) -> int:
        # the first commit this unit is in fails (as a lost connection or a deferred check
        # would); run again alone it commits
        def refuse(sync_session: Any) -> None:
            # the savepoint's release passes; the group's own commit is refused, once
            if not failed and not sync_session.in_nested_transaction():
                failed.append(True)
                raise RuntimeError("commit refused")

        event.listen(session.sync_session, "before_commit", refuse)
        session.add(_event(99))
        await session.flush()
        return 99

    units = [add(n) for n in range(5)] + [spoils_the_commit]
    results = await asyncio.gather(*(commits.run(u) for u in units))
    assert results == [0, 1, 2, 3, 4, 99]
    assert failed == [True]
    # the group's commit failed, so every member committed on its own, each once
    assert (commits.groups, commits.units) == (6, 6)
    assert await _stored_sids(app) == sorted([*(f"SMgroup{n}" for n in range(5)), "SMgroup99"])


async def test_units_arriving_during_a_commit_form_the_next_group(app: App) -> None:
    commits = GroupCommit(app.sessions)
    later: list[asyncio.Task[int]] = []

    def add(n: int) -> Any:
        async def work(session: AsyncSession) -> int:
            session.add(_event(n))
            await session.flush()
            return n

        return work

    async def first(session: AsyncSession) -> int:
        # four requests come in while this one's transaction is open
        later.extend(asyncio.create_task(commits.run(add(n))) for n in range(1, 5))
        session.add(_event(0))
        await session.flush()
        return 0

    assert await commits.run(first) == 0
    assert await asyncio.gather(*later) == [1, 2, 3, 4]
    # the lone first one was not kept waiting for company; the four then went together
    assert (commits.groups, commits.units) == (2, 5)
    # and a writer that has gone idle is replaced by the next request
    assert await commits.run(add(5)) == 5
    assert (commits.groups, commits.units) == (3, 6)
    assert await _stored_sids(app) == sorted(f"SMgroup{n}" for n in range(6))


async def test_a_member_that_loses_a_deadlock_to_another_group_runs_again(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: two groups never hold rows at once")
    async with app.sessions.begin() as session:
        session.add_all([_event(1, "SMx"), _event(2, "SMy")])
    first, second = GroupCommit(app.sessions), GroupCommit(app.sessions)
    a_holds_x, b_holds_y = asyncio.Event(), asyncio.Event()

    def write(sid: str, text: str, wait: asyncio.Event | None, then: asyncio.Event | None) -> Any:
        async def work(session: AsyncSession) -> str:
            if wait is not None:
                await wait.wait()
            await session.execute(
                update(InboxEvent).where(InboxEvent.provider_id == sid).values(text=text)
            )
            if then is not None:
                then.set()
            return f"{text} {sid}"

        return work

    # group one takes x then wants y; group two takes y then wants x: PostgreSQL fails one
    results = await asyncio.gather(
        first.run(write("SMx", "one", None, a_holds_x)),
        first.run(write("SMy", "one", b_holds_y, None)),
        second.run(write("SMy", "two", a_holds_x, b_holds_y)),
        second.run(write("SMx", "two", None, None)),
    )
    assert results == ["one SMx", "one SMy", "two SMy", "two SMx"]
    # two groups and the loser run again alone; every write is there
    assert first.groups + second.groups == 3
    assert first.units + second.units == 4


async def _with_matches(app: App) -> None:
    programme = await app.programme(None, DUE - timedelta(days=20))
    rows, errors = intake.read_csv(matches_csv().encode(), "SE")
    assert not errors
    async with app.sessions.begin() as session:
        found = await session.get_one(Programme, programme.id)
        await intake.apply(session, found, rows, DUE - timedelta(days=20), app.book.days())
    await app.tick(lambda: DUE)


async def _inbox_and_notes(app: App, sids: list[str]) -> list[tuple[Any, ...]]:
    """What is stored of these events, in their order, without ids that differ by design."""
    async with app.sessions() as session:
        events = {
            e.provider_id: e
            for e in await session.scalars(
                select(InboxEvent).where(InboxEvent.provider_id.in_(sids))
            )
        }
        kept = {n.inbox_id: n for n in await session.scalars(select(Note))}
    found = []
    for sid in sids:
        e = events[sid]
        n = kept.get(e.id)
        note = None
        if n is not None:
            note = (n.programme_id, n.participant_id, n.followup_id, n.channel, n.text, n.reason)
        event = (e.channel, e.sender, e.text, e.payload, e.outcome, e.participant_id)
        found.append((*event, e.followup_id, note))
    return found


async def test_a_group_stores_unknown_senders_together_as_the_conversation_does_one(
    app: App,
) -> None:
    await _with_matches(app)
    async with app.sessions.begin() as session:
        session.add(_event(7000, "SMbefore"))

    def messages(tag: str) -> list[InboundMessage]:
        return [
            InboundMessage("sms", f"SM{tag}a", "+46709990001", text="vem är detta?"),
            InboundMessage("sms", f"SM{tag}b", "+46709990002", text="   "),
            InboundMessage(
                "sms",
                f"SM{tag}c",
                "+46709990003",
                text="ja",
                photos=(b"x",),
                photo_types=("image/jpeg",),
            ),
            # a participant in the middle of strangers: answered by the conversation
            InboundMessage("sms", f"SM{tag}p", phone(0 if tag == "one" else 1), text="ja"),
        ]

    # the reference: each alone, straight through the conversation
    alone = messages("one")
    expected = []
    for message in alone:
        async with app.sessions.begin() as session:
            expected.append(await app.conversation.receive(session, message, DUE))
    groups_before = app.inbound.commits.groups
    grouped = messages("two")
    # the same stranger twice in one group, and one whose sid was stored before
    retried = InboundMessage("sms", "SMtwoa", "+46709990001", text="vem är detta?")
    before = InboundMessage("sms", "SMbefore", "+46709990009", text="hej")
    outcomes = await asyncio.gather(
        *(app.inbound.receive(m, DUE) for m in [*grouped, retried, before])
    )
    assert app.inbound.commits.groups == groups_before + 1
    assert list(outcomes) == [*expected, InboxOutcome.DUPLICATE, InboxOutcome.DUPLICATE]
    assert expected[:3] == [InboxOutcome.UNKNOWN_SENDER] * 3
    stored_alone = await _inbox_and_notes(app, [m.provider_id for m in alone])
    stored_grouped = await _inbox_and_notes(app, [m.provider_id for m in grouped])
    # the participants are two people with the same answer: the rest is the same
    assert stored_grouped[:3] == stored_alone[:3]
    assert stored_grouped[3][4] == stored_alone[3][4] == expected[3]
    async with app.sessions() as session:
        stored = await session.scalar(
            select(func.count()).where(InboxEvent.provider_id.in_(["SMtwoa", "SMbefore"]))
        )
        answered = await session.scalar(select(func.count()).select_from(Answer))
    assert stored == 2
    assert answered == 2


async def test_a_batch_that_fails_leaves_each_unit_to_its_own_work(app: App) -> None:
    commits = GroupCommit(app.sessions)
    calls: list[list[int]] = []

    async def batch(session: AsyncSession, items: Sequence[int]) -> list[Any]:
        calls.append(list(items))
        session.add(_event(500))
        await session.flush()
        if 3 in items or 9 in items:
            raise ValueError("a bug in the batch")
        return [f"batched {n}" if n % 2 else PASS for n in items]

    def add(n: int) -> Any:
        async def work(session: AsyncSession) -> str:
            session.add(_event(n))
            await session.flush()
            return f"alone {n}"

        return work

    # one group: the batch answers the odd ones and passes the even ones to their own work
    results = await asyncio.gather(*(commits.run(add(n), batch=batch, item=n) for n in (1, 2)))
    assert results == ["batched 1", "alone 2"]
    # the next group's batch raises: its write is undone, and every unit runs its own work
    results = await asyncio.gather(
        *(commits.run(add(n), batch=batch, item=n) for n in (3, 4, 5)), commits.run(add(6))
    )
    assert results == ["alone 3", "alone 4", "alone 5", "alone 6"]
    assert calls == [[1, 2], [3, 4, 5]]
    assert (commits.groups, commits.units) == (2, 6)
    # a group that is the batch alone fails whole, and each unit then commits on its own
    results = await asyncio.gather(*(commits.run(add(n), batch=batch, item=n) for n in (7, 9)))
    assert results == ["alone 7", "alone 9"]
    assert (commits.groups, commits.units) == (4, 8)
    assert await _stored_sids(app) == sorted(f"SMgroup{n}" for n in (2, 3, 4, 5, 6, 7, 9, 500))

"""The named vocabularies: stored as the strings they always were, and each list defined once."""

from __future__ import annotations

from bot.reach import ladder
from messages import render
from store import intake
from store.models import Participant
from store.vocabulary import CHANNELS, FollowUpStatus, MessageKind, OutboxStatus


def test_statuses_are_the_strings_the_tables_hold() -> None:
    assert FollowUpStatus.ACTIVE == "active"
    assert OutboxStatus.FAILED == "failed"
    assert f"{MessageKind.QUESTION}" == "question"


def test_the_other_lists_of_channels_and_kinds_agree_until_they_import_ours() -> None:
    assert render.CHANNELS == CHANNELS
    assert intake.CHANNELS == CHANNELS
    assert set(render.KINDS) == set(MessageKind)


def _person(dead: str = "") -> Participant:
    return Participant(
        channel="sms", phone="+46701740611", email="a@example.org", dead_channels=dead
    )


def test_a_channel_marked_dead_leaves_the_ladder_and_a_revived_one_comes_back() -> None:
    person = _person()
    person.mark_dead("sms")
    person.mark_dead("email")
    person.mark_dead("sms")
    assert person.dead_channels == "email,sms"
    assert person.is_dead("sms") and not person.is_dead("telegram")
    assert ladder(person) == []
    person.revive("sms")
    assert person.dead_channels == "email"
    assert ladder(person) == [("sms", "+46701740611")]


def test_an_empty_dead_list_names_no_channel() -> None:
    assert _person().dead() == frozenset()
    assert _person(",sms,").dead() == {"sms"}

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


def test_every_refusal_the_channels_write_has_an_unreachable_code_and_words() -> None:
    from bot.channels.email.bounces import _REASONS
    from bot.channels.sms.send import PERMANENT_CODES
    from messages import code_names
    from store.calls import unreachable_code
    from store.vocabulary import Unreachable

    written = [f"twilio {code}: {phrase}" for code, phrase in PERMANENT_CODES.items()]
    written += [f"bounce 5.{n}: {phrase}" for n, phrase in _REASONS]
    written += ["telegram: bot blocked or never started", "telegram: chat not found"]
    written += ["recipient refused (550)", "smtp 554"]
    for error in written:
        assert unreachable_code(error) != Unreachable.FAILED, error
    assert unreachable_code("something new: who knows") == Unreachable.FAILED
    for language in ("sv", "en"):
        for code in Unreachable:
            words = code_names.unreachable_name(language, "sms", code)
            # worded, not shown as its code (in English "landline" and "failed" are both)
            assert "_" not in words, words
            assert language == "en" or code.value not in words, words

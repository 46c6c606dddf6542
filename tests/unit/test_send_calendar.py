"""The send calendar, pure: holidays and eves, Sundays, Friday midday, Ramadan evenings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from store.send_calendar import SendCalendar, is_ramadan, swedish_days
from store.timing import SendWindow, blocked

ZONE = "Europe/Stockholm"
ON = SendCalendar(holidays=True)


def window(calendar: SendCalendar, send_hour: int = 10) -> SendWindow:
    return SendWindow(ZONE, send_hour, 20 * 60, 9 * 60, calendar)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_the_swedish_eves_and_holidays_are_named() -> None:
    days = swedish_days(2026)
    assert days[date(2026, 6, 19)] == "Midsommarafton"
    assert days[date(2026, 12, 24)] == "Julafton"
    assert days[date(2026, 12, 25)] == "Juldagen"
    assert days[date(2026, 4, 4)] == "Påskafton"
    # an afternoon off is a working morning; a klämdag is a working day
    assert date(2026, 4, 30) not in days and date(2026, 5, 15) not in days


@pytest.mark.parametrize(
    ("matched_on", "days", "expected"),
    [
        # day 21 on midsommarafton (Friday): Saturday is midsommardagen, then Sunday
        (date(2026, 5, 29), 21, "2026-06-22T10:00+02:00"),
        # 24 December (Thursday): juldagen, annandag jul, Sunday
        (date(2026, 12, 3), 21, "2026-12-28T10:00+01:00"),
        # an ordinary Tuesday stays
        (date(2026, 9, 1), 21, "2026-09-22T10:00+02:00"),
    ],
)
def test_a_blocked_day_moves_to_the_next_working_day_at_the_send_hour(
    matched_on: date, days: int, expected: str
) -> None:
    assert window(ON).due_at(matched_on, days) == local(expected)


def test_off_by_default_nothing_moves() -> None:
    assert window(SendCalendar()).due_at(date(2026, 5, 29), 21) == local("2026-06-19T10:00+02:00")
    assert not window(SendCalendar()).is_quiet(local("2026-12-24T11:00+01:00"))


def test_friday_midday_waits_until_two() -> None:
    friday_noon = window(ON, send_hour=12)
    assert friday_noon.due_at(date(2026, 9, 4), 21) == local("2026-09-25T14:00+02:00")
    assert friday_noon.is_quiet(local("2026-09-25T13:59+02:00"))
    assert not friday_noon.is_quiet(local("2026-09-25T11:59+02:00"))


def test_ramadan_evenings_only_when_set() -> None:
    assert is_ramadan(date(2026, 3, 1)) and not is_ramadan(date(2026, 4, 1))
    evening = local("2026-03-02T17:00+01:00")
    assert not window(ON).is_quiet(evening)
    ramadan = window(SendCalendar(ramadan=True))
    assert ramadan.is_quiet(evening)
    assert not ramadan.is_quiet(local("2026-03-02T11:00+01:00"))
    # a question late in a Ramadan afternoon waits for the next morning
    assert ramadan.next_allowed(evening) == local("2026-03-03T09:00+01:00")


def test_a_late_follow_up_on_a_holiday_goes_the_next_allowed_morning() -> None:
    assert window(ON).next_allowed(local("2026-12-24T12:00+01:00")) == local(
        "2026-12-28T09:00+01:00"
    )


def test_the_blocked_times_of_a_week() -> None:
    blocks = ON.between(date(2026, 6, 15), date(2026, 6, 21))
    assert [(b.start.date().isoformat(), b.whole_day, b.reason) for b in blocks] == [
        ("2026-06-19", True, "Midsommarafton"),
        ("2026-06-20", True, "Midsommardagen"),
        ("2026-06-21", True, "söndag"),
    ]


def test_ramadan_by_language_blocks_only_those_languages() -> None:
    by_language = window(SendCalendar(ramadan=True, ramadan_languages=frozenset({"xx"})))
    evening = local("2026-03-02T17:00+01:00")
    # the programme as a whole is awake: others may be asked
    assert not by_language.is_quiet(evening)
    assert blocked(evening, by_language, "xx")
    assert not blocked(evening, by_language, "yy")
    assert not blocked(local("2026-03-02T11:00+01:00"), by_language, "xx")
    # the participant's own window moves a question to the next morning
    assert by_language.for_language("xx").next_allowed(evening) == local("2026-03-03T09:00+01:00")
    # the calendar lists the block with the languages it is kept for
    (block,) = by_language.calendar.blocks(date(2026, 3, 2))
    assert block.languages == frozenset({"xx"}) and not block.applies_to(None)
    # for everyone: the programme itself sleeps
    everyone = window(SendCalendar(ramadan=True))
    assert everyone.is_quiet(evening) and blocked(evening, everyone, "yy")


def test_sundays_are_our_rule_not_the_packages() -> None:
    assert date(2026, 6, 21) not in swedish_days(2026)
    assert ON.day_off(date(2026, 6, 21)) == "söndag"
    assert SendCalendar(holidays=False).day_off(date(2026, 6, 21)) is None

"""When a follow-up is due: send hour, quiet hours, time zones and daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from store.timing import SendWindow

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DEFAULT = SendWindow("Europe/Stockholm", send_hour=10, quiet_start=20 * 60, quiet_end=9 * 60)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=STOCKHOLM)


def test_due_is_21_days_later_at_the_send_hour_in_summer_time() -> None:
    assert DEFAULT.due_at(date(2026, 5, 4), 21) == local(2026, 5, 25, 10)
    assert DEFAULT.due_at(date(2026, 5, 4), 21).astimezone(UTC).hour == 8


def test_due_is_at_the_send_hour_in_winter_time_too() -> None:
    due = DEFAULT.due_at(date(2026, 11, 2), 21)
    assert due == local(2026, 11, 23, 10)
    assert due.astimezone(UTC).hour == 9


def test_a_send_hour_inside_quiet_hours_moves_to_their_end() -> None:
    early = SendWindow("Europe/Stockholm", send_hour=7, quiet_start=20 * 60, quiet_end=9 * 60)
    assert early.due_at(date(2026, 5, 4), 21) == local(2026, 5, 25, 9)
    late = SendWindow("Europe/Stockholm", send_hour=22, quiet_start=20 * 60, quiet_end=9 * 60)
    assert late.due_at(date(2026, 5, 4), 21) == local(2026, 5, 26, 9)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (local(2026, 5, 25, 19, 59), False),
        (local(2026, 5, 25, 20, 0), True),
        (local(2026, 5, 25, 23, 30), True),
        (local(2026, 5, 26, 0, 0), True),
        (local(2026, 5, 26, 8, 59), True),
        (local(2026, 5, 26, 9, 0), False),
    ],
)
def test_quiet_hours_span_midnight(moment: datetime, quiet: bool) -> None:
    assert DEFAULT.is_quiet(moment) is quiet


def test_next_allowed_after_an_evening_is_the_next_morning() -> None:
    assert DEFAULT.next_allowed(local(2026, 5, 25, 22, 15)) == local(2026, 5, 26, 9)
    assert DEFAULT.next_allowed(local(2026, 5, 26, 3, 0)) == local(2026, 5, 26, 9)
    assert DEFAULT.next_allowed(local(2026, 5, 26, 11, 0)) == local(2026, 5, 26, 11)


def test_daytime_quiet_hours_work_too() -> None:
    lunch = SendWindow("Europe/Stockholm", send_hour=12, quiet_start=11 * 60, quiet_end=13 * 60)
    assert lunch.due_at(date(2026, 5, 4), 21) == local(2026, 5, 25, 13)


def test_no_quiet_hours_when_start_equals_end() -> None:
    never = SendWindow("UTC", send_hour=3, quiet_start=0, quiet_end=0)
    assert not never.is_quiet(datetime(2026, 5, 25, 3, tzinfo=UTC))


def test_other_time_zone_is_honoured() -> None:
    tehran = SendWindow("Asia/Tehran", send_hour=10, quiet_start=20 * 60, quiet_end=9 * 60)
    due = tehran.due_at(date(2026, 5, 4), 21)
    assert due.astimezone(ZoneInfo("Asia/Tehran")).hour == 10


def test_the_spring_forward_gap_does_not_break_the_schedule() -> None:
    # 02:30 does not exist in Stockholm on 2026-03-29; the send must still land after the gap
    odd = SendWindow("Europe/Stockholm", send_hour=2, quiet_start=0, quiet_end=0)
    due = odd.due_at(date(2026, 3, 8), 21)
    assert due.astimezone(STOCKHOLM).date() == date(2026, 3, 29)

"""When a follow-up may go out: the programme's send hour, quiet hours, time zone and send
calendar (holidays, Friday midday, Ramadan evenings: store/send_calendar.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from store.send_calendar import SendCalendar

# quiet hours and blocked stretches can follow each other (a holiday, then the night); a few
# rounds settle it
_ROUNDS = 8


@dataclass(frozen=True)
class SendWindow:
    timezone: str
    send_hour: int
    quiet_start: int  # minutes after local midnight
    quiet_end: int
    calendar: SendCalendar = field(default_factory=SendCalendar)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def for_language(self, language: str) -> SendWindow:
        """The window of one participant writing `language` (Ramadan evenings by language)."""
        calendar = self.calendar.for_language(language)
        return self if calendar is self.calendar else replace(self, calendar=calendar)

    def is_quiet(self, instant: datetime) -> bool:
        """Inside quiet hours, or a time the send calendar blocks."""
        return self._in_quiet_hours(instant) or self._blocked(instant)

    def _blocked(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone).replace(tzinfo=None)
        return self.calendar.block_at(local) is not None

    def _in_quiet_hours(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= minute < self.quiet_end
        return minute >= self.quiet_start or minute < self.quiet_end

    def next_allowed(self, instant: datetime) -> datetime:
        """`instant` itself if we may write then, else the first time after it that is neither
        in quiet hours nor blocked by the send calendar."""
        for _ in range(_ROUNDS):
            moved = self._after_quiet_hours(instant)
            local = moved.astimezone(self.zone).replace(tzinfo=None)
            opened = self.calendar.next_open(local)
            if opened != local:
                moved = _at(opened.date(), opened.time(), self.zone)
            if moved == instant:
                return instant
            instant = moved
        return instant

    def _after_quiet_hours(self, instant: datetime) -> datetime:
        if not self._in_quiet_hours(instant):
            return instant
        local = instant.astimezone(self.zone)
        end = time(self.quiet_end // 60, self.quiet_end % 60)
        day = local.date()
        # past the start of an overnight quiet period, it ends tomorrow
        if self.quiet_start > self.quiet_end and local.hour * 60 + local.minute >= self.quiet_start:
            day += timedelta(days=1)
        return _at(day, end, self.zone)

    def due_at(self, matched_on: date, days_after: int) -> datetime:
        """The send hour, `days_after` days after the first meeting, moved out of quiet hours;
        a day the send calendar blocks whole (a holiday, an eve) moves it to the send hour of
        the next day that is not."""
        day = self.calendar.next_open_day(matched_on + timedelta(days=days_after))
        return self.next_allowed(_at(day, time(self.send_hour), self.zone))


def blocked(now: datetime, window: SendWindow, language: str) -> bool:
    """Whether `now` is in quiet hours or a time the programme's send calendar keeps free for a
    participant writing `language`."""
    return window.for_language(language).is_quiet(now)


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # round-trip through UTC so a wall time that does not exist (DST gap) lands just after it
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def next_send_time(window: SendWindow, instant: datetime) -> datetime:
    """When a message held back at `instant` may go: `instant` itself outside quiet hours, else
    the send hour after this quiet period (a retry due at 23:00 goes at the next morning's send
    hour, not at the end of the quiet hours), or the end of quiet hours if the send hour is
    itself quiet."""
    if not window.is_quiet(instant):
        return instant
    return next_day_send_time(window, instant, same_day_if_before=True)


def next_day_send_time(
    window: SendWindow, instant: datetime, *, same_day_if_before: bool = False
) -> datetime:
    """The next local day's send hour after `instant` (or today's, when it is still to come and
    `same_day_if_before`), moved out of quiet hours."""
    local = instant.astimezone(window.zone)
    today = _at(local.date(), time(window.send_hour), window.zone)
    if same_day_if_before and today > instant:
        return window.next_allowed(today)
    return window.next_allowed(
        _at(local.date() + timedelta(days=1), time(window.send_hour), window.zone)
    )


def local_midnight(window: SendWindow, instant: datetime) -> datetime:
    """The start of the local day `instant` falls on, in UTC."""
    return _at(instant.astimezone(window.zone).date(), time(0), window.zone)

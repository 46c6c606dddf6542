"""When a follow-up may go out: the programme's send hour, quiet hours and time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SendWindow:
    timezone: str
    send_hour: int
    quiet_start: int  # minutes after local midnight
    quiet_end: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_quiet(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= minute < self.quiet_end
        return minute >= self.quiet_start or minute < self.quiet_end

    def next_allowed(self, instant: datetime) -> datetime:
        """`instant` itself if outside quiet hours, else the end of this quiet period."""
        if not self.is_quiet(instant):
            return instant
        local = instant.astimezone(self.zone)
        end = time(self.quiet_end // 60, self.quiet_end % 60)
        day = local.date()
        # past the start of an overnight quiet period, it ends tomorrow
        if self.quiet_start > self.quiet_end and local.hour * 60 + local.minute >= self.quiet_start:
            day += timedelta(days=1)
        return _at(day, end, self.zone)

    def due_at(self, matched_on: date, days_after: int) -> datetime:
        """The send hour, `days_after` days after the first meeting, moved out of quiet hours."""
        target = _at(matched_on + timedelta(days=days_after), time(self.send_hour), self.zone)
        return self.next_allowed(target)


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

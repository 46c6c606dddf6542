"""The days and hours a programme's conversations may not start: Swedish public holidays and
their eves, Sundays, Friday midday, and (if the programme asks for it) Ramadan evenings.

Pure: local dates and times in, blocked or not out. Swedish holidays come from the `holidays`
package (its public days, its de facto eves such as midsommarafton and julafton, and the other
eves, påskafton and pingstafton); Ramadan from the Umm al-Qura calendar (`hijridate`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from hijridate import Gregorian
from holidays.countries.sweden import Sweden

# Swedish law counts every Sunday as a public holiday ("allmän helgdag")
SUNDAY = 6
FRIDAY = 4
# Friday prayer: a question then would arrive during or just before it
FRIDAY_MIDDAY = (time(12, 0), time(14, 0))
FRIDAY_REASON = "fredagsbön"
# iftar in Sweden falls between about 16:00 (winter) and 22:00 (summer); the evening is left
# alone from 16:00, and quiet hours keep the night free anyway
RAMADAN_EVENING_FROM = time(16, 0)
RAMADAN_MONTH = 9
RAMADAN_REASON = "ramadan, iftar"
SUNDAY_REASON = "söndag"
# a long run of blocked days cannot happen (at most a long weekend of holidays and eves); the
# search stops after this many steps so a bad setting can never loop for ever
MAX_STEPS = 64


@dataclass(frozen=True)
class Block:
    """One blocked stretch of local time, [start, end)."""

    start: datetime
    end: datetime
    reason: str
    # the languages of the participants it keeps free (Ramadan by language); None: everyone
    languages: frozenset[str] | None = None

    def applies_to(self, language: str | None) -> bool:
        """Whether it keeps a participant writing `language` free; None asks about the
        programme as a whole (what holds for everyone)."""
        if self.languages is None:
            return True
        return language is not None and language in self.languages

    @property
    def whole_day(self) -> bool:
        return self.start.time() == time(0) and self.end - self.start >= timedelta(days=1)


@functools.cache
def swedish_days(year: int) -> dict[date, str]:
    """The year's public holidays and their eves, by date, named in Swedish."""
    found: dict[date, str] = {}
    for category in ("optional", "de_facto", "public"):
        # Sundays are our own rule (SUNDAY_REASON), not the package's: whether its Sweden
        # counts them has changed between versions, so it is told
        named = Sweden(years=year, categories=category, language="sv", include_sundays=False)
        for day, name in named.items():
            # among the optional days only the eves that are whole days off (påskafton,
            # pingstafton); "från kl. 14.00" afternoons and klämdagar are working days
            if category == "optional" and not name.endswith("afton"):
                continue
            found[day] = name
    return found


def is_ramadan(day: date) -> bool:
    return bool(Gregorian(day.year, day.month, day.day).to_hijri().month == RAMADAN_MONTH)


@dataclass(frozen=True)
class SendCalendar:
    holidays: bool = False  # Swedish holidays and eves, Sundays, Friday midday
    ramadan: bool = False  # Ramadan evenings, from 16:00
    # Ramadan evenings only for participants writing one of these languages; None: everyone
    ramadan_languages: frozenset[str] | None = None

    def for_language(self, language: str) -> SendCalendar:
        """The calendar of one participant writing `language`: Ramadan evenings kept for them
        or not at all."""
        if self.ramadan_languages is None:
            return self
        return replace(
            self,
            ramadan=self.ramadan and language in self.ramadan_languages,
            ramadan_languages=None,
        )

    @property
    def active(self) -> bool:
        return self.holidays or self.ramadan

    def day_off(self, day: date) -> str | None:
        """Why the whole day is blocked, or None."""
        if not self.holidays:
            return None
        name = swedish_days(day.year).get(day)
        if name is not None:
            return name
        return SUNDAY_REASON if day.weekday() == SUNDAY else None

    def blocks(self, day: date) -> list[Block]:
        """The day's blocked stretches, in local time (naive: the caller adds the zone)."""
        start = datetime.combine(day, time(0))
        whole = self.day_off(day)
        if whole is not None:
            return [Block(start, start + timedelta(days=1), whole)]
        found = []
        if self.holidays and day.weekday() == FRIDAY:
            found.append(
                Block(
                    datetime.combine(day, FRIDAY_MIDDAY[0]),
                    datetime.combine(day, FRIDAY_MIDDAY[1]),
                    FRIDAY_REASON,
                )
            )
        if self.ramadan and is_ramadan(day):
            found.append(
                Block(
                    datetime.combine(day, RAMADAN_EVENING_FROM),
                    start + timedelta(days=1),
                    RAMADAN_REASON,
                    self.ramadan_languages,
                )
            )
        return found

    def block_at(self, local: datetime) -> Block | None:
        """The blocked stretch `local` (a naive local time) falls in, or None; only those that
        hold for everyone (use `for_language` for one participant's)."""
        for block in self.blocks(local.date()):
            if block.start <= local < block.end and block.applies_to(None):
                return block
        return None

    def next_open(self, local: datetime) -> datetime:
        """`local` itself if not blocked, else the end of the blocked stretches it is in."""
        for _ in range(MAX_STEPS):
            block = self.block_at(local)
            if block is None:
                return local
            local = block.end
        return local

    def next_open_day(self, day: date) -> date:
        """`day`, or the first day after it that is not blocked as a whole."""
        for _ in range(MAX_STEPS):
            if self.day_off(day) is None:
                return day
            day += timedelta(days=1)
        return day

    def between(self, first: date, last: date) -> list[Block]:
        """Every blocked stretch from `first` to `last` (inclusive), in order."""
        found: list[Block] = []
        day = first
        while day <= last:
            found += self.blocks(day)
            day += timedelta(days=1)
        return found

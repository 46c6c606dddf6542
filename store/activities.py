"""A programme's list of local activities: read from a coordinator's file, listed, removed, and
the few that fit a match picked for its suggestions."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages.languages import codes
from store.match_files import Table
from store.models import Activity, Answer, FollowUp, Match, MatchMember, Participant
from store.vocabulary import ROW_PROBLEM_TEXT

COLUMNS = ("name", "for", "ages", "when", "where", "price", "languages", "link")
KINDS = ("individual", "family", "both")
_AGES = re.compile(r"^\s*(\d{1,2})\s*[-–]\s*(\d{1,2})\s*$|^\s*(\d{1,2})\s*\+\s*$")
# a file names an activity once; a longer list is a mistake, not a programme's list
MAX_ACTIVITIES = 500


@dataclass(frozen=True)
class ActivityRow:
    name: str
    for_kind: str
    age_min: int | None
    age_max: int | None
    when: str
    where: str
    price: str
    languages: tuple[str, ...]
    link: str


@dataclass
class ActivityCheck:
    rows: list[ActivityRow] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def check_table(table: Table) -> ActivityCheck:
    """The activities of a file, or every problem with where it is; names as written."""
    result = ActivityCheck()
    missing = [c for c in ("name", "for") if c not in table.header]
    if missing:
        result.errors.append(("header", f"needs the columns {', '.join(COLUMNS)}"))
        return result
    result.errors.extend((where, ROW_PROBLEM_TEXT[code]) for where, code in table.problems)
    known = set(codes())
    seen: set[str] = set()
    for where, record in table.records:
        if not any(record.values()):
            continue
        name = record.get("name", "").strip()
        kind = record.get("for", "").strip().lower()
        problems = []
        if not name:
            problems.append("name is empty")
        elif name.casefold() in seen:
            problems.append(f"{name!r} is named twice")
        if kind not in KINDS:
            problems.append(f"for must be {', '.join(KINDS)}, not {kind!r}")
        ages_text = record.get("ages", "").strip()
        age_min = age_max = None
        if ages_text:
            found = _AGES.match(ages_text)
            if found is None:
                problems.append(f"ages must look like 2-10 or 12+, not {ages_text!r}")
            elif found.group(3):
                age_min = int(found.group(3))
            else:
                age_min, age_max = int(found.group(1)), int(found.group(2))
                if age_min > age_max:
                    problems.append(f"ages {ages_text!r} run backwards")
        languages = tuple(
            code.strip().lower() for code in record.get("languages", "").split(",") if code.strip()
        )
        unknown = [code for code in languages if code not in known]
        if unknown:
            problems.append(f"languages: unknown {', '.join(unknown)}; known: {', '.join(known)}")
        link = record.get("link", "").strip()
        if link and not link.startswith(("https://", "http://")):
            problems.append("link must start with https://")
        if problems:
            result.errors.extend((where, p) for p in problems)
            continue
        seen.add(name.casefold())
        result.rows.append(
            ActivityRow(
                name=name[:200],
                for_kind=kind,
                age_min=age_min,
                age_max=age_max,
                when=record.get("when", "").strip()[:200],
                where=record.get("where", "").strip()[:200],
                price=record.get("price", "").strip()[:100],
                languages=languages,
                link=link[:500],
            )
        )
    if len(result.rows) > MAX_ACTIVITIES:
        result.errors.append(("file", f"has more than {MAX_ACTIVITIES} activities"))
    return result


async def save(
    session: AsyncSession, programme_id: str, rows: Sequence[ActivityRow], now: datetime
) -> tuple[int, int]:
    """Add the activities, or change those already named (by name); returns (added, changed)."""
    existing = {
        a.name.casefold(): a
        for a in await session.scalars(
            select(Activity).where(Activity.programme_id == programme_id)
        )
    }
    added = changed = 0
    for row in rows:
        values = {
            "name": row.name,
            "for_kind": row.for_kind,
            "age_min": row.age_min,
            "age_max": row.age_max,
            "when": row.when,
            "where": row.where,
            "price": row.price,
            "languages": ",".join(row.languages),
            "link": row.link,
        }
        activity = existing.get(row.name.casefold())
        if activity is None:
            session.add(
                Activity(programme_id=programme_id, created_at=now, updated_at=now, **values)
            )
            added += 1
        elif any(getattr(activity, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(activity, key, value)
            activity.updated_at = now
            changed += 1
    await session.flush()
    return added, changed


async def listing(session: AsyncSession, programme_id: str) -> list[Activity]:
    return list(
        (
            await session.scalars(
                select(Activity)
                .where(Activity.programme_id == programme_id)
                .order_by(Activity.name)
            )
        ).all()
    )


async def remove(session: AsyncSession, programme_id: str, name: str) -> bool:
    """Remove the activity of that name (any case); False when there is none."""
    found = [
        a for a in await listing(session, programme_id) if a.name.casefold() == name.casefold()
    ]
    if not found:
        return False
    await session.execute(delete(Activity).where(Activity.id.in_([a.id for a in found])))
    return True


def fits(
    activity: Activity, kind: str, languages: Collection[str], children: Collection[int] = ()
) -> bool:
    """For this kind of match (family or individual), in a language one of them speaks where
    the activity names its languages, and, for a family whose children's ages are known, for
    the age of at least one child where the activity names its ages."""
    if activity.for_kind not in ("both", kind):
        return False
    if kind == "family" and children and not any(_for_age(activity, age) for age in children):
        return False
    spoken = {c for c in activity.languages.split(",") if c}
    return not spoken or bool(spoken & set(languages))


def _for_age(activity: Activity, age: int) -> bool:
    if activity.age_min is not None and age < activity.age_min:
        return False
    return activity.age_max is None or age <= activity.age_max


async def suggestions(
    session: AsyncSession,
    programme_id: str,
    kind: str,
    languages: Collection[str],
    limit: int = 3,
    children: Collection[int] = (),
) -> list[Activity]:
    """Up to `limit` activities that fit the match; those in one of its languages first (they
    lower the threshold most), then the rest by name."""
    fitting = [
        a for a in await listing(session, programme_id) if fits(a, kind, languages, children)
    ]
    fitting.sort(key=lambda a: (not set(a.languages.split(",")) & set(languages), a.name))
    return fitting[:limit]


@dataclass(frozen=True)
class Suggestion:
    activities: list[Activity]
    nudge: bool  # they have not met again, or only maybe will


async def for_followup(session: AsyncSession, followup: FollowUp, limit: int = 3) -> Suggestion:
    """The activities that fit the follow-up's match (its kind, the languages of its members,
    the ages of a family's children), and whether its participant said they have not met again
    or only maybe will meet."""
    match = await session.get_one(Match, followup.match_id)
    members = (
        await session.execute(
            select(Participant.language, Participant.children_ages)
            .join(MatchMember, MatchMember.participant_id == Participant.id)
            .where(MatchMember.match_id == match.id)
        )
    ).all()
    spoken = {language for language, _ in members}
    # both families' children: an activity fits the match if it fits one of them
    children = {int(age) for _, ages in members for age in ages.split(",") if age}
    found = await suggestions(session, followup.programme_id, match.kind, spoken, limit, children)
    said = dict(
        (
            await session.execute(
                select(Answer.question, Answer.value).where(Answer.followup_id == followup.id)
            )
        ).all()
    )
    nudge = said.get("met_again") == "no" or said.get("will_meet_again") in ("maybe", "no")
    return Suggestion(found, nudge)

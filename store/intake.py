"""Intake: matches arrive as CSV rows or JSON, are checked whole, and become follow-ups.

Nothing is written unless every row is good, so a coordinator fixes the file and imports it again;
importing the same rows twice changes nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any, cast

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError
from sqlalchemy import Date, Select, Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages import languages
from store.checked_rows import PERSON, CheckedRows, Row
from store.match_files import FileProblem, Item, Stream, open_table, parse_date, read_table, word
from store.models import (
    Base,
    FollowUp,
    Match,
    MatchMember,
    Participant,
    Programme,
    UTCDateTime,
)
from store.programmes import send_window
from store.vocabulary import CHANNELS, ROW_PROBLEM_TEXT, FollowUpStatus, RowProblem

COLUMNS = (
    "match_id",
    "matched_on",
    "kind",
    "participant_id",
    "first_name",
    "role",
    "language",
    "channel",
    "phone",
    "email",
    "gender",
)
# optional: a family's children's ages (for the activities suggested to a family match)
CHILDREN_AGES = "children_ages"
# other names a coordinator writes for an optional column
HEADER_ALIASES = {
    "barnens_aldrar": CHILDREN_AGES,
    "barnens åldrar": CHILDREN_AGES,
    "barnens_åldrar": CHILDREN_AGES,
}
MAX_CHILD_AGE = 17
MAX_CHILDREN = 20
# "3, 7", "3;7", "3 7", "3 och 7"
_AGES_SPLIT = re.compile(r"\s*(?:[,;/]|\boch\b|\band\b)\s*|\s+", re.IGNORECASE)
KINDS = ("individual", "family")
ROLES = ("newcomer", "established")
LANGUAGES = languages.codes()  # the language folders under messages/locale (and beyond)
GENDERS = ("woman", "man", "other")
# the example rows of the template spreadsheet coordinators download are data beside this module
# (they name languages, and languages are data); numbers reserved for fiction
_EXAMPLE = Path(__file__).with_name("match_template.csv")
EXAMPLE_ROWS: list[list[object]] = [
    [date.fromisoformat(row[c]) if c == "matched_on" else row[c] for c in COLUMNS]
    for row in csv.DictReader(_EXAMPLE.read_text(encoding="utf-8").splitlines())
]
_MAX = {"match_id": 100, "participant_id": 100, "first_name": 200}
# C0 and C1 control characters (NUL among them): PostgreSQL refuses NUL in text, and no name,
# address or id needs the others; tab and newline are refused too since no field spans lines
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def no_control(value: str) -> str:
    if CONTROL.search(value):
        raise ValueError("contains a control character")
    return value


@dataclass(frozen=True)
class RowError:
    """One problem: where (`line 3`, `row 3`, `file`, `matches[0].participants[1]`), what
    (`code`, with `params` to say it), and `reason`, that said in English."""

    where: str
    code: RowProblem
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return ROW_PROBLEM_TEXT[self.code].format(**self.params)

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


Problem = tuple[RowProblem, dict[str, str]]


@dataclass
class IntakeResult:
    matches_created: int = 0
    matches_changed: int = 0
    participants_created: int = 0
    participants_changed: int = 0
    followups_created: int = 0
    followups_moved: int = 0
    errors: list[RowError] = field(default_factory=list)
    # participants whose phone is a landline: not used for SMS, kept for phoning
    landlines: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return any(
            (
                self.matches_created,
                self.matches_changed,
                self.participants_created,
                self.participants_changed,
                self.followups_created,
                self.followups_moved,
            )
        )


def _text(record: Mapping[str, object], key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value).strip()


def parse_children_ages(text: str) -> tuple[int, ...] | None:
    """`3, 7`, `3;7`, `3 och 7` as (3, 7); None when it is not a list of children's ages."""
    parts = [part for part in _AGES_SPLIT.split(text.strip()) if part]
    if len(parts) > MAX_CHILDREN or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    ages = tuple(sorted(int(part) for part in parts))
    if any(age > MAX_CHILD_AGE for age in ages):
        return None
    return ages


def check_record(record: Mapping[str, object], where: str, region: str) -> Row | list[RowError]:
    """Check one participant record; values of personal fields are never echoed back."""
    errors: list[Problem] = []
    values = {key: _text(record, key) for key in COLUMNS}
    children: str | None = None
    if record.get(CHILDREN_AGES) is not None:
        ages = parse_children_ages(_text(record, CHILDREN_AGES))
        if ages is None:
            errors.append(
                (
                    RowProblem.BAD_CHILDREN_AGES,
                    {"column": CHILDREN_AGES, "limit": str(MAX_CHILD_AGE)},
                )
            )
        else:
            children = ",".join(map(str, ages))
    for key in ("match_id", "participant_id", "first_name"):
        if not values[key]:
            errors.append((RowProblem.EMPTY, {"column": key}))
        elif len(values[key]) > _MAX[key]:
            errors.append((RowProblem.TOO_LONG, {"column": key, "limit": str(_MAX[key])}))
    # one search over the whole record first: almost every record has none
    if CONTROL.search("".join(values.values())):
        for key in COLUMNS:
            if CONTROL.search(values[key]):
                errors.append((RowProblem.CONTROL_CHARACTER, {"column": key}))
                values[key] = CONTROL.sub("", values[key])
    for key in ("kind", "role", "language", "channel", "gender"):
        values[key] = word(key, values[key])
    matched_on = parse_date(values["matched_on"])
    if matched_on is None:
        errors.append((RowProblem.NOT_A_DATE, {"value": repr(values["matched_on"])}))
    for key, allowed in (
        ("kind", KINDS),
        ("role", ROLES),
        ("language", LANGUAGES),
        ("channel", CHANNELS),
    ):
        if values[key] not in allowed:
            errors.append(
                (
                    RowProblem.NOT_ONE_OF,
                    {"column": key, "value": repr(values[key]), "allowed": ", ".join(allowed)},
                )
            )
    gender = values["gender"] or None
    if gender is not None and gender not in GENDERS:
        errors.append(
            (
                RowProblem.NOT_ONE_OF_OR_EMPTY,
                {
                    "column": "gender",
                    "value": repr(values["gender"]),
                    "allowed": ", ".join(GENDERS),
                },
            )
        )
    phone, phone_error, landline = _phone(values["phone"], region)
    if phone_error:
        errors.append(phone_error)
    email, email_error = _email(values["email"])
    if email_error:
        errors.append(email_error)
    channel = values["channel"]
    if channel == "sms" and phone is None and values["phone"] == "":
        errors.append((RowProblem.SMS_WITHOUT_PHONE, {}))
    if channel == "email" and email is None and values["email"] == "":
        errors.append((RowProblem.EMAIL_WITHOUT_ADDRESS, {}))
    if errors or matched_on is None:
        return [RowError(where, code, params) for code, params in errors]
    return Row(
        where=where,
        match_id=values["match_id"],
        matched_on=matched_on,
        kind=values["kind"],
        participant_id=values["participant_id"],
        first_name=values["first_name"],
        role=values["role"],
        language=values["language"],
        channel=channel,
        phone=phone,
        email=email,
        gender=gender,
        children_ages=children,
        landline=landline,
    )


# A file names each number once or a few times; a participant in several matches repeats it.
# Bounded, so a file of a million distinct numbers cannot grow it (memory stays flat). The
# problems it hands back are shared between calls: read, never changed.
@lru_cache(maxsize=4096)
def _phone(raw: str, region: str) -> tuple[str | None, Problem | None, bool]:
    """The number in E.164, or why it is none; and whether it is a landline. One parse and
    one type lookup: a number is valid exactly when its type is known (what
    `is_valid_number` itself asks), so validity and landline cost one pass over the plan."""
    if not raw:
        return None, None, False
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, (RowProblem.PHONE_UNREADABLE, {}), False
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return None, (RowProblem.PHONE_INVALID, {}), False
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, None, kind == phonenumbers.PhoneNumberType.FIXED_LINE


def is_fixed_line(phone: str) -> bool:
    """Whether the E.164 number is a landline by its numbering plan (not one that may be
    either, as some countries' numbers are)."""
    number = phonenumbers.parse(phone, None)
    return bool(phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE)


@lru_cache(maxsize=4096)
def _email(raw: str) -> tuple[str | None, Problem | None]:
    if not raw:
        return None, None
    try:
        # no DNS: checking a domain's mail servers is a network call per row, off loopback
        return validate_email(raw, check_deliverability=False).normalized, None
    except EmailNotValidError as exc:
        return None, (RowProblem.EMAIL_INVALID, {"detail": str(exc)})


def check_consistency(
    rows: Iterable[Row], bad_rows_of_match: Mapping[str, list[str]] | None = None
) -> list[RowError]:
    """Rules across rows: a match is one date and kind with two or more people, a person is one.

    `bad_rows_of_match` names rows already refused, so a match is not also called too small
    because one of its rows was bad.
    """
    with CheckedRows() as checked:
        for row in rows:
            checked.add(row)
        for match_id, places in (bad_rows_of_match or {}).items():
            for where in places:
                checked.add_bad(match_id, where)
        return _across(checked)


def _across(checked: CheckedRows) -> list[RowError]:
    found = sorted(checked.errors(), key=lambda e: (_order(e[0]), e[1]))
    return [RowError(where, code, params) for where, _, code, params in found]


def _order(where: str) -> tuple[int, str]:
    digits = "".join(c for c in where if c.isdigit())
    numbered = where.startswith(("line", "row"))
    return (int(digits) if digits.isdigit() and numbered else 0, where)


def read_file(data: bytes, region: str) -> tuple[list[Row], list[RowError]]:
    """Parse and check a whole match file: .xlsx, or CSV with commas or semicolons in UTF-8
    (with or without BOM), Windows-1252 or Latin-1."""
    try:
        table = read_table(data)
    except FileProblem as problem:
        return [], [_file_error(problem)]
    stream = Stream(table.header, iter([*table.problems, *table.records]))
    with CheckedRows() as checked:
        errors = check_stream(stream, region, checked)
        return list(checked.rows()), errors


def check_path(path: Path, region: str, checked: CheckedRows) -> list[RowError]:
    """Parse and check a match file on disk as `read_file` does, streamed: the good rows go
    to `checked`, memory stays the same however long the file. OSError if it cannot be read."""
    try:
        with open_table(path) as stream:
            return check_stream(stream, region, checked)
    except FileProblem as problem:
        return [_file_error(problem)]


def check_import(
    path: Path,
    region: str,
    today: date,
    max_age_days: int,
    accept_old: bool,
    checked: CheckedRows,
) -> list[RowError]:
    """Everything `fikafollow import` checks before it writes: the file's rows (the good ones
    into `checked`), then the first meetings' dates. OSError if the file cannot be read."""
    errors = check_path(path, region, checked)
    if errors:
        return errors
    oldest = today - timedelta(days=max_age_days)
    return check_dates(checked.dated_outside(oldest, today), today, max_age_days, accept_old)


def check_stream(stream: Stream, region: str, checked: CheckedRows) -> list[RowError]:
    """Every line checked, the good rows into `checked`; the errors of the file, in its order."""
    try:
        stream = _aliased(stream)
    except FileProblem as problem:
        return [_file_error(problem)]
    missing = [c for c in COLUMNS if c not in stream.header]
    if missing:
        return [RowError("line 1", RowProblem.MISSING_COLUMNS, {"columns": ", ".join(missing)})]
    errors: list[RowError] = []
    try:
        for where, record in stream.items:
            if isinstance(record, RowProblem):
                errors.append(RowError(where, record))
                continue
            if all(not v for v in record.values()):
                continue  # spreadsheets leave blank lines at the end
            result = check_record(record, where, region)
            if isinstance(result, list):
                errors.extend(result)
                checked.add_bad(record.get("match_id", ""), where)
            else:
                checked.add(result)
    except FileProblem as problem:
        # a line that cannot be read at all: nothing after it is sure
        return [_file_error(problem)]
    if not checked.count and not errors:
        errors.append(RowError("file", RowProblem.NO_ROWS))
    errors.extend(_across(checked))
    errors.sort(key=lambda e: _order(e.where))
    return errors


def _file_error(problem: FileProblem) -> RowError:
    return RowError(problem.where, problem.code, problem.params)


def _aliased(stream: Stream) -> Stream:
    """The stream with an optional column's other names (`barnens åldrar`) read as its own."""
    renames = {name: HEADER_ALIASES[name] for name in stream.header if name in HEADER_ALIASES}
    if not renames:
        return stream
    header = [renames.get(name, name) for name in stream.header]
    twice = sorted({name for name in renames.values() if header.count(name) > 1})
    if twice:
        raise FileProblem("line 1", RowProblem.COLUMN_TWICE, columns=", ".join(twice))

    def items() -> Iterator[Item]:
        for where, record in stream.items:
            if isinstance(record, dict):
                yield where, {renames.get(k, k): v for k, v in record.items()}
            else:
                yield where, record

    return Stream(header, items())


# the name the tests and older callers know; CSV or not, the content decides
read_csv = read_file


def read_json(body: object, region: str) -> tuple[list[Row], list[RowError]]:
    """Check the API's body: {"matches": [{match_id, matched_on, kind, participants: [...]}]}."""
    if not isinstance(body, dict) or not isinstance(body.get("matches"), list):
        return [], [_malformed("body", 'must be an object with a list "matches"')]
    rows: list[Row] = []
    errors: list[RowError] = []
    for i, match in enumerate(body["matches"]):
        where = f"matches[{i}]"
        if not isinstance(match, dict) or not isinstance(match.get("participants"), list):
            errors.append(_malformed(where, 'must be an object with a list "participants"'))
            continue
        for j, person in enumerate(match["participants"]):
            if not isinstance(person, dict):
                errors.append(_malformed(f"{where}.participants[{j}]", "must be an object"))
                continue
            record = {**person, **{k: match.get(k) for k in ("match_id", "matched_on", "kind")}}
            if isinstance(person.get(CHILDREN_AGES), list):
                record[CHILDREN_AGES] = ",".join(str(age) for age in person[CHILDREN_AGES])
            checked = check_record(record, f"{where}.participants[{j}]", region)
            if isinstance(checked, list):
                errors.extend(checked)
            else:
                rows.append(checked)
    if not rows and not errors:
        errors.append(RowError("body", RowProblem.NO_MATCHES))
    errors.extend(check_consistency(rows))
    return rows, errors


# a first meeting older than this many days is a row error unless accepted (the CLI's default
# of --max-age-days, and the API's window)
MAX_AGE_DAYS = 90


def check_dates(
    rows: Iterable[Row],
    today: date,
    max_age_days: int,
    accept_old: bool,
    accept_hint: str = "give --accept-old",
) -> list[RowError]:
    """A first meeting in the future is a mistake; one older than `max_age_days` is most often
    one too (a year typed wrong, an old sheet), unless the importer says they mean it: its
    follow-up would start at once and ask about a fika long ago."""
    errors = []
    oldest = today - timedelta(days=max_age_days)
    for row in rows:
        if row.matched_on > today:
            errors.append(RowError(row.where, RowProblem.IN_FUTURE, {"date": str(row.matched_on)}))
        elif row.matched_on < oldest and not accept_old:
            errors.append(
                RowError(
                    row.where,
                    RowProblem.TOO_OLD,
                    {"date": str(row.matched_on), "days": str(max_age_days), "hint": accept_hint},
                )
            )
    return errors


# matches written per round of statements: the lookups bind at most a few thousand values (asyncpg
# allows 32,767 per statement) and what one round holds in memory stays the same however long
# the file is
BATCH = 500
_FIELDS = PERSON
_person = attrgetter(*_FIELDS)


# The API's body, checked by type before any value is looked at: strings are strings (no objects,
# lists, booleans or numbers where a name or id belongs), lengths bounded, no control characters,
# no unknown fields. What a value means (a language, a phone number) is check_record's.
_Text = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_control)]
_Id = Annotated[str, StringConstraints(max_length=100, pattern=r"^[\w.:/#@+-]+$")]
_Word = Annotated[str, StringConstraints(max_length=40), AfterValidator(no_control)]
_STRICT = ConfigDict(strict=True, extra="forbid")


class ApiParticipant(BaseModel):
    model_config = _STRICT
    participant_id: _Id
    first_name: _Text
    role: _Word
    language: _Word
    channel: _Word
    phone: _Word | None = None
    email: _Text | None = None
    gender: _Word | None = None
    # "3, 7" as in a match file, or [3, 7]
    children_ages: _Word | list[int] | None = None


class ApiMatch(BaseModel):
    model_config = _STRICT
    match_id: _Id
    matched_on: _Word
    kind: _Word
    participants: list[ApiParticipant]


class ApiBody(BaseModel):
    model_config = _STRICT
    matches: list[ApiMatch]
    # the API's --accept-old: first meetings older than the window are meant
    accept_old: bool = False


class NotJson(ValueError):
    """The API's body is not JSON at all (or nested past what the parser follows)."""


def read_api_body(
    raw: bytes, region: str, today: date | None = None
) -> tuple[list[Row], list[RowError]]:
    """Parse and check the API's body in one pass: the schema first, then each record's values,
    then (given `today`, in the programme's zone) the dates the CSV import checks."""
    try:
        body = ApiBody.model_validate_json(raw)
    except ValidationError as exc:
        problems = exc.errors(include_input=False, include_url=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise NotJson from None
        return [], [_malformed(_where(problem["loc"]), problem["msg"]) for problem in problems]
    rows, errors = read_json(body.model_dump(exclude={"accept_old"}), region)
    if errors or today is None:
        return rows, errors
    # one error per match, naming its field: every participant of a match carries its date
    firsts = {row.where.partition(".participants")[0]: row for row in rows}
    dated = [dataclasses.replace(row, where=f"{match}.matched_on") for match, row in firsts.items()]
    return rows, check_dates(
        dated, today, MAX_AGE_DAYS, body.accept_old, accept_hint='send "accept_old": true'
    )


def _malformed(where: str, detail: str) -> RowError:
    return RowError(where, RowProblem.MALFORMED, {"detail": detail})


def _where(loc: tuple[int | str, ...]) -> str:
    """Pydantic's location ('matches', 0, 'participants', 1, 'first_name') as the README writes
    it: matches[0].participants[1].first_name."""
    where = ""
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    return where or "body"


async def apply(
    session: AsyncSession,
    programme: Programme,
    rows: list[Row],
    now: datetime,
    survey_days: Mapping[str, int],
) -> IntakeResult:
    """Write checked rows in one transaction (the caller commits). Same rows again: nothing
    changes.

    `survey_days` says how many days after the first meeting each survey is due. Set-based: a
    batch of matches costs a few lookups and one bulk insert per table, whatever its size.
    """
    by_match: dict[str, list[Row]] = {}
    for row in rows:
        by_match.setdefault(row.match_id, []).append(row)
    match_ids = list(by_match)
    writer = _Writer(programme, now, survey_days)
    for start in range(0, len(match_ids), BATCH):
        await writer.write(session, {m: by_match[m] for m in match_ids[start : start + BATCH]})
    return writer.result


async def apply_in_batches(
    sessions: async_sessionmaker[AsyncSession],
    programme_id: str,
    checked: CheckedRows,
    now: datetime,
    survey_days: Mapping[str, int],
    commit: bool = True,
) -> IntakeResult:
    """Write checked rows (all of them checked first) in transactions of BATCH whole matches,
    each committed before the next: on SQLite, where one writer at a time holds the database,
    a webhook waits for one batch, not for the whole file. With `commit` false, one transaction
    rolled back at the end (a dry run).

    A crash leaves the batches committed so far: whole matches with their participants and
    follow-ups, none half-written. Importing the file again writes the rest and changes
    nothing in what was written."""
    async with sessions() as session:
        programme = await session.get_one(Programme, programme_id)
        writer = _Writer(programme, now, survey_days)
        for batch in checked.batches(BATCH):
            await writer.write(session, batch)
            if commit:
                await session.commit()
        if not commit:
            await session.rollback()
    return writer.result


class _Writer:
    """Writes batches of whole matches: a few lookups on the tables' unique keys and one bulk
    insert per table for each batch."""

    def __init__(self, programme: Programme, now: datetime, survey_days: Mapping[str, int]):
        self.programme_id = programme.id
        self.window = send_window(programme)
        self.surveys = [name for name in programme.surveys.split(",") if name]
        self.survey_days = survey_days
        self.now = now
        # imported late: still followed up, at the next time we may write
        self.earliest = self.window.next_allowed(now)
        # a file's matches share a handful of first-meeting dates: each date's due times once
        self.due: dict[tuple[date, str], datetime] = {}
        self.result = IntakeResult()
        # per table: the rows its statistics know of, and the rows this import added since
        self.known: dict[str, float] | None = None
        self.grown: dict[str, int] = {}

    async def write(self, session: AsyncSession, batch: Mapping[str, list[Row]]) -> None:
        people = await self._participants(session, batch)
        await self._matches(session, batch, people)
        await self._analyse_if_grown(session)

    async def _analyse_if_grown(self, session: AsyncSession) -> None:
        """PostgreSQL plans the lookups by its statistics; a table that grew past what they
        say gets the wrong plan (the programme index plus a filter over every row: 200 s of
        lookups for 100,000 rows instead of 3 s), and autovacuum, where it runs at all, sees
        an import's rows only once committed and only every minute. Bulk loads are what ANALYZE
        is for: a table is analysed once this import has added as many rows as its statistics
        knew (so a table of a million rows is not sampled again for a small import). SQLite
        picks the unique key by the shape of the query."""
        if session.get_bind().dialect.name != "postgresql":
            return
        if self.known is None:
            found = await session.execute(
                text(
                    "SELECT relname, reltuples FROM pg_class WHERE oid IN (to_regclass("
                    "'participant'), to_regclass('matches'), to_regclass('match_member'),"
                    " to_regclass('followup'))"
                )
            )
            # -1: never analysed
            self.known = {name: max(float(rows), 0.0) for name, rows in found}
        stale = [
            table
            for table, rows in self.grown.items()
            if rows >= max(self.known.get(table, 0.0), 2 * BATCH)
        ]
        if stale:
            await session.execute(text(f"ANALYZE {', '.join(sorted(stale))}"))
            for table in stale:
                self.known[table] = self.known.get(table, 0.0) + self.grown.pop(table)

    def _due(self, matched_on: date, survey: str) -> datetime:
        due = self.due.get((matched_on, survey))
        if due is None:
            at = self.window.due_at(matched_on, self.survey_days[survey])
            due = self.due[(matched_on, survey)] = max(at, self.earliest)
        return due

    async def _insert(
        self, session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]
    ) -> None:
        await _insert(session, model, rows)
        table = str(model.__tablename__)
        self.grown[table] = self.grown.get(table, 0) + len(rows)

    async def _participants(
        self, session: AsyncSession, batch: Mapping[str, list[Row]]
    ) -> dict[str, int]:
        """The batch's participants, created or changed; their ids by external id."""
        first: dict[str, Row] = {}
        for match_rows in batch.values():
            for row in match_rows:
                first.setdefault(row.participant_id, row)
        people: dict[str, int] = {}
        changed = []
        for pid, external_id, *values in await session.execute(
            participant_lookup(self.programme_id, list(first), *_columns())
        ):
            people[external_id] = pid
            wanted = _fields(first[external_id])
            if wanted[CHILDREN_AGES] is None:
                # the file has no ages column: the ages stored stay
                wanted[CHILDREN_AGES] = values[_FIELDS.index(CHILDREN_AGES)]
            if tuple(values) != tuple(wanted.values()):
                changed.append({"id": pid, **wanted, "updated_at": self.now})
        if changed:
            await session.execute(update(Participant), changed)
            self.result.participants_changed += len(changed)
        new = [
            {
                "programme_id": self.programme_id,
                "external_id": external_id,
                "created_at": self.now,
                "updated_at": self.now,
                **_fields(row),
                CHILDREN_AGES: row.children_ages or "",
            }
            for external_id, row in first.items()
            if external_id not in people
        ]
        if new:
            await self._insert(session, Participant, new)
            for pid, external_id in await session.execute(
                participant_lookup(self.programme_id, [str(n["external_id"]) for n in new])
            ):
                people[external_id] = pid
            self.result.participants_created += len(new)
        landlines = {
            people[external_id]: external_id
            for external_id, row in first.items()
            if row.phone and row.landline
        }
        if landlines:
            # a landline cannot take an SMS, but a coordinator can phone it: kept, not for SMS
            for person in await session.scalars(
                select(Participant).where(Participant.id.in_(list(landlines)))
            ):
                if not person.is_dead("sms"):
                    person.mark_dead("sms")
                    self.result.landlines.append(landlines[person.id])
        return people

    async def _matches(
        self, session: AsyncSession, batch: Mapping[str, list[Row]], people: Mapping[str, int]
    ) -> None:
        """The batch's matches, their members and their follow-ups: created, changed or moved."""
        now, result = self.now, self.result
        ids: dict[str, int] = {}
        moved: set[int] = set()  # matches whose date changed: their scheduled follow-ups move
        changed = []
        for mid, external_id, matched_on, kind in await session.execute(
            select(Match.id, Match.external_id, Match.matched_on, Match.kind).where(
                Match.programme_id == self.programme_id, Match.external_id.in_(list(batch))
            )
        ):
            ids[external_id] = mid
            row = batch[external_id][0]
            if (matched_on, kind) != (row.matched_on, row.kind):
                if matched_on != row.matched_on:
                    moved.add(mid)
                changed.append(
                    {"id": mid, "matched_on": row.matched_on, "kind": row.kind, "updated_at": now}
                )
        if changed:
            await session.execute(update(Match), changed)
            result.matches_changed += len(changed)
        existing_matches = list(ids.values())
        new = [
            {
                "programme_id": self.programme_id,
                "external_id": external_id,
                "matched_on": match_rows[0].matched_on,
                "kind": match_rows[0].kind,
                "created_at": now,
                "updated_at": now,
            }
            for external_id, match_rows in batch.items()
            if external_id not in ids
        ]
        if new:
            await self._insert(session, Match, new)
            for mid, external_id in await session.execute(
                select(Match.id, Match.external_id).where(
                    Match.programme_id == self.programme_id,
                    Match.external_id.in_([n["external_id"] for n in new]),
                )
            ):
                ids[external_id] = mid
            result.matches_created += len(new)

        members: dict[int, set[int]] = {mid: set() for mid in ids.values()}
        followups: dict[tuple[int, int, str], tuple[int, str, datetime]] = {}
        if existing_matches:
            for mid, pid in await session.execute(
                select(MatchMember.match_id, MatchMember.participant_id).where(
                    MatchMember.match_id.in_(existing_matches)
                )
            ):
                members[mid].add(pid)
            for fid, mid, pid, survey, status, due_at in await session.execute(
                select(
                    FollowUp.id,
                    FollowUp.match_id,
                    FollowUp.participant_id,
                    FollowUp.survey,
                    FollowUp.status,
                    FollowUp.due_at,
                ).where(FollowUp.match_id.in_(existing_matches))
            ):
                followups[(mid, pid, survey)] = (fid, status, due_at)
        new_members = []
        for external_id, match_rows in batch.items():
            mid = ids[external_id]
            for row in match_rows:
                pid = people[row.participant_id]
                if pid not in members[mid]:
                    new_members.append({"match_id": mid, "participant_id": pid})
                    members[mid].add(pid)
        if new_members:
            await self._insert(session, MatchMember, new_members)

        new_followups = []
        moves = []
        for external_id, match_rows in batch.items():
            mid = ids[external_id]
            due_of = {
                survey: self._due(match_rows[0].matched_on, survey) for survey in self.surveys
            }
            for pid in sorted(members[mid]):
                for survey, due in due_of.items():
                    known = followups.get((mid, pid, survey))
                    if known is None:
                        new_followups.append(
                            {
                                "programme_id": self.programme_id,
                                "match_id": mid,
                                "participant_id": pid,
                                "survey": survey,
                                "due_at": due,
                                "status": FollowUpStatus.SCHEDULED,
                            }
                        )
                    elif mid in moved and known[1] == FollowUpStatus.SCHEDULED and known[2] != due:
                        moves.append({"id": known[0], "due_at": due})
        if new_followups:
            await self._insert(session, FollowUp, new_followups)
            result.followups_created += len(new_followups)
        if moves:
            await session.execute(update(FollowUp), moves)
            result.followups_moved += len(moves)


def participant_lookup(programme_id: str, external_ids: list[str], *columns: Any) -> Select[Any]:
    """A batch's participants by their ids in the file: on the unique key (programme_id,
    external_id), both columns in the index condition (the benchmark shows its plan)."""
    return select(Participant.id, Participant.external_id, *columns).where(
        Participant.programme_id == programme_id, Participant.external_id.in_(external_ids)
    )


def _fields(row: Row) -> dict[str, object]:
    return dict(zip(_FIELDS, _person(row), strict=True))


def _columns() -> list[Any]:
    return [getattr(Participant, key) for key in _FIELDS]


async def _insert(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Many rows into one table in one go: executemany on SQLite, COPY on PostgreSQL (a tenth
    of the time of the multi-row INSERTs executemany becomes there). Columns the rows leave
    out take their model defaults. Always after a lookup in the same transaction: asyncpg's
    COPY runs in the transaction SQLAlchemy's first statement opened."""
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect
    defaults = {
        column.name: cast(Any, column.default).arg
        for column in table.columns
        if column.default is not None and getattr(column.default, "is_scalar", False)
    }
    names = list(rows[0]) + [name for name in defaults if name not in rows[0]]
    if dialect.name != "postgresql":
        await _insert_driver_values(session, table, names, defaults, rows)
        return
    kinds = [table.columns[name].type for name in names]
    records = [
        tuple(
            _copied(row[name] if name in row else defaults[name], kind)
            for name, kind in zip(names, kinds, strict=True)
        )
        for row in rows
    ]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    assert raw.driver_connection is not None
    await raw.driver_connection.copy_records_to_table(table.name, records=records, columns=names)


async def _insert_driver_values(
    session: AsyncSession,
    table: Table,
    names: list[str],
    defaults: Mapping[str, object],
    rows: list[dict[str, Any]],
) -> None:
    """SQLite's executemany with the values made here by each column type's own bind step:
    SQLAlchemy's executemany builds and processes a parameter dictionary per row, more than half
    the write's time for 20,000 follow-ups. A column's values are made a column at a time, and a
    time or a date once per distinct value (a batch's rows share the import's `now` and a few
    due times)."""
    dialect = session.get_bind().dialect
    columns: list[list[object]] = []
    for name in names:
        column = table.columns[name]
        values = [row[name] if name in row else defaults[name] for row in rows]
        step = column.type.dialect_impl(dialect).bind_processor(dialect)
        # None too goes through the step, as SQLAlchemy sends it (a JSON column makes it null)
        if step is not None and isinstance(column.type, UTCDateTime | Date):
            made: dict[object, object] = {}
            for value in values:
                if value not in made:
                    made[value] = step(value)
            values = [made[value] for value in values]
        elif step is not None:
            values = [step(value) for value in values]
        columns.append(values)
    quote = dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))})"
        f" VALUES ({', '.join('?' for _ in names)})"
    )
    connection = await session.connection()
    await connection.exec_driver_sql(statement, list(zip(*columns, strict=True)))


def _copied(value: object, kind: object) -> object:
    # COPY takes the driver's values: what the column type's bind step would have made
    if isinstance(kind, UTCDateTime) and isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, str):
        return str(value)  # a StrEnum member as its plain text
    return value

"""The checked rows of one match file, held between the check and the write.

An import checks every row before it writes any (a bad file imports nothing), and a national
programme's file runs to hundreds of thousands of rows. Held as Python objects they made the
import's memory grow with the file; here they go into a private temporary SQLite database (the
empty file name: SQLite creates it unlinked and deletes it on close, so no name on disk ever
holds the rows), where the rules across rows are a few queries and the write reads the rows
back a batch of whole matches at a time. Memory stays SQLite's page cache, whatever the length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter
from types import TracebackType
from typing import Any

from store.vocabulary import RowProblem


@dataclass(frozen=True)
class Row:
    """One participant in one match, checked and normalised."""

    where: str
    match_id: str
    matched_on: date
    kind: str
    participant_id: str
    first_name: str
    role: str
    language: str
    channel: str
    phone: str | None
    email: str | None
    gender: str | None
    # "3,7"; "" when the column is there but empty; None when not given at all (the ages
    # already stored stay as they are)
    children_ages: str | None = None
    # the phone is a landline by its numbering plan: kept for phoning, not used for SMS
    landline: bool = False


# what makes a person the same person wherever the file names them
PERSON = (
    "first_name",
    "role",
    "language",
    "channel",
    "phone",
    "email",
    "gender",
    "children_ages",
)
# `where` is a word of SQL: the column is `place`
_COLUMNS = ("place", *(f.name for f in fields(Row)[1:]))
# dataclasses.astuple deep-copies every value: a third of the check's time on a large file
_values = attrgetter(*(f.name for f in fields(Row)))
# an error's place among those of one row, as the rules have always listed them
_DATE, _PERSON, _TWICE, _ALONE = range(4)
# one problem across rows: where, its place among the row's errors, what, and its parameters
Across = tuple[str, int, RowProblem, dict[str, str]]


class CheckedRows:
    """Good rows in file order, and where the bad ones were (a match whose other row was bad
    is not also called too small)."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")  # scratch: nothing to recover after a crash
        self._db.execute(f"CREATE TABLE good (seq INTEGER PRIMARY KEY, {', '.join(_COLUMNS)})")
        self._db.execute("CREATE TABLE bad (seq INTEGER PRIMARY KEY, match_id, place)")
        self._db.execute("BEGIN")
        self._pending: list[tuple[object, ...]] = []
        self.count = 0

    def __enter__(self) -> CheckedRows:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def add(self, row: Row) -> None:
        values: tuple[Any, ...] = _values(row)
        self._pending.append((*values[:2], values[2].isoformat(), *values[3:]))
        self.count += 1
        if len(self._pending) >= 1000:
            self._flush()

    def add_bad(self, match_id: str, where: str) -> None:
        self._flush()
        self._db.execute("INSERT INTO bad (match_id, place) VALUES (?, ?)", (match_id, where))

    def _flush(self) -> None:
        if self._pending:
            marks = ", ".join("?" for _ in _COLUMNS)
            self._db.executemany(
                f"INSERT INTO good ({', '.join(_COLUMNS)}) VALUES ({marks})",
                self._pending,
            )
            self._pending.clear()

    def _ready(self) -> None:
        self._flush()
        self._db.execute("CREATE INDEX IF NOT EXISTS good_match ON good (match_id, seq)")
        self._db.execute("CREATE INDEX IF NOT EXISTS good_person ON good (participant_id, seq)")
        self._db.execute("CREATE INDEX IF NOT EXISTS bad_match ON bad (match_id, seq)")

    def errors(self) -> list[Across]:
        """The rules across rows, as (where, place among the row's errors, code, params): a match is
        one date and kind with two or more people, a person is one person."""
        self._ready()
        found: list[Across] = []
        for where, match_id, first in self._db.execute(
            "SELECT r.place, r.match_id, f.place FROM good r"
            " JOIN (SELECT match_id, min(seq) AS seq FROM good GROUP BY match_id) m"
            " ON m.match_id = r.match_id JOIN good f ON f.seq = m.seq"
            " WHERE r.seq <> f.seq AND (r.matched_on, r.kind) <> (f.matched_on, f.kind)"
        ):
            found.append((where, _DATE, RowProblem.MATCH_DIFFERS, {"match": match_id, "at": first}))
        differs = " OR ".join(f"r.{c} IS NOT f.{c}" for c in PERSON)
        for where, participant_id, first in self._db.execute(
            "SELECT r.place, r.participant_id, f.place FROM good r"
            " JOIN (SELECT participant_id, min(seq) AS seq FROM good GROUP BY participant_id) p"
            " ON p.participant_id = r.participant_id JOIN good f ON f.seq = p.seq"
            f" WHERE r.seq <> f.seq AND ({differs})"
        ):
            found.append(
                (
                    where,
                    _PERSON,
                    RowProblem.PERSON_DIFFERS,
                    {"participant": participant_id, "at": first},
                )
            )
        for where, participant_id, match_id in self._db.execute(
            "SELECT r.place, r.participant_id, r.match_id FROM good r WHERE EXISTS (SELECT 1"
            " FROM good e WHERE e.match_id = r.match_id AND e.participant_id = r.participant_id"
            " AND e.seq < r.seq)"
        ):
            found.append(
                (
                    where,
                    _TWICE,
                    RowProblem.PERSON_TWICE,
                    {"participant": participant_id, "match": match_id},
                )
            )
        # a match of one row, counting its bad rows: named at its first good row, else its bad
        for match_id, good, bad in self._db.execute(
            "SELECT match_id, (SELECT place FROM good g WHERE g.match_id = m.match_id"
            " ORDER BY seq LIMIT 1), (SELECT place FROM bad b WHERE b.match_id = m.match_id"
            " ORDER BY seq LIMIT 1) FROM (SELECT match_id FROM good UNION ALL"
            " SELECT match_id FROM bad WHERE match_id <> '') m"
            " GROUP BY match_id HAVING count(*) < 2"
        ):
            found.append((good or bad, _ALONE, RowProblem.MATCH_TOO_SMALL, {"match": match_id}))
        return found

    def rows(self) -> Iterator[Row]:
        """Every good row, in file order."""
        self._ready()
        for values in self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM good ORDER BY seq"):
            yield _row(values)

    def dated_outside(self, earliest: date, latest: date) -> Iterator[Row]:
        """The good rows whose first meeting is before `earliest` or after `latest`, in file
        order: the date check asks only about these, not every row of a long file."""
        self._ready()
        for values in self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM good WHERE matched_on < ? OR matched_on > ?"
            " ORDER BY seq",
            (earliest.isoformat(), latest.isoformat()),
        ):
            yield _row(values)

    def batches(self, size: int) -> Iterator[dict[str, list[Row]]]:
        """The rows grouped by match, `size` whole matches at a time, in the order the matches
        first appear in the file (a match's rows need not be next to each other)."""
        self._ready()
        batch: dict[str, list[Row]] = {}
        for values in self._db.execute(
            f"SELECT {', '.join('g.' + c for c in _COLUMNS)} FROM good g"
            " JOIN (SELECT match_id, min(seq) AS first FROM good GROUP BY match_id) m"
            " ON m.match_id = g.match_id ORDER BY m.first, g.seq"
        ):
            row = _row(values)
            if row.match_id not in batch and len(batch) >= size:
                yield batch
                batch = {}
            batch.setdefault(row.match_id, []).append(row)
        if batch:
            yield batch


def _row(values: tuple[Any, ...]) -> Row:
    # the columns are Row's fields in order; SQLite hands back the date as text, the flag as 0/1
    where, match_id, matched_on = values[:3]
    return Row(*(where, match_id, date.fromisoformat(matched_on), *values[3:-1], bool(values[-1])))

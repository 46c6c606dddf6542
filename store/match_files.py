"""Reading match files as coordinators' spreadsheet programs save them.

Swedish Excel saves "CSV" with semicolons in Windows-1252, LibreOffice asks, Numbers writes UTF-8
with or without a BOM, and an .xlsx keeps dates as date cells and phone numbers as numbers. This
module turns any of them into a header and plain text records; `store.intake` checks the records.
Values are read as people type them: `Familj`, `Nyanländ`, `Arabiska`, `SMS`, `Kvinna`, `4/5/2026`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from charset_normalizer import from_bytes

from messages.languages import all_languages
from store.vocabulary import ROW_PROBLEM_TEXT, RowProblem

MAX_FILE = 4 * 1024 * 1024
# no cell of a match file is longer than a name or an address; the csv module's limit is
# process-wide, and nothing else here reads CSV that needs more
MAX_FIELD = 10_000
csv.field_size_limit(MAX_FIELD)
_XLSX = b"PK\x03\x04"  # a zip file's first bytes, as every .xlsx is
_CHUNK = 1024 * 1024

# Words a coordinator may write for each code, lower case. Language names come from each
# language's data file (its names in Swedish, English and itself, and its aliases).
WORDS: Mapping[str, Mapping[str, str]] = {
    "language": {
        name.lower(): code
        for code, language in all_languages().items()
        for name in (*language.names.values(), *language.aliases)
    },
    "kind": {
        "individ": "individual",
        "individuell": "individual",
        "enskild": "individual",
        "familj": "family",
        "familjer": "family",
    },
    "role": {
        "nyanländ": "newcomer",
        "nyanlända": "newcomer",
        "ny": "newcomer",
        "etablerad": "established",
        "etablerade": "established",
    },
    "channel": {
        "e-post": "email",
        "epost": "email",
        "e-mail": "email",
        "mejl": "email",
        "mail": "email",
        "text": "sms",
        "telegram": "telegram",
    },
    "gender": {
        "kvinna": "woman",
        "man": "man",
        "annat": "other",
        "annan": "other",
    },
}


@dataclass(frozen=True)
class Table:
    """A file's header (lower case, trimmed) and its records, each with where it was."""

    header: list[str]
    records: list[tuple[str, dict[str, str]]]
    # rows that cannot be read as records at all, with why
    problems: list[tuple[str, RowProblem]] = field(default_factory=list)


class FileProblem(ValueError):
    """The file as a whole cannot be read; `where` says which part, `code` and `params` what
    (`reason` is that in English)."""

    def __init__(self, where: str, code: RowProblem, **params: str) -> None:
        reason = ROW_PROBLEM_TEXT[code].format(**params)
        super().__init__(f"{where}: {reason}")
        self.where, self.reason, self.code, self.params = where, reason, code, params


def word(key: str, value: str) -> str:
    """The code a typed word stands for (`Arabiska` → `ar`), or the value in lower case."""
    lowered = value.strip().lower()
    return WORDS.get(key, {}).get(lowered, lowered)


_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?")
_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


def parse_date(value: str) -> date | None:
    """2026-05-04, 2026/05/04, 2026-05-04 00:00:00 and 4/5/2026 (day first, as in Sweden)."""
    text = value.strip()
    try:
        if found := _ISO.fullmatch(text):
            return date(int(found[1]), int(found[2]), int(found[3]))
        if found := _DAY_FIRST.fullmatch(text):
            return date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        return None
    return None


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM) first, else the detected encoding."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    encoding = _detected(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _detected(sample: bytes) -> str:
    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "utf_16", "iso8859_15"]).best()
    if best is None:
        raise FileProblem("file", RowProblem.NOT_TEXT)
    # Windows-1252 is Latin-1 plus the curly quotes and € Excel writes; prefer it for either
    return "cp1252" if best.encoding in ("latin_1", "iso8859_15") else best.encoding


def _decodes(file: BinaryIO, encoding: str) -> bool:
    """Whether the whole file decodes, read a chunk at a time (memory stays the chunk's)."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := file.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _file_encoding(file: BinaryIO) -> str:
    """`decode`'s choice for a file read from disk: the detector sees the first MAX_FILE bytes
    (the whole of any file the upload takes, so both read a file alike)."""
    if _decodes(file, "utf-8"):
        return "utf-8-sig"
    file.seek(0)
    encoding = _detected(file.read(MAX_FILE))
    return encoding if _decodes(file, encoding) else "latin-1"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed into a number cell
    return str(value).strip()


def _header(names: Iterable[str], where: str = "line 1") -> list[str]:
    """The header row, refused when a column is named twice (which one would be meant?)."""
    header = list(names)
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        raise FileProblem(where, RowProblem.COLUMN_TWICE, columns=", ".join(twice))
    return header


# one line of a file as it is read: where it is, and its values by column or why it has none
Item = tuple[str, dict[str, str] | RowProblem]


@dataclass
class Stream:
    """A file's header and its lines, read one at a time: memory stays one line's, however long
    the file. `items` raises FileProblem when a line cannot be read at all."""

    header: list[str]
    items: Iterator[Item]


def _csv_stream(text: TextIO) -> Stream:
    first = text.readline()
    # Swedish Excel separates with ';' because ',' is the decimal mark
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
    try:
        names = next(reader, [])
    except csv.Error as exc:
        raise _csv_problem(reader.line_num, exc) from None
    header = _header(v.strip().lower() for v in names)

    def items() -> Iterator[Item]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _csv_problem(reader.line_num, exc) from None
            where = f"line {reader.line_num}"
            if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
                yield where, RowProblem.TOO_MANY_FIELDS
                continue
            yield where, dict(zip(header, (v.strip() for v in values), strict=False))

    return Stream(header, items())


def _csv_problem(line: int, exc: csv.Error) -> FileProblem:
    # a cell past MAX_FIELD (a quote never closed makes one): nothing after it is sure
    if "field larger" in str(exc):
        return FileProblem(f"line {line}", RowProblem.CELL_TOO_LONG, limit=str(MAX_FIELD))
    return FileProblem(f"line {line}", RowProblem.NOT_CSV, detail=str(exc))


def _xlsx_stream(source: BinaryIO | Path) -> Stream:
    from openpyxl import load_workbook

    try:
        # read_only: openpyxl parses the sheet as it goes instead of building it in memory
        book = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise FileProblem("file", RowProblem.NOT_XLSX) from None
    rows = enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)
    header: list[str] = []
    for number, row in rows:
        names = [_cell(v).lower() for v in row]
        while names and not names[-1]:
            names.pop()
        header = _header(names, f"row {number}")
        break

    def items() -> Iterator[Item]:
        try:
            for number, row in rows:
                yield f"row {number}", dict(zip(header, (_cell(v) for v in row), strict=False))
        finally:
            book.close()

    return Stream(header, items())


def _table(stream: Stream) -> Table:
    records: list[tuple[str, dict[str, str]]] = []
    problems: list[tuple[str, RowProblem]] = []
    for where, item in stream.items:
        # a RowProblem is a str too: tell the two apart by the record
        if isinstance(item, dict):
            records.append((where, item))
        else:
            problems.append((where, item))
    return Table(stream.header, records, problems)


def read_csv_table(data: bytes) -> Table:
    return _table(_csv_stream(io.StringIO(decode(data), newline="")))


def read_xlsx_table(data: bytes) -> Table:
    return _table(_xlsx_stream(io.BytesIO(data)))


def read_table(data: bytes) -> Table:
    """A CSV or .xlsx file (told apart by its first bytes, not its name) as a table."""
    if len(data) > MAX_FILE:
        raise FileProblem("file", RowProblem.FILE_TOO_LARGE, limit=str(MAX_FILE // (1024 * 1024)))
    if data[:4] == _XLSX:
        return read_xlsx_table(data)
    return read_csv_table(data)


@contextmanager
def open_table(path: Path) -> Iterator[Stream]:
    """A CSV or .xlsx file on disk, streamed: for the command line, where files of a national
    programme run to hundreds of thousands of rows. No MAX_FILE here (memory does not grow with
    the file); MAX_FIELD still holds. Raises OSError when the file cannot be read."""
    with path.open("rb") as file:
        if file.read(4) == _XLSX:
            file.seek(0)
            yield _xlsx_stream(file)
            return
        encoding = _file_encoding(file)
        file.seek(0)
        with io.TextIOWrapper(file, encoding=encoding, newline="") as text:
            yield _csv_stream(text)


def template_xlsx(columns: tuple[str, ...], example: list[list[object]]) -> bytes:
    """A spreadsheet with the columns and example rows, for a coordinator to fill in."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "matches"
    sheet.append(list(columns))
    for row in example:
        sheet.append(row)
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(14, len(column) + 4)
        for cell in sheet[letter][1:]:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

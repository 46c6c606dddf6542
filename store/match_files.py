"""Reading match files as coordinators' spreadsheet programs save them.

Swedish Excel saves "CSV" with semicolons in Windows-1252, LibreOffice asks, Numbers writes UTF-8
with or without a BOM, and an .xlsx keeps dates as date cells and phone numbers as numbers. This
module turns any of them into a header and plain text records; `store.intake` checks the records.
Values are read as people type them: `Familj`, `Nyanländ`, `Arabiska`, `SMS`, `Kvinna`, `4/5/2026`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from charset_normalizer import from_bytes

from messages.languages import all_languages
from store.vocabulary import ROW_PROBLEM_TEXT, RowProblem

MAX_FILE = 4 * 1024 * 1024
# no cell of a match file is longer than a name or an address; the csv module's limit is
# process-wide, and nothing else here reads CSV that needs more
MAX_FIELD = 10_000
csv.field_size_limit(MAX_FIELD)

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
    best = from_bytes(data, cp_isolation=["cp1252", "latin_1", "utf_16", "iso8859_15"]).best()
    if best is None:
        raise FileProblem("file", RowProblem.NOT_TEXT)
    # Windows-1252 is Latin-1 plus the curly quotes and € Excel writes; prefer it for either
    encoding = "cp1252" if best.encoding in ("latin_1", "iso8859_15") else best.encoding
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode("latin-1")


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


def read_csv_table(data: bytes) -> Table:
    text = decode(data)
    first = text.split("\n", 1)[0]
    # Swedish Excel separates with ';' because ',' is the decimal mark
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    records: list[tuple[str, dict[str, str]]] = []
    problems: list[tuple[str, RowProblem]] = []
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # a cell past MAX_FIELD (a quote never closed makes one): nothing after it is sure
            where = f"line {reader.line_num}"
            if "field larger" in str(exc):
                raise FileProblem(where, RowProblem.CELL_TOO_LONG, limit=str(MAX_FIELD)) from None
            raise FileProblem(where, RowProblem.NOT_CSV, detail=str(exc)) from None
        if header is None:
            header = _header(v.strip().lower() for v in values)
            continue
        where = f"line {reader.line_num}"
        if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
            problems.append((where, RowProblem.TOO_MANY_FIELDS))
            continue
        records.append((where, dict(zip(header, (v.strip() for v in values), strict=False))))
    return Table(header or [], records, problems)


def read_xlsx_table(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise FileProblem("file", RowProblem.NOT_XLSX) from None
    sheet = book.worksheets[0]
    header: list[str] | None = None
    records: list[tuple[str, dict[str, str]]] = []
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        values = [_cell(v) for v in row]
        if header is None:
            names = [v.lower() for v in values]
            while names and not names[-1]:
                names.pop()
            header = _header(names, f"row {number}")
            continue
        records.append((f"row {number}", dict(zip(header, values, strict=False))))
    book.close()
    return Table(header or [], records)


def read_table(data: bytes) -> Table:
    """A CSV or .xlsx file (told apart by its first bytes, not its name) as a table."""
    if len(data) > MAX_FILE:
        raise FileProblem("file", RowProblem.FILE_TOO_LARGE, limit=str(MAX_FILE // (1024 * 1024)))
    if data[:4] == b"PK\x03\x04":
        return read_xlsx_table(data)
    return read_csv_table(data)


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

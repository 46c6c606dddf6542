"""The tolerant reader: what Swedish Excel, LibreOffice and Numbers save, read as matches."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from fikafollow.commands import main
from store import intake
from store.checked_rows import CheckedRows
from store.match_files import parse_date, template_xlsx
from store.vocabulary import RowProblem
from tests.support.dbstate import query

HEADER = (
    "match_id;matched_on;kind;participant_id;first_name;role;language;channel;phone;email;gender"
)
SWEDISH_WORDS = (
    HEADER + "\r\n"
    "M1;4/5/2026;Individ;P1;Amina;Nyanländ;Arabiska;SMS;070-123 45 01;;Kvinna\r\n"
    "M1;4/5/2026;Individ;P2;Åke;Etablerad;Svenska;E-post;;ake@example.org;Man\r\n"
    "M2;2026/05/05;Familj;P3;Dawit;Newcomer;Tigrinya;sms;+46701234503;;\r\n"
    "M2;2026/05/05;FAMILY;P4;Märta;established;sv;Telegram;070-123 45 04;;woman\r\n"
)


def test_semicolon_latin1_with_swedish_words_reads_as_codes() -> None:
    rows, errors = intake.read_file(SWEDISH_WORDS.encode("cp1252"), "SE")
    assert errors == []
    first, second, third, _ = rows
    assert (first.matched_on, first.kind, first.role, first.language, first.channel) == (
        date(2026, 5, 4),
        "individual",
        "newcomer",
        "ar",
        "sms",
    )
    assert (first.gender, first.phone) == ("woman", "+46701234501")
    assert (second.first_name, second.language, second.channel, second.gender) == (
        "Åke",
        "sv",
        "email",
        "man",
    )
    assert (third.kind, third.matched_on, third.language) == ("family", date(2026, 5, 5), "ti")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_every_encoding_excel_saves_reads_the_same(encoding: str) -> None:
    rows, errors = intake.read_file(SWEDISH_WORDS.encode(encoding), "SE")
    assert errors == []
    assert [r.first_name for r in rows] == ["Amina", "Åke", "Dawit", "Märta"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-04", date(2026, 5, 4)),
        ("2026/05/04", date(2026, 5, 4)),
        ("4/5/2026", date(2026, 5, 4)),
        ("04.05.2026", date(2026, 5, 4)),
        ("2026-05-04 00:00:00", date(2026, 5, 4)),
        ("31/2/2026", None),
        ("May 4", None),
    ],
)
def test_dates_are_read_day_first(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_with_date_cells_and_number_cells_is_read() -> None:
    columns = [c.title() for c in intake.COLUMNS]  # headers as someone typed them
    data = _xlsx(
        [
            columns,
            [
                "M1",
                datetime(2026, 5, 4),
                "Individ",
                "P1",
                "Amina",
                "Nyanländ",
                "Arabic",
                "sms",
                46701234501,
                None,
                "Kvinna",
            ],
            [
                "M1",
                datetime(2026, 5, 4),
                "Individ",
                "P2",
                "Erik",
                "Etablerad",
                "sv",
                "email",
                None,
                "erik@example.org",
                "man",
            ],
            [None] * 11,
        ]
    )
    rows, errors = intake.read_file(data, "SE")
    assert errors == []
    assert [(r.matched_on, r.language, r.phone) for r in rows] == [
        (date(2026, 5, 4), "ar", "+46701234501"),
        (date(2026, 5, 4), "sv", None),
    ]


def test_problems_in_an_xlsx_are_named_by_row() -> None:
    data = _xlsx(
        [
            list(intake.COLUMNS),
            ["M1", "someday", "group", "P1", "Amina", "newcomer", "ar", "sms", "", "", ""],
        ]
    )
    rows, errors = intake.read_file(data, "SE")
    assert rows == []
    reasons = [str(e) for e in errors]
    assert "row 2: matched_on 'someday' is not a date like 2026-05-14 or 14/5/2026" in reasons
    assert any(r.startswith("row 2: kind 'group'") for r in reasons)
    assert "row 2: channel is sms but phone is empty" in reasons


def test_the_template_spreadsheet_imports_as_it_is() -> None:
    rows, errors = intake.read_file(template_xlsx(intake.COLUMNS, intake.EXAMPLE_ROWS), "SE")
    assert errors == []
    assert len(rows) == 2


def test_import_command_takes_an_xlsx(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    path = tmp_path / "matchningar.xlsx"
    path.write_bytes(template_xlsx(intake.COLUMNS, intake.EXAMPLE_ROWS))
    assert main(["import", str(path), "--now", "2026-05-10T12:00+02:00"]) == 0
    assert query(db_url, "SELECT count(*) FROM participant") == [(2,)]


MIXED = [
    SWEDISH_WORDS.encode("cp1252"),
    SWEDISH_WORDS.encode("utf-8-sig"),
    SWEDISH_WORDS.encode("utf-16"),
    SWEDISH_WORDS.replace("M2;2026/05/05", "M2;2026/05/06", 1).encode("latin-1"),
    (SWEDISH_WORDS + "M3;4/5/2026;Individ;P5;Amina;ny;sv;sms;12;;\r\n").encode("utf-8"),
    (SWEDISH_WORDS + 'M4;"never closed' + "x" * 20_000 + "\r\n").encode("utf-8"),
    b"",
    HEADER.encode() + b"\r\n",
]


@pytest.mark.parametrize("data", MIXED, ids=range(len(MIXED)))
def test_the_command_lines_streamed_reader_reads_a_file_as_the_upload_does(
    data: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "matches.csv"
    path.write_bytes(data)
    rows, expected = intake.read_file(data, "SE")
    with CheckedRows() as checked:
        errors = intake.check_path(path, "SE", checked)
        # the same errors in the same order; the rows too (a bad file writes none of them)
        assert errors == expected
        assert expected or list(checked.rows()) == rows


def test_the_streamed_reader_reads_an_xlsx_as_the_upload_does(tmp_path: Path) -> None:
    data = template_xlsx(intake.COLUMNS, intake.EXAMPLE_ROWS)
    path = tmp_path / "matchningar.xlsx"
    path.write_bytes(data)
    with CheckedRows() as checked:
        errors = intake.check_path(path, "SE", checked)
        assert (list(checked.rows()), errors) == intake.read_file(data, "SE")
    assert errors == [] and checked.count == 2


def test_the_rules_across_rows_name_each_row_that_breaks_one() -> None:
    lines = [
        ",".join(intake.COLUMNS),
        "M1,2026-05-04,individual,P1,Amina,newcomer,ar,sms,+46701740605,,woman",
        "M1,2026-05-04,individual,P2,Erik,established,sv,email,,erik@example.org,man",
        "M2,2026-05-05,family,P1,Amina B,newcomer,ar,sms,+46701740605,,woman",
        "M2,2026-05-06,individual,P3,Dawit,newcomer,ti,email,,dawit@example.org,",
        "M1,2026-05-04,individual,P2,Erik,established,sv,email,,erik@example.org,man",
        "M3,2026-05-04,individual,P4,Leila,newcomer,fa,sms,12,,woman",
        "M4,2026-05-04,individual,P5,Sara,newcomer,fa,sms,+46701740606,,woman",
        "M5,2026-05-04,individual,P6,Sam,newcomer,fa,sms,+46701740607,,",
        "M5,2026-05-04,individual,P7,Kim,newcomer,fa,xx,+46701740608,,",
        "M5,2026-05-04,individual,P6,Sam,newcomer,fa,sms,+46701740607,,",
    ]
    rows, errors = intake.read_file("\n".join(lines).encode(), "SE")
    assert len(rows) == 8
    assert [str(e) for e in errors] == [
        "line 4: participant P1 has other details at line 2",
        "line 5: match M2 has another date or kind at line 4",
        "line 6: participant P2 is twice in M1",
        "line 7: phone is not a valid number (check the digits and the country code)",
        "line 7: match M3 has only one participant",
        "line 8: match M4 has only one participant",
        "line 10: channel 'xx' is not one of telegram, sms, email",
        "line 11: participant P6 is twice in M5",
    ]
    # each one structured: a code the web app words in the coordinator's language
    assert [e.code for e in errors] == [
        RowProblem.PERSON_DIFFERS,
        RowProblem.MATCH_DIFFERS,
        RowProblem.PERSON_TWICE,
        RowProblem.PHONE_INVALID,
        RowProblem.MATCH_TOO_SMALL,
        RowProblem.MATCH_TOO_SMALL,
        RowProblem.NOT_ONE_OF,
        RowProblem.PERSON_TWICE,
    ]
    assert dict(errors[0].params) == {"participant": "P1", "at": "line 2"}


def test_the_streamed_reader_reads_the_aliased_ages_column_and_codes_its_lines(
    tmp_path: Path,
) -> None:
    lines = [
        ",".join(intake.COLUMNS) + ",barnens åldrar",
        "M1,2026-05-04,family,P1,Amina,newcomer,ar,sms,+46701740605,,woman,7 och 3",
        "M1,2026-05-04,family,P2,Erik,established,sv,email,,erik@example.org,man,",
        "M2,2026-05-04,family,P3,Dawit,newcomer,ti,sms,+46701740606,,,3,7",
    ]
    path = tmp_path / "matches.csv"
    path.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    with CheckedRows() as checked:
        assert intake.check_path(path, "SE", checked) == []
        assert [row.children_ages for row in checked.rows()] == ["3,7", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with CheckedRows() as checked:
        errors = intake.check_path(path, "SE", checked)
    assert [(e.where, e.code) for e in errors] == [("line 4", RowProblem.TOO_MANY_FIELDS)]

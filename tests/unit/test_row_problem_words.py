"""Every problem a match file can have is said in English (the CLI's and the API's words) and,
through the coordinators' catalogue, in Swedish with the same parameters."""

from __future__ import annotations

import string

from coordinator.texts import gettext
from store.intake import RowError
from store.vocabulary import ROW_PROBLEM_TEXT, RowProblem


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_problem_has_english_words() -> None:
    assert set(ROW_PROBLEM_TEXT) == set(RowProblem)


def test_every_problem_reads_in_swedish_with_the_same_parameters() -> None:
    for code, english in ROW_PROBLEM_TEXT.items():
        if code == RowProblem.MALFORMED:
            continue  # the API's schema errors: pydantic's English, never on a coordinator's page
        swedish = gettext("sv", english)
        assert swedish != english, code
        assert fields(swedish) == fields(english), code


def test_the_english_words_are_what_the_command_line_always_said() -> None:
    error = RowError(
        "line 2",
        RowProblem.NOT_ONE_OF,
        {"column": "kind", "value": repr("grupp"), "allowed": "individual, family"},
    )
    assert str(error) == "line 2: kind 'grupp' is not one of individual, family"
    assert RowError("line 3", RowProblem.MATCH_TOO_SMALL, {"match": "B9"}).reason == (
        "match B9 has only one participant"
    )

"""Children's ages as a match file and the API give them: `3, 7`, `3;7`, `3 och 7`, [3, 7]."""

from __future__ import annotations

import json

import pytest

from store import intake


@pytest.mark.parametrize(
    ("text", "ages"),
    [("3, 7", (3, 7)), ("7;3", (3, 7)), ("3 och 7", (3, 7)), ("12", (12,)), ("", ())],
)
def test_ages_as_people_write_them(text: str, ages: tuple[int, ...]) -> None:
    assert intake.parse_children_ages(text) == ages


@pytest.mark.parametrize("text", ["3.7", "tre", "18", "-1", "3,,x", "٣"])
def test_what_is_not_a_list_of_childrens_ages(text: str) -> None:
    assert intake.parse_children_ages(text) is None


def body(ages: object) -> bytes:
    person = {"role": "newcomer", "language": "sv", "channel": "sms", "phone": "+46701750001"}
    return json.dumps(
        {
            "matches": [
                {
                    "match_id": "F1",
                    "matched_on": "2026-05-04",
                    "kind": "family",
                    "participants": [
                        {
                            **person,
                            "participant_id": "P1",
                            "first_name": "A",
                            "children_ages": ages,
                        },
                        {**person, "participant_id": "P2", "first_name": "B"},
                    ],
                }
            ]
        }
    ).encode()


def test_the_api_takes_a_list_or_a_text_and_leaves_out_what_is_not_given() -> None:
    for given in ([7, 3], "3, 7"):
        rows, errors = intake.read_api_body(body(given), "SE")
        assert not errors
        assert [row.children_ages for row in rows] == ["3,7", None]
    rows, errors = intake.read_api_body(body([3, 40]), "SE")
    assert str(errors[0]) == (
        "matches[0].participants[0]: children_ages must be whole years from 0 to 17, separated"
        " by commas or semicolons, like 3, 7"
    )
    _, errors = intake.read_api_body(body({"a": 1}), "SE")
    assert errors and all(
        e.where.startswith("matches[0].participants[0].children_ages") for e in errors
    )


def test_the_column_under_both_its_names_is_named_twice() -> None:
    header = "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email"
    data = f"{header},gender,children_ages,barnens åldrar\n".encode()
    _, errors = intake.read_file(data, "SE")
    assert [str(e) for e in errors] == ["line 1: names a column twice: children_ages"]

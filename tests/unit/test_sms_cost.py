"""The README's SMS cost table is computed, not typed: it must match the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from bot.channels.sms.segments import GSM_BASIC, GSM_EXTENSION, segments
from tests.support.sms_cost import cost_table

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_table() -> dict[str, dict[str, str]]:
    """kind → language → cell, from the table under "## SMS cost"."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## SMS cost", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    languages = [cell.strip() for cell in rows[0].strip("|").split("|")][1:]
    table = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        table[cells[0].strip("`")] = dict(zip(languages, cells[1:], strict=True))
    return table


def test_readme_sms_cost_table_matches_the_catalogue() -> None:
    computed = cost_table()
    written = _readme_table()
    assert written, "README has no SMS cost table"
    # a kind another piece of work adds may be missing here until the table is regenerated
    # (`python -m tests.support.sms_cost`); a kind that is listed must be right
    for kind, cells in written.items():
        for language, cell in cells.items():
            if kind == "encoding":
                encodings = {enc for _n, enc in computed[language].values()}
                assert cell == "/".join(sorted(encodings)), language
            else:
                assert re.fullmatch(r"\d", cell), (kind, language, cell)
                assert int(cell) == computed[language][kind][0], (kind, language)


def test_gsm_alphabet_is_the_128_of_gsm_03_38_less_the_escape() -> None:
    assert len(GSM_BASIC) == 127 and len(GSM_EXTENSION) == 10
    assert not GSM_BASIC & GSM_EXTENSION and "\x1b" not in GSM_BASIC
    # the Swedish letters are in the basic set; a no-break space or a typographic apostrophe
    # is not and would double the cost of a Swedish text
    assert set("åäöÅÄÖé") <= GSM_BASIC
    assert segments("Hej Åsa! Vi ses på fika?" * 6) == 1
    assert segments("Hej Åsa! Vi ses på fika?" * 6 + "’") == 3

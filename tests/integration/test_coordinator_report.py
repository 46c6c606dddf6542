"""The funder report from the coordinators' web app: in the signed-in coordinator's language,
with words for codes, percentages, and a spreadsheet whose dates are dates."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.integration.test_coordinator_web import sign_in
from tests.support.coordinator_world import FIRST_EMAIL, World, make_world
from tests.support.mail_support import SmtpServer

PERIOD = "from=2026-05-01&to=2026-05-31"


@pytest.fixture
async def world(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async for w in make_world(db_url, tmp_path, smtp_server, monkeypatch):
        yield w


async def test_report_downloads_are_in_the_coordinators_swedish(world: World) -> None:
    client = await sign_in(world, FIRST_EMAIL)
    got = await client.get(f"/coordinator/report?{PERIOD}&format=csv")
    assert got.status_code == 200
    rows = list(csv.reader(io.StringIO(got.text)))
    assert ["Matchningar per typ"] in rows and ["Uppföljning per språk"] in rows
    # Amina (ar), Karin (sv), Dariush (fa), Erik (en): languages and roles in Swedish words
    names = {row[0] for row in rows if row}
    assert {"arabiska", "persiska", "svenska", "engelska", "nyanländ", "etablerad"} <= names
    assert not {"ar", "fa", "sv", "en", "newcomer", "established", "individual"} & names
    kinds = rows[rows.index(["Matchningar per typ"]) + 1 :][:3]
    assert kinds[0] == ["typ", "matchningar", "mål", "% av målet"]
    assert kinds[1][:2] == ["individ", "2"]

    book = await client.get(f"/coordinator/report?{PERIOD}&format=xlsx")
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None and sheet.title == "Rapport"
    assert sheet["B3"].value == datetime(2026, 5, 1) and sheet["B3"].number_format == "yyyy-mm-dd"
    page = await client.get(f"/coordinator/report?{PERIOD}")
    assert page.status_code == 200 and "Uppföljning per kanal" in page.text
    html = await client.get(f"/coordinator/report?{PERIOD}&format=html")
    assert 'lang="sv"' in html.text and "<svg " in html.text

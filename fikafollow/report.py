"""The funder report: the same tables as CSV, as a spreadsheet with charts, or as one HTML page
with inline SVG bars (no external assets, so it opens offline and can be mailed as it is)."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from store.models import Programme
from store.outcomes import FunderFigures, FunderRow
from store.reporting import spreadsheet_safe

OUTCOME_COLUMNS = (
    "followed up",
    "answered",
    "met again",
    "will meet again",
    "photos received",
    "photos consented",
)


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[list[object]]
    # (label column, value columns) to draw as bars, where a picture says it faster
    chart: tuple[int, tuple[int, ...]] | None = None


def answer_rows(figures: FunderFigures, order: Sequence[str] = ()) -> list[list[object]]:
    """Every survey's answers, by question: how many gave each, as a share of those who
    answered the question and of those the survey asked (in %)."""
    rank = {question: i for i, question in enumerate(order)}
    rows: list[list[object]] = []
    keys = sorted(figures.answers, key=lambda k: (k[0], rank.get(k[1], len(rank)), k[1]))
    for survey, question in keys:
        counts = figures.answers[(survey, question)]
        answered = sum(counts.values())
        asked = figures.asked_by_survey.get(survey, 0)
        for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            rows.append(
                [
                    survey,
                    question,
                    value,
                    n,
                    round(100 * n / answered) if answered else 0,
                    round(100 * n / asked) if asked else 0,
                ]
            )
    return rows


def tables(
    programme: Programme,
    figures: FunderFigures,
    first: date,
    last: date,
    order: Sequence[str] = (),
) -> list[Table]:
    share = 100.0 * figures.women_newcomers / figures.newcomers if figures.newcomers else 0.0

    def outcome_rows(groups: dict[str, FunderRow]) -> list[list[object]]:
        return [[name, *row.values()] for name, row in groups.items()]

    return [
        Table(
            "Report",
            ("programme", "from", "to"),
            [[programme.name, first.isoformat(), last.isoformat()]],
        ),
        Table(
            "Matches by kind",
            ("kind", "matches", "target"),
            [
                ["individual", figures.matches.get("individual", 0), programme.target_individual],
                ["family", figures.matches.get("family", 0), programme.target_family],
            ],
            chart=(0, (1, 2)),
        ),
        Table(
            "Participants by role and gender",
            ("role", "gender", "participants"),
            [[role, gender, n] for (role, gender), n in figures.participants.items()],
        ),
        Table(
            "Women among newcomers",
            ("newcomers", "women", "share of women %", "target %"),
            [
                [
                    figures.newcomers,
                    figures.women_newcomers,
                    round(share),
                    programme.target_women_percent,
                ]
            ],
        ),
        Table("Follow-up, all", OUTCOME_COLUMNS, [list[object](figures.total.values())]),
        Table(
            "Follow-up by language",
            ("language", *OUTCOME_COLUMNS),
            outcome_rows(figures.by_language),
            chart=(0, (1, 2, 3)),
        ),
        Table(
            "Follow-up by channel",
            ("channel", *OUTCOME_COLUMNS),
            outcome_rows(figures.by_channel),
            chart=(0, (1, 2, 3)),
        ),
        Table(
            "Answers by question",
            ("survey", "question", "answer", "count", "% of answers", "% of asked"),
            answer_rows(figures, order),
        ),
    ]


# the county board's form (Länsstyrelsen), in Swedish: the evaluation's outcomes, by question,
# with the words of the form; a question of any other survey is listed after them by its name
LANSSTYRELSEN_OUTCOMES: dict[str, str] = {
    "met_again": "Har träffats igen (efter tre veckor)",
    "met_once_more": "Har träffats minst en gång till",
    "practised_swedish": "Har övat svenska",
    "understand_sweden": "Förstår livet i Sverige bättre",
    "job_or_internship": "Jobb eller praktik genom fikakompisen",
    "activities_outside": "Aktiviteter utanför hemmet",
    "new_people": "Nya kontakter genom fikakompisen",
}
# the questions whose "yes" means they met again, counted per person and per pair
MET_AGAIN = ("met_again", "met_once_more")
SWEDISH_ANSWERS = {"yes": "Ja", "no": "Nej", "maybe": "Kanske", "a_little": "Lite"}
KIND_NAMES = {"individual": "Individ", "family": "Familj"}


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def lansstyrelsen_tables(
    programme: Programme,
    figures: FunderFigures,
    first: date,
    last: date,
    order: Sequence[str] = (),
) -> list[Table]:
    """The funder's final report in the county board's layout, in Swedish."""
    people = sum(figures.genders.values())
    women = figures.genders.get("woman", 0)
    total = figures.total
    kinds: list[list[object]] = []
    for kind, target in (
        ("family", programme.target_family),
        ("individual", programme.target_individual),
    ):
        count = figures.matches.get(kind, 0)
        kinds.append([KIND_NAMES[kind], count, target, _percent(count, target)])
    met: list[list[object]] = []
    for question in MET_AGAIN:
        for (survey, asked), matches in figures.by_match.items():
            if asked != question:
                continue
            counts = figures.answers.get((survey, asked), {})
            answered = sum(counts.values())
            pairs_yes = sum(1 for values in matches.values() if "yes" in values)
            met.append(
                [
                    LANSSTYRELSEN_OUTCOMES.get(question, question),
                    counts.get("yes", 0),
                    answered,
                    _percent(counts.get("yes", 0), answered),
                    pairs_yes,
                    len(matches),
                    _percent(pairs_yes, len(matches)),
                ]
            )
    rank = {q: i for i, q in enumerate([*LANSSTYRELSEN_OUTCOMES, *order])}
    outcomes: list[list[object]] = []
    for survey, question in sorted(
        figures.answers, key=lambda k: (rank.get(k[1], len(rank)), k[1], k[0])
    ):
        counts = figures.answers[(survey, question)]
        answered = sum(counts.values())
        for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            outcomes.append(
                [
                    LANSSTYRELSEN_OUTCOMES.get(question, question),
                    SWEDISH_ANSWERS.get(value, value),
                    n,
                    answered,
                    _percent(n, answered),
                ]
            )
    return [
        Table(
            "Slutrapport till Länsstyrelsen",
            ("Verksamhet", "Från", "Till"),
            [[programme.name, first, last]],
        ),
        Table(
            "Matchningar per typ mot mål",
            ("Typ", "Matchningar", "Mål", "Andel av målet %"),
            kinds,
            chart=(0, (1, 2)),
        ),
        Table(
            "Andel kvinnor mot mål",
            ("Deltagare", "Kvinnor", "Andel kvinnor %", "Mål %"),
            [[people, women, _percent(women, people), programme.target_women_percent]],
        ),
        Table(
            "Uppföljning",
            ("Följts upp", "Svarat", "Svarsfrekvens %"),
            [[total.followed_up, total.answered, _percent(total.answered, total.followed_up)]],
        ),
        Table(
            "Träffats igen, per person och per par",
            (
                "Fråga",
                "Personer ja",
                "Personer som svarat",
                "Andel personer %",
                "Par ja",
                "Par som svarat",
                "Andel par %",
            ),
            met,
        ),
        Table(
            "Utvärderingens resultat",
            ("Fråga", "Svar", "Antal", "Svarat", "Andel %"),
            outcomes,
        ),
    ]


def to_csv(report: Sequence[Table]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for table in report:
        writer.writerow([table.title])
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([spreadsheet_safe(cell) for cell in row])
        writer.writerow([])
    return buffer.getvalue()


def to_xlsx(report: Sequence[Table]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Report"
    line = 1
    charts = 0
    for table in report:
        sheet.cell(line, 1, table.title)
        for col, name in enumerate(table.columns, start=1):
            sheet.cell(line + 1, col, name)
        for r, row in enumerate(table.rows):
            for col, cell in enumerate(row, start=1):
                written = sheet.cell(line + 2 + r, col, spreadsheet_safe(cell))
                if isinstance(cell, date):
                    # a date stays a date the spreadsheet can sort and count with
                    written.number_format = "yyyy-mm-dd"
        if table.chart is not None and table.rows:
            label, values = table.chart
            chart = BarChart()
            chart.title = table.title
            chart.height, chart.width = 7, 14
            for value in values:
                chart.add_data(
                    Reference(
                        sheet,
                        min_col=value + 1,
                        min_row=line + 1,
                        max_row=line + 1 + len(table.rows),
                    ),
                    titles_from_data=True,
                )
            chart.set_categories(
                Reference(
                    sheet, min_col=label + 1, min_row=line + 2, max_row=line + 1 + len(table.rows)
                )
            )
            sheet.add_chart(chart, f"J{1 + 15 * charts}")
            charts += 1
        line += len(table.rows) + 3
    # readable columns: as wide as their longest cell, within reason
    widths: dict[int, int] = {}
    for table in report:
        for col, name in enumerate(table.columns, start=1):
            longest = max([len(str(name)), *(len(str(row[col - 1])) for row in table.rows)])
            widths[col] = max(widths.get(col, 10), min(longest + 2, 60))
    for col, width in widths.items():
        sheet.column_dimensions[sheet.cell(1, col).column_letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


COLOURS = ("#2b6cb0", "#dd6b20", "#38a169")


def _bars(table: Table) -> str:
    assert table.chart is not None
    label, values = table.chart
    numbers = [n for row in table.rows for v in values if isinstance(n := row[v], int)]
    top = max(numbers, default=0) or 1
    bar, gap, left, width = 14, 10, 120, 300
    group = bar * len(values) + gap
    height = group * len(table.rows) + 30
    parts = [
        f'<svg width="{left + width + 60}" height="{height}" '
        f'role="img" aria-label="{html.escape(table.title)}">'
    ]
    for r, row in enumerate(table.rows):
        y0 = r * group
        parts.append(
            f'<text x="0" y="{y0 + bar}" font-size="12">{html.escape(str(row[label]))}</text>'
        )
        for i, v in enumerate(values):
            n = row[v]
            w = round(width * n / top) if isinstance(n, int) else 0
            y = y0 + i * bar
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w}" height="{bar - 2}" fill="{COLOURS[i % 3]}">'
                f"<title>{html.escape(table.columns[v])}: {n}</title></rect>"
                f'<text x="{left + w + 4}" y="{y + bar - 3}" font-size="11">{n}</text>'
            )
    legend_y = height - 8
    for i, v in enumerate(values):
        parts.append(
            f'<rect x="{left + i * 110}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{COLOURS[i % 3]}"/><text x="{left + i * 110 + 14}" y="{legend_y}" '
            f'font-size="11">{html.escape(table.columns[v])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def to_html(report: Sequence[Table], language: str = "en") -> str:
    cell = 'style="padding: 4px 8px; border-bottom: 1px solid #dddddd; text-align: left;"'
    out = [
        f'<!DOCTYPE html><html lang="{html.escape(language)}"><head><meta charset="utf-8">',
        "<title>fikafollow report</title></head>",
        '<body style="font-family: Arial, Helvetica, sans-serif; color: #222222;">',
    ]
    for table in report:
        out.append(f'<h2 style="font-size: 18px;">{html.escape(table.title)}</h2>')
        out.append('<table style="border-collapse: collapse; font-size: 14px;">')
        out.append(
            "<tr>" + "".join(f"<th {cell}>{html.escape(c)}</th>" for c in table.columns) + "</tr>"
        )
        for row in table.rows:
            out.append(
                "<tr>" + "".join(f"<td {cell}>{html.escape(str(v))}</td>" for v in row) + "</tr>"
            )
        out.append("</table>")
        if table.chart is not None and table.rows:
            out.append(f'<div style="margin: 8px 0 16px;">{_bars(table)}</div>')
    out.append("</body></html>")
    return "\n".join(out)

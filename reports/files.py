"""The funder report's files: the same tables as CSV, as a spreadsheet with charts, or as one HTML
page with inline SVG bars (no external assets, so it opens offline and can be mailed as it is)."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from reports.funder import Table
from store.reporting import spreadsheet_safe


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


# a spreadsheet names its sheet in at most 31 characters, without []:*?/\\
SHEET_NAME = 31
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)


def _cell_width(value: object) -> float:
    """About how many character widths a cell needs in the spreadsheet's default font."""
    if isinstance(value, date):
        return 10  # yyyy-mm-dd
    # a little over one unit a character: the unit is a digit's width, and letters are wider
    return len(str(value)) * 1.1


def to_xlsx(report: Sequence[Table]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    name = report[0].title if report else "Report"
    sheet.title = "".join(c for c in name if c not in "[]:*?/\\")[:SHEET_NAME]
    line = 1
    charts = 0
    # charts stand to the right of the widest table
    chart_column = sheet.cell(1, max((len(t.columns) for t in report), default=1) + 2).column_letter
    for table in report:
        sheet.cell(line, 1, table.title).font = TITLE
        for col, heading in enumerate(table.columns, start=1):
            sheet.cell(line + 1, col, heading).font = BOLD
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
            sheet.add_chart(chart, f"{chart_column}{1 + 15 * charts}")
            charts += 1
        line += len(table.rows) + 3
    # readable columns: as wide as their longest heading or cell, within reason (a table's
    # title stands alone on its row and may run over the empty cells beside it)
    widths: dict[int, float] = {}
    for table in report:
        for col, heading in enumerate(table.columns, start=1):
            longest = max(
                [_cell_width(heading), *(_cell_width(row[col - 1]) for row in table.rows)]
            )
            widths[col] = max(widths.get(col, 10), min(longest + 2, 60))
    for col, width in widths.items():
        sheet.column_dimensions[sheet.cell(1, col).column_letter].width = round(width, 1)
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
        # drawn in its own units and scaled to the page, so a phone shows all of it
        f'<svg viewBox="0 0 {left + width + 60} {height}" width="100%" '
        f'style="max-width: {left + width + 60}px;" '
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
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(report[0].title if report else 'fikafollow')}</title></head>",
        '<body style="font-family: Arial, Helvetica, sans-serif; color: #222222;">',
    ]
    for table in report:
        out.append(f'<h2 style="font-size: 18px;">{html.escape(table.title)}</h2>')
        # a wide table scrolls inside itself on a phone rather than widening the page
        out.append(
            '<table style="border-collapse: collapse; font-size: 14px; display: block; '
            'max-width: 100%; overflow-x: auto;">'
        )
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

"""Figure 4: the service with many rows in its tables. At two sizes (a tenth, and the full
size), on SQLite and PostgreSQL: one `tick` that finds 500 due (wall and database time,
statements, commits), `export answers` and `digest` over many answers, and an import through
`fikafollow import`, each in its own process with its peak memory, so the two sizes show
whether memory grows with the table. Then the plans of the due queries at the larger size.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MeteredTwilio,
    bound_socket,
    serving,
)
from benchmarks.outbound import NOW
from benchmarks.population import (
    PROGRAMME,
    bulk,
    create_schema,
    database,
    env,
    matches_csv,
    people,
)
from benchmarks.processes import fikafollow, measured
from benchmarks.report import Report
from store import intake
from store.database import make_engine


def due(quick: bool) -> int:
    return 50 if quick else 500


def sizes(quick: bool) -> list[tuple[str, int, int, int]]:
    """(label, follow-ups in the table, answers, rows imported) per size."""
    if quick:
        return [("small", 500, 50, 50), ("large", 5_000, 500, 500)]
    return [("small", 100_000, 10_000, 10_000), ("large", 1_000_000, 100_000, 100_000)]


async def one_size(
    report: Report,
    kind: str,
    label: str,
    table: int,
    answers: int,
    imported: int,
    work: Path,
    due: int,
) -> None:
    name = f"large.{kind}.{label}"
    twilio = MeteredTwilio()
    async with database(kind, work) as url, serving(twilio, bound_socket()) as root:
        await create_schema(url, work, NOW)
        rows = people(
            table,
            NOW,
            channel="sms",
            due=due,
            future=table // 10,
            answers=answers,
            sent_outbox=True,
            coordinator=True,
        )
        await bulk(url, rows)
        environment = env(
            url,
            work,
            FIKAFOLLOW_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            FIKAFOLLOW_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            FIKAFOLLOW_TWILIO_FROM=FROM_NUMBER,
            FIKAFOLLOW_TWILIO_API_URL=root,
        )
        out = work / "tick.json"
        run = await measured(
            ["benchmarks.tick_probe", NOW.isoformat(), str(out)], environment, work
        )
        if run.returncode != 0:
            raise RuntimeError(f"tick probe exited {run.returncode}: {run.stderr[-800:]}")
        tick = json.loads(out.read_text(encoding="utf-8"))
        where = f"{due} due among {table:,} follow-ups"
        report.add(f"{name}.tick.wall", tick["wall_seconds"] * 1000, "ms", note=where)
        report.add(f"{name}.tick.db_time", tick["db_seconds"] * 1000, "ms")
        report.add(f"{name}.tick.statements", tick["statements"], "statements")
        report.add(f"{name}.tick.commits", tick["commits"], "commits")
        report.add(f"{name}.tick.peak_rss", run.peak_mib, "MiB", note=f"sent {tick['sent']}")
        if label == "large":
            for plan, text in tick["plans"].items():
                report.text(f"plan.{kind}.{plan}", text)
            report.text(f"{name}.tick.slowest", "\n".join(tick.get("slowest", [])))

        export = await fikafollow(
            ["export", "answers", "--out", str(work / "answers.csv")], environment, work
        )
        report.add(f"{name}.export.seconds", export.seconds, "s", note=f"{answers:,} answers")
        report.add(f"{name}.export.peak_rss", export.peak_mib, "MiB")

        digest = await measured(
            ["fikafollow", "digest", "--now", NOW.isoformat(), "--out", str(work / "digest")],
            environment,
            work,
        )
        if digest.returncode == 0:
            report.add(f"{name}.digest.seconds", digest.seconds, "s", note=f"{answers:,} answers")
            report.add(f"{name}.digest.peak_rss", digest.peak_mib, "MiB")
        else:
            failed = f"FAILED (exit {digest.returncode}): {_last_line(digest.stderr)}"
            report.add(f"{name}.digest.seconds", math.nan, "s", note=failed)
            report.add(f"{name}.digest.peak_rss", digest.peak_mib, "MiB")

        csv = matches_csv(work / "import.csv", imported // 2, "2026-06-01")
        done = await fikafollow(["import", str(csv), "--now", NOW.isoformat()], environment, work)
        report.add(f"{name}.import.seconds", done.seconds, "s", note=f"{imported:,} rows")
        report.add(f"{name}.import.peak_rss", done.peak_mib, "MiB")
        if label == "large":
            report.text(f"plan.{kind}.import_participant_lookup", await import_plan(url))


async def import_plan(url: str) -> str:
    """The plan of the import's participant lookup for a batch (500 ids) on the imported table."""
    engine = make_engine(url)
    statement = intake.participant_lookup(PROGRAMME, [f"IP{n}" for n in range(0, 1000, 2)])
    sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    sqlite = engine.dialect.name == "sqlite"
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql)
            ).all()
    finally:
        await engine.dispose()
    return "\n".join(str(row[-1]) if sqlite else str(row[0]) for row in rows)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


async def run(report: Report, quick: bool, work: Path) -> None:
    for kind in ("sqlite", "postgres"):
        for label, table, answers, imported in sizes(quick):
            await one_size(report, kind, label, table, answers, imported, work, due(quick))

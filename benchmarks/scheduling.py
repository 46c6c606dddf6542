"""Figure 5: scheduling follow-ups our way (`fikafollow import` of a match file, which writes
one row per follow-up) beside the alternative this design exists to beat: one APScheduler date
job per follow-up in a `SQLAlchemyJobStore` on the same SQLite file, added to a running
scheduler."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from benchmarks.outbound import NOW
from benchmarks.population import create_schema, env, matches_csv
from benchmarks.processes import fikafollow
from benchmarks.report import Report


def ask(followup: int) -> None:
    """The job each APScheduler entry would run (never, here: they are due in three weeks)."""


def apscheduler_jobs(path: Path, count: int) -> float:
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")}, timezone="UTC"
    )
    scheduler.start()
    try:
        # three weeks from the real clock: a job that came due would run and be removed
        due = datetime.now(UTC) + timedelta(days=21)
        started = time.perf_counter()
        for n in range(count):
            scheduler.add_job(
                ask, "date", run_date=due + timedelta(seconds=n), args=[n], id=f"f{n}"
            )
        return time.perf_counter() - started
    finally:
        scheduler.shutdown(wait=False)


async def run(report: Report, quick: bool, work: Path) -> None:
    count = 200 if quick else 20_000
    path = work / f"schedule-{uuid.uuid4().hex[:8]}.db"
    url = f"sqlite+aiosqlite:///{path}"
    await create_schema(url, work, NOW)
    csv = matches_csv(work / "schedule.csv", count // 2, "2026-06-01", prefix="S")
    ours = await fikafollow(["import", str(csv), "--now", NOW.isoformat()], env(url, work), work)
    theirs = await asyncio.to_thread(apscheduler_jobs, path, count)
    report.add(
        "scheduling.import",
        count / ours.seconds,
        "follow-ups/s",
        note=f"{count:,} in {ours.seconds:.1f} s, process start included",
    )
    report.add(
        "scheduling.apscheduler_jobs", count / theirs, "jobs/s", note=f"{count:,} in {theirs:.1f} s"
    )
    report.add(
        "scheduling.speedup", theirs / ours.seconds, "x", note="APScheduler time ÷ import time"
    )

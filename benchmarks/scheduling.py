"""Figure 5: scheduling follow-ups our way beside the alternative this design exists to beat, one
APScheduler date job per follow-up in a `SQLAlchemyJobStore` on the same SQLite file.

Both are measured the same way: in this process, on a database already set up, timing only the
calls that schedule. APScheduler's are the `add_job` calls on a scheduler already started (its
start, which creates its table, is not timed); ours is the intake call `fikafollow import` makes
(every row of the match file checked, then written in committed batches) on an App already
started. Each side imports its libraries before the clock starts. Nothing is hidden: the whole
`fikafollow import` in a fresh process (start, imports, migrations check, programme included) is
its own line, and so is a bare process start (`fikafollow --help`), so the part that is process
start can be read off. The ratio is of the two in-process times; an earlier version set our
whole process (about 0.8 s of it start) against APScheduler's calls alone.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from benchmarks.outbound import NOW
from benchmarks.population import SECRET, create_schema, env, matches_csv
from benchmarks.processes import fikafollow
from benchmarks.report import Report
from fikafollow.app import App
from fikafollow.config import load_settings
from store import intake
from store.checked_rows import CheckedRows


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


async def intake_call(url: str, work: Path, csv: Path) -> tuple[float, float, int]:
    """Our side: wall and CPU seconds of what `fikafollow import` does between starting its App
    and printing its summary, and the follow-ups it created."""
    app = App(load_settings(database_url=url, secret_key=SECRET, photo_dir=work / "photos"))
    try:
        await app.start()
        programme = await app.programme(None, NOW)
        today = NOW.astimezone(ZoneInfo(app.settings.timezone)).date()
        wall, cpu = time.perf_counter(), time.process_time()
        with CheckedRows() as checked:
            errors = intake.check_import(
                csv, app.settings.default_region, today, intake.MAX_AGE_DAYS, False, checked
            )
            if errors:
                raise RuntimeError(f"the benchmark's file has problems: {errors[:3]}")
            result = await intake.apply_in_batches(
                app.sessions, programme.id, checked, NOW, app.book.days()
            )
        return time.perf_counter() - wall, time.process_time() - cpu, result.followups_created
    finally:
        await app.close()


async def run(report: Report, quick: bool, work: Path) -> None:
    count = 200 if quick else 20_000
    path = work / f"schedule-{uuid.uuid4().hex[:8]}.db"
    url = f"sqlite+aiosqlite:///{path}"
    await create_schema(url, work, NOW)
    csv = matches_csv(work / "schedule.csv", count // 2, "2026-06-01", prefix="S")
    ours, ours_cpu, created = await intake_call(url, work, csv)
    if created != count:
        raise RuntimeError(f"the import created {created} follow-ups, not {count}")
    theirs = await asyncio.to_thread(apscheduler_jobs, path, count)
    # the whole command in a process of its own, on a database of its own (the rows above are
    # in the first one: importing them again would change nothing)
    whole_url = f"sqlite+aiosqlite:///{work / f'whole-{uuid.uuid4().hex[:8]}.db'}"
    await create_schema(whole_url, work, NOW)
    whole = await fikafollow(
        ["import", str(csv), "--now", NOW.isoformat()], env(whole_url, work), work
    )
    start = await fikafollow(["--help"], env(whole_url, work), work)
    report.add(
        "scheduling.import",
        count / ours,
        "follow-ups/s",
        note=f"{count:,} in {ours:.2f} s ({ours_cpu:.2f} s CPU): the intake call, in-process",
    )
    report.add(
        "scheduling.apscheduler_jobs",
        count / theirs,
        "jobs/s",
        note=f"{count:,} add_job calls in {theirs:.1f} s, in-process",
    )
    report.add(
        "scheduling.speedup", theirs / ours, "x", note="APScheduler's time ÷ ours, both in-process"
    )
    report.add(
        "scheduling.import_process",
        whole.seconds,
        "s",
        note=f"`fikafollow import` of {count:,} follow-ups in a fresh process, start included",
    )
    report.add("scheduling.process_start", start.seconds, "s", note="`fikafollow --help`")

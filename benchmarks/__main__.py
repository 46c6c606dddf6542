"""`python -m benchmarks [--quick] [--json FILE] [--only NAME]`: every figure, one line each.

Everything runs on loopback: the fake Bot API and Twilio servers, `fikafollow serve` and
`tick` as processes of their own, and databases of the benchmark's own (SQLite files in a
temporary folder, PostgreSQL databases created and dropped on the test server).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarks import inbound, large_tables, outbound, rate, scale_out, scheduling
from benchmarks.population import drop_databases
from benchmarks.report import Report

FigureRun = Callable[[Report, bool, Path], Awaitable[None]]
FIGURES: dict[str, FigureRun] = {
    "outbound": outbound.run,
    "rate": rate.run,
    "inbound": inbound.run,
    "large": large_tables.run,
    "scheduling": scheduling.run,
    "scale_out": scale_out.run,
}


async def _figures(
    names: list[str], report: Report, quick: bool, tmp: Path, failed: list[str]
) -> None:
    for name in names:
        work = tmp / name
        work.mkdir()
        figure_started = time.monotonic()
        try:
            await FIGURES[name](report, quick, work)
        except Exception as exc:
            # one figure that cannot be measured says so and the others still run
            failed.append(name)
            traceback.print_exc(file=sys.stderr)
            report.add(f"{name}.error", math.nan, "", note=f"{type(exc).__name__}: {exc}")
        print(f"# {name}: {time.monotonic() - figure_started:.0f} s", flush=True)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI sizes (about two minutes)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument("--only", choices=list(FIGURES), action="append", help="run one figure")
    args = parser.parse_args(argv)
    # the service's own warnings (a retry after a 429) are part of what is measured, not output
    logging.basicConfig(level=logging.ERROR)
    report = Report()
    started = time.monotonic()
    failed: list[str] = []
    mode = "quick" if args.quick else "full"
    print(f"# fikafollow benchmarks, {mode} mode, Python {platform.python_version()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="fikafollow-bench-") as tmp:
        try:
            await _figures(args.only or list(FIGURES), report, args.quick, Path(tmp), failed)
        finally:
            await drop_databases()
    seconds = time.monotonic() - started
    print(f"# total {seconds:.0f} s", flush=True)
    if args.json is not None:
        report.write_json(args.json, {"mode": mode, "seconds": seconds, "failed": failed})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Running `fikafollow` (and the probes) as their own processes, as in production, with each
child's own wall time and peak memory (from `wait4`, so one child's peak is not another's)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    seconds: float
    peak_mib: float
    returncode: int
    stdout: str
    stderr: str


def _measured(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    started = time.perf_counter()
    with subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        # stderr goes to a thread so a chatty child cannot block on a full pipe; the child is
        # reaped by wait4, not by Popen, so its rusage is its own
        assert child.stdout is not None and child.stderr is not None
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(child.stderr.read()))  # type: ignore[union-attr]
        reader.start()
        out = child.stdout.read()
        reader.join()
        err = errors[0] if errors else ""
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    # ru_maxrss (KiB) carries the parent's high-water mark (see benchmarks.peak): a fallback
    return Run(seconds, usage.ru_maxrss / 1024, child.returncode, out, err)


async def measured(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run `python -m <args>` to its end in a thread, so this event loop keeps serving the
    fakes the child talks to."""
    peak = cwd / f"peak-{uuid.uuid4().hex[:8]}"
    argv = [sys.executable, "-m", "benchmarks.peak", str(peak), *args]
    run = await asyncio.to_thread(_measured, argv, env, cwd)
    if peak.exists():
        run.peak_mib = int(peak.read_text(encoding="utf-8")) / 1024
        peak.unlink()
    return run


async def fikafollow(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    run = await measured(["fikafollow", *args], env, cwd)
    if run.returncode != 0:
        raise RuntimeError(f"fikafollow {args[0]} exited {run.returncode}: {run.stderr[-800:]}")
    return run

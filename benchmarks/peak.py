"""Run a module as `python -m` would and write its peak memory (VmHWM) to a file at exit.

    python -m benchmarks.peak OUT MODULE [ARGS...]

Why not the parent's `wait4`: Linux carries a child's RSS high-water mark over from its parent
at fork and through exec, so every child reported the benchmark's own size. VmHWM belongs to
the process's memory map, which exec makes new.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    out, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    code: int | str | None = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    finally:
        Path(out).write_text(str(peak_kib()), encoding="utf-8")
    sys.exit(code)


if __name__ == "__main__":
    main()

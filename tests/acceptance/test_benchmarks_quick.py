"""`python -m benchmarks --quick` keeps working: every figure is measured and reported with a
number. No timing is asserted: the figures belong to the machine, not to the test."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the repository: tests/acceptance/ is two down
# every figure's lines, by the names the README documents
EXPECTED = [
    "outbound.telegram.bare_client",
    "outbound.telegram.sqlite",
    "outbound.telegram.postgres",
    "outbound.sms.bare_client",
    "outbound.sms.sqlite",
    "outbound.sms.postgres",
    *(
        f"rate.{rate}.{where}.{part}"
        for rate in (30, 200)
        for where, parts in (
            ("sqlite.1x", ("achieved", "429s")),
            ("postgres.1x", ("achieved", "429s")),
            ("postgres.2x", ("achieved", "offered", "429s")),
        )
        for part in parts
    ),
    "inbound.bare_starlette",
    "inbound.sqlite",
    "inbound.postgres",
    *(
        f"large.{kind}.{size}.{part}"
        for kind in ("sqlite", "postgres")
        for size in ("small", "large")
        for part in (
            "tick.wall",
            "tick.db_time",
            "tick.statements",
            "tick.commits",
            "tick.peak_rss",
            "export.seconds",
            "export.peak_rss",
            "digest.seconds",
            "digest.peak_rss",
            "import.seconds",
            "import.peak_rss",
        )
    ),
    "scheduling.import",
    "scheduling.apscheduler_jobs",
    "scheduling.speedup",
    "scheduling.import_process",
    "scheduling.process_start",
    "scale_out.one.throughput",
    "scale_out.two.throughput",
    "scale_out.two.duplicates",
    "scale_out.two.missing",
]
PLANS = [
    f"plan.{kind}.{query}"
    for kind in ("sqlite", "postgres")
    for query in ("outbox_claim", "due_followups")
]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_benchmark_reports_every_figure_with_a_number(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=590,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))["figures"]
    for name in EXPECTED:
        assert name in figures, name
        value = figures[name]["value"]
        assert isinstance(value, int | float) and math.isfinite(value), (name, value)
        assert any(line.split()[0] == name for line in done.stdout.splitlines()), name
    texts = json.loads(out.read_text(encoding="utf-8"))["texts"]
    for name in PLANS:
        assert texts.get(name), name
    assert figures["scale_out.two.duplicates"]["value"] == 0

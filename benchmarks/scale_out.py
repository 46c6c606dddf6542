"""Figure 6: two `fikafollow tick` processes draining one PostgreSQL outbox together, against
one alone (rate limits off): messages counted at the fake provider, duplicates (a message
that arrived more than once), and throughput between the first and the last accepted send."""

from __future__ import annotations

from pathlib import Path

from benchmarks.rate import drain_outbox
from benchmarks.report import Report


async def run(report: Report, quick: bool, work: Path) -> None:
    count = 100 if quick else 20_000
    one = await drain_outbox("postgres", work, count, 1, rate=None, limit=None)
    two = await drain_outbox("postgres", work, count, 2, rate=None, limit=None)
    report.add("scale_out.one.throughput", one.rate, "msg/s", note=f"{one.accepted:,} accepted")
    report.add(
        "scale_out.two.throughput", two.rate, "msg/s", one.rate, note=f"{two.accepted:,} accepted"
    )
    report.add("scale_out.two.duplicates", two.accepted - two.distinct, "messages")
    report.add("scale_out.two.missing", count - two.distinct, "messages")

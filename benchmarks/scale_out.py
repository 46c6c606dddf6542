"""Figure 6: two `fikafollow tick` processes draining one PostgreSQL outbox together, against
one alone (rate limits off): messages counted at the fake provider, duplicates (a message
that arrived more than once), and throughput between the first and the last accepted send.

What the two share is the machine, not a lock: their claims skip each other's rows (SKIP LOCKED
through a materialised CTE), with the limits off each keeps its own bucket, and no leader is
elected for `tick`. Measured on the 2-core machine, a message costs about 0.75 ms of CPU in the
`tick` process, 0.25 ms in PostgreSQL and 0.2 ms in this process (the fake and its client), so
one instance at ~700/s already keeps most of a core busy and two on two cores can reach about
twice only when nothing else runs; back-to-back pairs on a busy machine gave 1.1x to 2.6x. Read
the ratio beside the machine's load, and lower the CPU per message to raise it."""

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

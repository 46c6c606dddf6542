"""Figure 2: rate fidelity. An outbox of SMS drained by `fikafollow tick` processes with
FIKAFOLLOW_RATE_SMS set, against a Twilio fake that refuses (429) what goes faster than that
rate in any one second: achieved ÷ configured, and the 429s provoked. Then the same with two
instances on one PostgreSQL database, each configured with the same rate, as operators would
run them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
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
from benchmarks.population import bulk, create_schema, database, env, people
from benchmarks.processes import fikafollow
from benchmarks.report import Report


@dataclass
class Drained:
    accepted: int
    distinct: int
    refused: int
    rate: float
    offered: float
    seconds: float


async def drain_outbox(
    kind: str, work: Path, count: int, instances: int, rate: float | None, limit: float | None
) -> Drained:
    """`count` pending SMS drained by `instances` tick processes started together."""
    twilio = MeteredTwilio(limit)
    async with database(kind, work) as url, serving(twilio, bound_socket()) as root:
        await create_schema(url, work, NOW)
        await bulk(url, people(count, NOW, channel="sms", due=0, pending_outbox=count))
        extra = {
            "FIKAFOLLOW_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "FIKAFOLLOW_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "FIKAFOLLOW_TWILIO_FROM": FROM_NUMBER,
            "FIKAFOLLOW_TWILIO_API_URL": root,
        }
        if rate is not None:
            extra["FIKAFOLLOW_RATE_SMS"] = str(rate)
        environment = env(url, work, **extra)
        runs = await asyncio.gather(
            *(
                fikafollow(["tick", "--now", NOW.isoformat()], environment, work)
                for _ in range(instances)
            )
        )
    bodies = [s.body for s in twilio.fake.sent]
    return Drained(
        len(bodies),
        len(set(bodies)),
        twilio.meter.refused,
        twilio.meter.rate(),
        twilio.meter.offered(),
        max(r.seconds for r in runs),
    )


async def run(report: Report, quick: bool, work: Path) -> None:
    seconds = 1.5 if quick else 10
    for rate in (30, 200):
        # quick: at most 100 messages, enough for a rate and a window of 429s
        count = min(int(rate * seconds), 100) if quick else int(rate * seconds)
        for kind, instances in (("sqlite", 1), ("postgres", 1), ("postgres", 2)):
            name = f"rate.{rate}.{kind}.{instances}x"
            got = await drain_outbox(kind, work, count, instances, rate, limit=rate)
            report.add(f"{name}.achieved", got.rate, "msg/s", float(rate))
            if instances > 1:
                # what the instances tried to send together, before the provider refused
                report.add(f"{name}.offered", got.offered, "msg/s", float(rate))
            report.add(f"{name}.429s", got.refused, "responses", note=f"of {count} messages")

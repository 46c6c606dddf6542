"""A stand-in for a provider in tests: it records what it is given and can fail on demand."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.channels.base import ChannelError, OutgoingMessage, SendResult


@dataclass
class RecordingChannel:
    name: str
    sent: list[OutgoingMessage] = field(default_factory=list)
    failures: deque[ChannelError] = field(default_factory=deque)

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self.failures:
            raise self.failures.popleft()
        self.sent.append(message)
        return SendResult(provider_id=f"{self.name}-{len(self.sent)}")

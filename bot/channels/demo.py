"""The demo channel: shows each message in the terminal as the participant would read it.

It stands in for Telegram, SMS and e-mail in `fikafollow demo`, so everything up to the very last
step is the production path. It keeps what it delivered so the demo can answer like a participant.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from bot.channels.base import OutgoingMessage, SendResult

_TITLES = {"telegram": "Telegram", "sms": "SMS", "email": "E-mail"}


@dataclass
class DemoChannel:
    name: str
    out: TextIO
    describe: Callable[[str], str] = field(default=lambda address: address)
    delivered: list[OutgoingMessage] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.delivered.append(message)
        self.out.write(self.show(message))
        return SendResult(provider_id=f"demo-{self.name}-{next(self._ids)}")

    def show(self, message: OutgoingMessage) -> str:
        who = self.describe(message.address)
        direction = "right-to-left" if message.rtl else "left-to-right"
        head = (
            f"  ┌─ {_TITLES.get(self.name, self.name)} to {who} · {message.language} ({direction})"
        )
        lines = [head]
        if message.subject:
            lines.append(f"  │ Subject: {message.subject}")
            lines.append("  │")
        for paragraph in message.text.splitlines() or [""]:
            for line in textwrap.wrap(paragraph, 72) or [""]:
                lines.append(f"  │ {line}")
        if message.buttons:
            lines.append("  │ " + "  ".join(f"[ {b.label} ]" for b in message.buttons))
        lines.append("  └" + "─" * 40)
        return "\n".join(lines) + "\n"

"""The project's loopback fakes of the providers, as the benchmarks use them.

Every benchmark imports the fakes from here, so a move of the test support modules is an edit of
this one file. Beside the re-exports: a meter that counts what a fake accepted, when, and how
many it refused for going faster than a provider's per-second limit.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.support.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.loopback import bound_socket, serving, url_of

__all__ = [
    "ACCOUNT_SID",
    "AUTH_TOKEN",
    "BOT_USERNAME",
    "FROM_NUMBER",
    "TOKEN",
    "FakeTelegram",
    "FakeTwilio",
    "LimitedTelegram",
    "Meter",
    "MeteredTwilio",
    "bound_socket",
    "serving",
    "url_of",
]


class Meter:
    """Arrival times of sends, and a provider's limit: at most `limit` sends in any one-second
    window (one more is allowed for the jitter of loopback arrivals), the rest refused."""

    def __init__(self, limit: float | None = None) -> None:
        self.limit = limit
        self.accepted: list[float] = []
        self.refused = 0
        self._window: deque[float] = deque()

    def admit(self) -> bool:
        now = time.monotonic()
        if self.limit is not None:
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.limit + 1:
                self.refused += 1
                return False
            self._window.append(now)
        self.accepted.append(now)
        return True

    def rate(self) -> float:
        """Accepted sends per second between the first and the last."""
        if len(self.accepted) < 2:
            return float("nan")
        return (len(self.accepted) - 1) / (self.accepted[-1] - self.accepted[0])

    def offered(self) -> float:
        """Sends tried per second (accepted and refused) over the accepted span."""
        if len(self.accepted) < 2:
            return float("nan")
        span = self.accepted[-1] - self.accepted[0]
        return (len(self.accepted) + self.refused - 1) / span


class MeteredTwilio:
    """The Twilio fake behind a meter: an ASGI app that answers 429 (Twilio's 20429) past the
    limit and hands the rest to the fake."""

    def __init__(self, limit: float | None = None) -> None:
        self.fake = FakeTwilio()
        self.meter = Meter(limit)
        self._app = self.fake.app()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        creating = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].endswith("/Messages.json")
        )
        if creating and not self.meter.admit():
            body = {"code": 20429, "message": "Too Many Requests", "status": 429}
            response = Response(json.dumps(body), 429, media_type="application/json")
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)


class LimitedTelegram(FakeTelegram):
    """The Bot API fake behind a meter: past the limit sendMessage answers 429 with
    retry_after, as Telegram does."""

    def __init__(self, limit: float | None = None) -> None:
        super().__init__()
        self.meter = Meter(limit)

    async def _method(self, request: Request) -> Response:
        if request.path_params["method"] == "sendMessage" and not self.meter.admit():
            return self._error(429, "Too Many Requests: retry after 1", 1)
        return await super()._method(request)

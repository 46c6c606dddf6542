"""What every request and response of the web app goes through, before any endpoint runs:
a body size limit enforced while the body streams in, and the security headers of HTML pages.

Starlette's `request.body()` and `request.form()` read the whole body before an endpoint can look
at it, and a chunked body carries no Content-Length: without a limit here a 200 MB post without a
signature costs that much memory before the signature is checked. Both are plain ASGI middleware
(not BaseHTTPMiddleware, which buffers streaming bodies).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.database import is_away
from store.media import MediaUnavailable

log = logging.getLogger(__name__)

# a page's own styles are inline (one file per page, no build step); no page runs a script
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
# how long a client (Twilio, Telegram, a browser) is asked to wait while the database is away
RETRY_AFTER_SECONDS = 5


class BodyLimit:
    """Refuse a request body longer than its path's limit with 413: at once when Content-Length
    says so, else as soon as the streamed body passes it (the endpoint's read raises)."""

    def __init__(self, app: ASGIApp, default: int, by_prefix: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        # the longest prefix wins
        self.by_prefix = sorted(by_prefix.items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await too_large(limit)(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # raised inside the endpoint's read: Starlette turns it into the response
                    raise HTTPException(413, f"body larger than {limit} bytes")
            return message

        await self.app(scope, limited, send)


def too_large(limit: int) -> PlainTextResponse:
    return PlainTextResponse(f"body larger than {limit} bytes", status_code=413)


class SecurityHeaders:
    """The same headers on every HTML response: no framing, no referrer, no sniffing, a strict
    content policy, and HSTS when the service is public over https."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # every response: a browser must never guess a type (a photo sniffed as HTML)
                # set, not defaulted: one policy for the whole app, whatever a page says
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                    headers["X-Frame-Options"] = "DENY"
                if self.https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)


class DatabaseAway:
    """A request that fails because the database is unreachable or locked answers 503 with
    Retry-After, so Twilio and Telegram send the webhook again and nothing is lost; one warning
    line names the error's type only (its text may carry a statement's values)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception as exc:
            # the photo bucket away is the same for the client: try again shortly
            if started or not (is_away(exc) or isinstance(exc, MediaUnavailable)):
                raise
            # the first part of the path only: a page's path carries its token
            where = "/" + scope["path"].lstrip("/").split("/", 1)[0]
            log.warning(
                "%s away: %s %s… answered 503 (%s)",
                "photo storage" if isinstance(exc, MediaUnavailable) else "database",
                scope["method"],
                where,
                type(exc).__name__,
            )
            response = PlainTextResponse(
                "the database is not available; try again shortly",
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)

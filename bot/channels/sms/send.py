"""SMS through Twilio's Messages API, with the official `twilio` client on its async path.

Failures are sorted by what they say about the address: a number that is invalid, a landline,
unsubscribed or unreachable is permanent (the ladder moves on to the next channel); rate limits,
server errors and network trouble are temporary. Everything else (a wrong token or sender, our own
mistake) is retried as temporary: it says nothing about the participant's number, and the outbox
gives up after its attempts without writing the channel off. Twilio's own error text names the
number, so reasons are built from the code alone.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.base import (
    ChannelError,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TemporaryError,
)
from bot.channels.sms.settings import TwilioConfig

# https://www.twilio.com/docs/api/errors — codes that are about the recipient's number
PERMANENT_CODES: dict[int, str] = {
    21211: "invalid number",
    21214: "number cannot be reached",
    21217: "invalid number",
    21401: "invalid number",
    21407: "country not supported",
    21408: "region not enabled for the account",
    21421: "invalid number",
    21604: "no number given",
    21610: "unsubscribed (texted STOP)",
    21612: "number cannot be reached from this sender",
    21614: "landline (not a mobile number)",
    30003: "unreachable handset",
    30004: "message blocked",
    30005: "unknown destination",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
}
RATE_LIMITED = 20429
# Twilio's 429 is about concurrent requests on the account and says nothing of when to come
# back: a short pause of the channel lets the requests in flight finish; the message itself
# waits its backoff in the outbox
DEFAULT_RETRY_AFTER = 1.0


def classify(exc: TwilioRestException) -> ChannelError:
    """The error for a refused request: permanent when it condemns the number."""
    code = exc.code if isinstance(exc.code, int) else None
    status = int(exc.status or 0)
    if code in PERMANENT_CODES:
        return PermanentError(f"twilio {code}: {PERMANENT_CODES[code]}")
    if status == 429 or code == RATE_LIMITED:
        return TemporaryError(
            f"twilio {status} {code}: rate limited", retry_after=DEFAULT_RETRY_AFTER
        )
    return TemporaryError(f"twilio {status} {code}: refused")


class _HeaderAuthHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio is untyped
    """Twilio's async client, sending its credentials as a header it builds itself.

    twilio 9.13 wraps them in aiohttp's BasicAuth, which aiohttp 3.14 deprecates (a warning on
    every request); the header on the wire is the same."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the library's signature
        allow_redirects: bool = False,
    ) -> Any:
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(
            method, url, params, data, headers, None, timeout, allow_redirects
        )


class TwilioSmsChannel:
    """One account, one sender; the HTTP session is made on first use, inside the event loop."""

    name = "sms"

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    def _ensure_client(self) -> Client:
        if self._client is None:
            # max_retries=None: the client must not repeat a POST by itself (an SMS could go
            # twice); the outbox retries, with backoff and a record of each attempt
            self._http = _HeaderAuthHttpClient(max_retries=None)
            # an empty environment: TWILIO_EDGE/TWILIO_REGION would rewrite the host name
            client = Client(
                self.config.account_sid,
                self.config.auth_token,
                http_client=self._http,
                environment={},
            )
            client.api.base_url = self.config.api_url
            self._client = client
        return self._client

    def _params(self, message: OutgoingMessage) -> dict[str, Any]:
        params: dict[str, Any] = {"to": message.address, "body": message.text}
        if self.config.sender.startswith("MG"):
            params["messaging_service_sid"] = self.config.sender
        else:
            params["from_"] = self.config.sender
        if self.config.status_callback_url:
            params["status_callback"] = self.config.status_callback_url
        return params

    async def send(self, message: OutgoingMessage) -> SendResult:
        client = self._ensure_client()
        try:
            # the async client ignores its own timeout setting, so the bound is put here
            async with asyncio.timeout(self.config.timeout):
                created = await client.messages.create_async(**self._params(message))
        except TwilioRestException as exc:
            raise classify(exc) from None
        except (TimeoutError, aiohttp.ClientError, OSError, TwilioException) as exc:
            raise TemporaryError(f"twilio unreachable: {type(exc).__name__}") from None
        return SendResult(provider_id=created.sid)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None

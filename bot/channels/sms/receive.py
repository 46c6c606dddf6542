"""Twilio's webhooks: inbound SMS/MMS and delivery reports, each checked against its signature.

Twilio signs every request with the account's auth token over the URL it was configured with and
the form fields, so a request that fails the check is refused before anything is read into the
database. An inbound message (stored once by its MessageSid) and a delivery report are handed to
the `Inbound` interface; the reply goes through the outbox like every other message, so the
webhook answers with empty TwiML.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot.channels.base import DELIVERY_RANK, DeliveryReport, Inbound, InboundMessage
from bot.channels.sms.send import PERMANENT_CODES
from bot.channels.sms.settings import INBOUND_PATH, STATUS_PATH, TwilioWebhookConfig

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Twilio's forms are small; an MMS carries up to ten media URLs
MAX_FORM = 64 * 1024
MAX_PHOTO = 10 * 1024 * 1024
MAX_MEDIA = 10


class FormRefused(Exception):
    """A webhook body that is not a Twilio form: answered with `status`, nothing read."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def read_form(body: bytes) -> dict[str, str]:
    """The fields of a form-encoded webhook body; FormRefused when it is too large, not UTF-8
    or repeats a field (Twilio never does: a repeated one could hide a changed value)."""
    if len(body) > MAX_FORM:
        raise FormRefused(413, "form too large")
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FormRefused(400, "form is not UTF-8") from None
    form = dict(fields)
    if len(form) != len(fields):
        raise FormRefused(400, "repeated form field")
    return form


def read_status(form: Mapping[str, str]) -> DeliveryReport | None:
    """The delivery report a status callback's fields stand for; None when it names no message
    or no status we know."""
    sid = form.get("MessageSid", "")
    state = form.get("MessageStatus", form.get("SmsStatus", "")).lower()
    if not sid or state not in DELIVERY_RANK:
        return None
    code = form.get("ErrorCode", "").strip() or None
    permanent = None
    if state in ("undelivered", "failed") and code is not None and code.isdigit():
        meaning = PERMANENT_CODES.get(int(code))
        # the number is dead for SMS: the next channel of the ladder takes over
        permanent = f"twilio {code}: {meaning}" if meaning else None
    return DeliveryReport("sms", sid, state, error=code, permanent=permanent)


class MediaUnavailable(Exception):
    """An MMS photo could not be fetched; the webhook fails so that nothing half is stored."""


class TwilioWebhooks:
    def __init__(
        self,
        config: TwilioWebhookConfig,
        inbound: Inbound,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.inbound = inbound
        self.clock = clock
        self.validator = RequestValidator(config.auth_token)

    def routes(self) -> list[Route]:
        return [
            Route(INBOUND_PATH, self.incoming, methods=["POST"]),
            Route(STATUS_PATH, self.status, methods=["POST"]),
        ]

    async def _signed_form(self, request: Request, path: str) -> dict[str, str] | Response:
        """The form fields when the signature holds, else the response that refuses them."""
        try:
            form = read_form(await request.body())
        except FormRefused as refused:
            return PlainTextResponse(refused.text, status_code=refused.status)
        url = self.config.public_url + path
        if request.url.query:
            url += "?" + request.url.query
        signature = request.headers.get("x-twilio-signature", "")
        if not signature or not self._signed(url, form, signature):
            log.warning("twilio webhook %s refused: bad or missing signature", path)
            return PlainTextResponse("invalid signature", status_code=403)
        if form.get("AccountSid", self.config.account_sid) != self.config.account_sid:
            return PlainTextResponse("another account", status_code=403)
        return form

    def _signed(self, url: str, form: dict[str, str], signature: str) -> bool:
        """Whether Twilio signed this form for this URL. The URL as configured first: it is
        one of the two that `validate` tries (with and without the port) and the one Twilio
        signs, so a good post costs one HMAC rather than two; anything else gets `validate`'s
        full answer."""
        expected = self.validator.compute_signature(url, form)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return True
        return bool(self.validator.validate(url, form, signature))

    async def incoming(self, request: Request) -> Response:
        """An SMS or MMS from a participant."""
        form = await self._signed_form(request, INBOUND_PATH)
        if isinstance(form, Response):
            return form
        sid, sender = form.get("MessageSid", ""), form.get("From", "")
        if not sid or not sender:
            return PlainTextResponse("MessageSid and From are required", status_code=400)
        # a retry of an MMS must not fetch its media again; a plain SMS needs no look first,
        # the inbox stores it once anyway
        if form.get("NumMedia", "0") not in ("", "0") and await self.inbound.seen("sms", sid):
            return _twiml()
        try:
            photos, types = await self._fetch_media(form)
        except MediaUnavailable as exc:
            log.warning("inbound sms: media unavailable (%s); nothing stored", exc)
            return PlainTextResponse("media unavailable, try again", status_code=502)
        message = InboundMessage(
            channel="sms",
            provider_id=sid,
            sender=sender,
            text=form.get("Body", ""),
            photos=photos,
            photo_types=types,
        )
        await self.inbound.receive(message, self.clock())
        return _twiml()

    async def _fetch_media(self, form: dict[str, str]) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
        try:
            count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
        except ValueError:
            count = 0
        wanted = []
        for index in range(count):
            url = form.get(f"MediaUrl{index}", "")
            kind = form.get(f"MediaContentType{index}", "")
            # only images become fikahälsningar; credentials go only to Twilio's own API host
            if kind.startswith("image/") and url.startswith(self.config.api_url + "/"):
                wanted.append((url, kind))
        if not wanted:
            return (), ()
        photos: list[bytes] = []
        auth = (self.config.account_sid, self.config.auth_token)
        try:
            # Twilio answers a media URL with a redirect to storage; httpx drops the
            # credentials when a redirect leaves the host
            async with httpx.AsyncClient(
                auth=auth, follow_redirects=True, timeout=self.config.media_timeout
            ) as http:
                for url, _kind in wanted:
                    response = await http.get(url)
                    if response.status_code != 200:
                        raise MediaUnavailable(f"HTTP {response.status_code}")
                    if len(response.content) > MAX_PHOTO:
                        raise MediaUnavailable("photo too large")
                    photos.append(response.content)
        except httpx.HTTPError as exc:
            raise MediaUnavailable(type(exc).__name__) from None
        return tuple(photos), tuple(kind for _url, kind in wanted)

    async def status(self, request: Request) -> Response:
        """A delivery report for a message we sent."""
        form = await self._signed_form(request, STATUS_PATH)
        if isinstance(form, Response):
            return form
        report = read_status(form)
        if report is None:
            return PlainTextResponse("MessageSid and a known MessageStatus are required", 400)
        await self.inbound.delivery_report(report, self.clock())
        return Response(status_code=204)


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")

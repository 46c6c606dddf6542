"""A Twilio look-alike on loopback: the Messages API as the real client sees it, media for MMS,
and the webhook side — signed form posts to our app, as Twilio sends them.

It speaks Twilio's wire format (form-encoded create, JSON resource and error bodies, basic auth
with the account SID and token) so that the `twilio` package itself is exercised.
"""

from __future__ import annotations

import base64
import itertools
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32
FROM_NUMBER = "+46766861234"
ERROR_MESSAGES = {
    20003: (401, "Authenticate"),
    20429: (429, "Too Many Requests"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    20500: (500, "Internal Server Error"),
}


@dataclass
class Sent:
    sid: str
    to: str
    sender: str
    body: str
    status_callback: str | None


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    sent: list[Sent] = field(default_factory=list)
    # error codes to answer the next creates with, one each
    failures: deque[int] = field(default_factory=deque)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_fetches: int = 0
    root: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> Starlette:
        prefix = "/2010-04-01/Accounts/{account}"
        return Starlette(
            routes=[
                Route(prefix + "/Messages.json", self._create, methods=["POST"]),
                Route(prefix + "/Messages/{message}/Media/{media}", self._media, methods=["GET"]),
                Route("/storage/{media}", self._storage, methods=["GET"]),
            ]
        )

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}" and (
            request.path_params["account"] == self.account_sid
        )

    @staticmethod
    def _error(code: int) -> JSONResponse:
        status, message = ERROR_MESSAGES[code]
        return JSONResponse(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status_code=status,
        )

    async def _create(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(20003)
        form = dict(parse_qsl((await request.body()).decode()))
        if self.failures:
            return self._error(self.failures.popleft())
        if not form.get("To") or not form.get("Body"):
            return JSONResponse(
                {"code": 21604, "message": "A 'To' phone number is required.", "status": 400},
                status_code=400,
            )
        sid = f"SM{next(self._ids):032x}"
        sender = form.get("From") or form.get("MessagingServiceSid", "")
        self.sent.append(Sent(sid, form["To"], sender, form["Body"], form.get("StatusCallback")))
        now = format_datetime(datetime.now(UTC), usegmt=True)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        return JSONResponse(
            {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": form["Body"],
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "accepted" if form.get("MessagingServiceSid") else "queued",
                "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
                "to": form["To"],
                "uri": uri,
            },
            status_code=201,
        )

    def add_media(self, data: bytes, content_type: str) -> str:
        """Keep a photo as an MMS would; returns its MediaUrl."""
        media_sid = f"ME{secrets.token_hex(16)}"
        self.media[media_sid] = (data, content_type)
        message = f"MM{secrets.token_hex(16)}"
        account = f"{self.root}/2010-04-01/Accounts/{self.account_sid}"
        return f"{account}/Messages/{message}/Media/{media_sid}"

    async def _media(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(20003)
        self.media_fetches += 1
        # Twilio sends the client on to its storage, as the real API does
        return RedirectResponse(f"/storage/{request.path_params['media']}", status_code=307)

    async def _storage(self, request: Request) -> Response:
        found = self.media.get(request.path_params["media"])
        if found is None:
            return Response(status_code=404)
        return Response(found[0], media_type=found[1])

    # --- the webhook side: Twilio calling our app -------------------------------------------

    def sign(self, url: str, form: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, form)

    def inbound_form(
        self, sender: str, body: str, sid: str | None = None, media: list[str] | None = None
    ) -> dict[str, str]:
        """The fields of an incoming SMS (or MMS) as Twilio posts them."""
        sid = sid or f"SM{secrets.token_hex(16)}"
        form = {
            "ToCountry": "SE",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": str(len(media or [])),
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "SE",
            "To": FROM_NUMBER,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        for index, url in enumerate(media or []):
            form[f"MediaUrl{index}"] = url
            form[f"MediaContentType{index}"] = self.media[url.rsplit("/", 1)[1]][1]
        return form

    async def post(
        self,
        http: httpx.AsyncClient,
        url: str,
        form: dict[str, str],
        signature: str | None = "sign",
        **kw: Any,
    ) -> httpx.Response:
        """POST the form as Twilio does; signature "sign" signs it, None leaves the header out."""
        headers = {"User-Agent": "TwilioProxy/1.1"}
        if signature == "sign":
            headers["X-Twilio-Signature"] = self.sign(url, form)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await http.post(url, data=form, headers=headers, **kw)

    def status_form(self, sid: str, status: str, error_code: int | None = None) -> dict[str, str]:
        form = {
            "SmsSid": sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": "",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": FROM_NUMBER,
            "ApiVersion": "2010-04-01",
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return form

"""A Bot API server of our own on loopback, speaking Telegram's wire format.

It answers the methods fikafollow uses, keeps what the bot sent, hands out updates by long polling
or posts them to a webhook like Telegram does, and can be told to fail: 429 with retry_after,
403 for a blocked chat, 5xx, or slow answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "123456:TEST-token_for-loopback"
BOT_USERNAME = "FikaTestBot"
BOT = {"id": 123456, "is_bot": True, "first_name": "Fika", "username": BOT_USERNAME}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sent:
    message_id: int
    chat_id: int
    text: str
    buttons: list[tuple[str, str]]
    at: float


@dataclass
class Fault:
    status: int
    description: str
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class FakeTelegram:
    token: str = TOKEN
    port: int = field(default_factory=free_port)
    sent: list[Sent] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    answered_callbacks: list[str] = field(default_factory=list)
    edited: list[tuple[int, int]] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    files: dict[str, bytes] = field(default_factory=dict)
    # files whose getFile answer has no file_path (the Bot API does that for some files)
    pathless: set[str] = field(default_factory=set)
    webhook: tuple[str, str] | None = None
    # the next answers of a method, in order: one Fault each
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    # every sendMessage waits this long (a slow Bot API)
    delay: float = 0.0

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1000)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- running -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or self._task.done():
                raise RuntimeError("fake Bot API did not start")
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task

    # --- what the test does --------------------------------------------------------------

    def fail(self, method: str, *faults: Fault) -> None:
        self.faults.setdefault(method, []).extend(faults)

    def _user(self, chat_id: int, language: str) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "P", "language_code": language}

    def _message(self, chat_id: int, language: str, **extra: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "P"},
            "from": self._user(chat_id, language),
            **extra,
        }

    async def push(self, update: dict[str, Any]) -> int:
        """Deliver an update: to the webhook if one is set, else to getUpdates. Returns the
        webhook's HTTP status (200 when queued for polling)."""
        update = {"update_id": next(self._update_ids), **update}
        if self.webhook is not None:
            return await self.post_webhook(update)
        self._updates.append(update)
        self._new_update.set()
        return 200

    async def post_webhook(
        self, update: dict[str, Any], secret: str | None = None, attempts: int = 50
    ) -> int:
        """POST an update as Telegram does; Telegram tries again on anything but 2xx."""
        assert self.webhook is not None
        url, real_secret = self.webhook
        headers = {"X-Telegram-Bot-Api-Secret-Token": real_secret if secret is None else secret}
        async with httpx.AsyncClient() as client:
            for _ in range(attempts):
                response = await client.post(url, json=update, headers=headers)
                if response.status_code < 500:
                    return response.status_code
                await asyncio.sleep(0.2)
        return response.status_code

    async def text(self, chat_id: int, text: str, language: str = "ar") -> int:
        return await self.push({"message": self._message(chat_id, language, text=text)})

    async def tap(self, chat_id: int, sent: Sent, data: str, language: str = "ar") -> int:
        bot_message = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "P"},
            "from": BOT,
            "text": sent.text,
        }
        query = {
            "id": f"{next(self._ids)}77",
            "from": self._user(chat_id, language),
            "chat_instance": "ci",
            "message": bot_message,
            "data": data,
        }
        return await self.push({"callback_query": query})

    async def photo(
        self,
        chat_id: int,
        data: bytes,
        caption: str | None = None,
        media_group_id: str | None = None,
        language: str = "ar",
    ) -> int:
        n = next(self._ids)
        small, large = f"small{n}", f"large{n}"
        self.files[small] = b"not the one to fetch"
        self.files[large] = data
        sizes = [
            {"file_id": small, "file_unique_id": f"u{small}", "width": 90, "height": 60},
            {
                "file_id": large,
                "file_unique_id": f"u{large}",
                "width": 1200,
                "height": 800,
                "file_size": len(data),
            },
        ]
        extra: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            extra["caption"] = caption
        if media_group_id is not None:
            extra["media_group_id"] = media_group_id
        return await self.push({"message": self._message(chat_id, language, **extra)})

    async def document(
        self, chat_id: int, data: bytes, mime_type: str, file_size: int | None = None
    ) -> int:
        """A file sent as a document; `file_size` may claim more than `data` holds."""
        name = f"doc{next(self._ids)}"
        self.files[name] = data
        document = {
            "file_id": name,
            "file_unique_id": f"u{name}",
            "file_name": "fika.bin",
            "mime_type": mime_type,
            "file_size": len(data) if file_size is None else file_size,
        }
        return await self.push({"message": self._message(chat_id, "sv", document=document)})

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_for(self, chat_id: int, count: int, within: float = 20.0) -> list[Sent]:
        """The first `count` messages to a chat, waiting for them to arrive."""
        deadline = time.monotonic() + within
        while len(self.to(chat_id)) < count:
            if time.monotonic() > deadline:
                texts = [s.text[:40] for s in self.to(chat_id)]
                raise AssertionError(f"chat {chat_id}: wanted {count} messages, got {texts}")
            await asyncio.sleep(0.05)
        return self.to(chat_id)[:count]

    # --- the Bot API ---------------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, Any]:
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            return dict(await request.json())
        # python-telegram-bot posts a form without files as application/x-www-form-urlencoded
        body = (await request.body()).decode()
        params: dict[str, Any] = {}
        for key, text in urllib.parse.parse_qsl(body, keep_blank_values=True):
            try:
                params[key] = json.loads(text)
            except ValueError:
                params[key] = text
        return params

    def _ok(self, result: Any) -> JSONResponse:
        return JSONResponse({"ok": True, "result": result})

    def _error(self, status: int, description: str, retry_after: int | None) -> JSONResponse:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return JSONResponse(body, status_code=status)

    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized", None)
        method = request.path_params["method"]
        self.calls[method] += 1
        params = await self._params(request)
        queued = self.faults.get(method)
        if queued:
            fault = queued.pop(0)
            await asyncio.sleep(fault.delay)
            if fault.status != 200:
                return self._error(fault.status, fault.description, fault.retry_after)
        if method == "getMe":
            return self._ok(BOT)
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "sendMessage":
            return await self._send(params)
        if method == "answerCallbackQuery":
            self.answered_callbacks.append(str(params["callback_query_id"]))
            return self._ok(True)
        if method == "editMessageReplyMarkup":
            self.edited.append((int(params["chat_id"]), int(params["message_id"])))
            return self._ok(
                {
                    "message_id": int(params["message_id"]),
                    "date": int(time.time()),
                    "chat": {"id": int(params["chat_id"]), "type": "private"},
                    "text": "",
                }
            )
        if method == "getFile":
            file_id = str(params["file_id"])
            if file_id not in self.files:
                return self._error(400, "Bad Request: invalid file_id", None)
            found: dict[str, Any] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
            }
            if file_id not in self.pathless:
                found["file_path"] = f"photos/{file_id}.jpg"
            return self._ok(found)
        if method == "setWebhook":
            self.webhook = (str(params["url"]), str(params.get("secret_token", "")))
            return self._ok(True)
        if method == "deleteWebhook":
            self.webhook = None
            return self._ok(True)
        return self._error(404, "Not Found", None)

    async def _get_updates(self, params: dict[str, Any]) -> Response:
        if self.webhook is not None:
            return self._error(409, "Conflict: can't use getUpdates while webhook is active", None)
        offset = int(params.get("offset") or 0)
        # an offset confirms every update before it
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self._ok(list(self._updates))

    async def _send(self, params: dict[str, Any]) -> Response:
        chat_id = int(params["chat_id"])
        if self.delay:
            await asyncio.sleep(self.delay)
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user", None)
        if chat_id < 0:
            return self._error(400, "Bad Request: chat not found", None)
        markup = params.get("reply_markup") or {}
        buttons = [
            (str(b["text"]), str(b["callback_data"]))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]
        sent = Sent(next(self._ids), chat_id, str(params["text"]), buttons, time.monotonic())
        self.sent.append(sent)
        return self._ok(
            {
                "message_id": sent.message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT,
                "text": sent.text,
            }
        )

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        name = request.path_params["path"].removeprefix("photos/").removesuffix(".jpg")
        if name not in self.files:
            return Response(status_code=404)
        return Response(self.files[name], media_type="application/octet-stream")

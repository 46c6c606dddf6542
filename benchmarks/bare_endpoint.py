"""The ceiling of figure 3: a bare Starlette endpoint that parses the same Twilio form and
answers the same empty TwiML, on uvicorn started the way `serve` starts it (`Server.serve()`
on the event loop `fikafollow serve` runs on: uvloop where installed). Run:
`python -m benchmarks.bare_endpoint PORT`."""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from fikafollow.commands.serve import fast_loop


async def sms(request: Request) -> Response:
    form = await request.form()
    if not form.get("MessageSid"):
        return PlainTextResponse("no MessageSid", status_code=400)
    return Response("<Response/>", media_type="application/xml")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def main() -> None:
    app = Starlette(
        routes=[
            Route("/webhooks/twilio/sms", sms, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False
    )
    with asyncio.Runner(loop_factory=fast_loop) as runner:
        runner.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()

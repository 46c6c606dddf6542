"""Approve or reject a fikahälsning for social media from a signed link in the weekly digest.

The link opens a page with one button: the change is a POST, because mail scanners and link
previews follow every GET in a message, and must not approve a photo on a coordinator's behalf.
Only a greeting whose sender said yes to sharing can be approved. The links are signed like every
other link of ours (`bot.links`), with the same secret key.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.links import REVIEW, BadLink, LinkSigner
from store.models import Greeting

DECISIONS = ("approved", "rejected")
PATH = "/review/{token}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        f'<body style="font-family: Arial, sans-serif; padding: 16px;">{body}</body></html>',
        status_code=status,
    )


def review_routes(
    sessions: async_sessionmaker[AsyncSession], signer: LinkSigner, clock: Callable[[], datetime]
) -> list[Route]:
    async def review(request: Request) -> HTMLResponse:
        token = str(request.path_params["token"])
        try:
            claim = signer.read(token, REVIEW, clock())
        except BadLink:
            return _page("Not valid", "<p>This link is not valid or too old.</p>", 403)
        decision = claim.option or ""
        if decision not in DECISIONS:
            return _page("Not valid", "<p>This link is not valid or too old.</p>", 403)
        if request.method == "POST":
            # one small urlencoded field: no need for python-multipart
            form = parse_qs((await request.body())[:1024].decode("ascii", "replace"))
            if not signer.check_form_token(token, form.get("form", [""])[0]):
                return _page("Not valid", "<p>Open the link from the digest again.</p>", 403)
        async with sessions.begin() as session:
            greeting = await session.get(Greeting, claim.subject)
            if greeting is None:
                return _page("Not found", "<p>This fikahälsning no longer exists.</p>", 404)
            if decision == "approved" and greeting.consent != "yes":
                return _page(
                    "No consent",
                    "<p>The sender has not agreed to sharing; it cannot be approved.</p>",
                    409,
                )
            if request.method == "GET":
                verb = "Approve" if decision == "approved" else "Reject"
                return _page(
                    verb,
                    f"<p>{verb} this fikahälsning for social media?</p>"
                    f'<form method="post"><input type="hidden" name="form" '
                    f'value="{html.escape(signer.form_token(token))}">'
                    f'<button type="submit">{verb}</button></form>',
                )
            greeting.social, greeting.social_at = decision, clock()
        return _page("Saved", f"<p>Saved: {decision}.</p>")

    return [Route(PATH, review, methods=["GET", "POST"])]

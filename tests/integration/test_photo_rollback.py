"""A photo is stored before the row that names it: when the transaction that writes the row
fails (here a trigger the database enforces, as a constraint would), the stored photo goes too,
from the folder and from an S3 bucket, through the inbound path (a SAVEPOINT in a group commit)
and the upload page. A transaction that commits keeps its photo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.channels.base import InboundMessage
from fikafollow.app import App
from fikafollow.config import load_settings
from tests.integration.test_conversation import photo_with_gps, started
from tests.integration.test_email import asked, client_for, form_of, upload_link
from tests.integration.test_photo_storage import (  # bucket, s3_endpoint: its fixtures
    KEY,
    SECRET,
    _keys,
    _media_url,
    bucket,  # noqa: F401
    s3_endpoint,  # noqa: F401
)
from tests.support.dbstate import aquery

__all__ = ["asked"]  # a fixture of test_email.py, used here as it is there
DUE_HOUR = "2026-05-25 09:00"
LEILA = "+46701234501"


async def refuse_greetings(db_url: str) -> None:
    """Make every insert into `greeting` fail inside the database, as a violated constraint
    does: the application's transaction really fails and rolls back."""
    if db_url.startswith("postgresql"):
        await aquery(
            db_url,
            "CREATE FUNCTION refuse_greeting() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'greeting refused for the test'; END $$",
        )
        await aquery(
            db_url,
            "CREATE TRIGGER refuse_greeting BEFORE INSERT ON greeting"
            " FOR EACH ROW EXECUTE FUNCTION refuse_greeting()",
        )
    else:
        await aquery(
            db_url,
            "CREATE TRIGGER refuse_greeting BEFORE INSERT ON greeting"
            " BEGIN SELECT RAISE(ABORT, 'greeting refused for the test'); END",
        )


async def accept_greetings(db_url: str) -> None:
    if db_url.startswith("postgresql"):
        await aquery(db_url, "DROP TRIGGER refuse_greeting ON greeting")
        await aquery(db_url, "DROP FUNCTION refuse_greeting()")
    else:
        await aquery(db_url, "DROP TRIGGER refuse_greeting")


def photos_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.jpg")) if folder.exists() else []


async def a_photo_arrives(app: App, n: int) -> str:
    """Leila sends a photo by MMS: the real inbound interface, as the SMS channel hands it."""
    message = InboundMessage(
        "sms", f"MM{n}", LEILA, "fika!", photos=(photo_with_gps(),), photo_types=("image/jpeg",)
    )
    return await app.inbound.receive(message, datetime.fromisoformat(DUE_HOUR + "+00:00"))


async def test_an_inbound_photo_whose_greeting_fails_is_deleted_from_the_folder(
    app: App, db_url: str
) -> None:
    await started(app)
    folder = app.photos.root
    await refuse_greetings(db_url)
    with pytest.raises(Exception, match="greeting refused for the test"):
        await a_photo_arrives(app, 1)
    assert photos_in(folder) == []
    assert await aquery(db_url, "SELECT count(*) FROM greeting") == [(0,)]
    # the same photo once the database takes it: kept, and named by its row
    await accept_greetings(db_url)
    assert await a_photo_arrives(app, 2) == "greeting"
    (kept,) = await aquery(db_url, "SELECT photo_path FROM greeting")
    assert photos_in(folder) == [kept[0]]


@pytest.fixture
async def s3_app(
    db_url: str,
    tmp_path: Path,
    s3_endpoint: str,  # noqa: F811
    bucket: Any,  # noqa: F811
) -> AsyncIterator[App]:
    settings = load_settings(
        database_url=db_url,
        photo_dir=tmp_path / "photos",
        media_url=_media_url(s3_endpoint),
        media_access_key=KEY,
        media_secret_key=SECRET,
    )
    application = App(settings)
    await application.start()
    try:
        yield application
    finally:
        await application.close()


async def test_an_inbound_photo_whose_greeting_fails_is_deleted_from_the_bucket(
    s3_app: App,
    bucket: Any,  # noqa: F811
    db_url: str,
    tmp_path: Path,
) -> None:
    await started(s3_app)
    await refuse_greetings(db_url)
    with pytest.raises(Exception, match="greeting refused for the test"):
        await a_photo_arrives(s3_app, 1)
    assert await _keys(bucket) == []
    await accept_greetings(db_url)
    assert await a_photo_arrives(s3_app, 2) == "greeting"
    assert len(await _keys(bucket)) == 1
    assert photos_in(tmp_path / "photos") == []


async def test_an_uploaded_photo_whose_greeting_fails_is_deleted(asked: App, db_url: str) -> None:
    url = await upload_link(asked, "P2")
    await refuse_greetings(db_url)
    async with client_for(asked, raise_app_exceptions=False) as http:
        form = form_of((await http.get(url)).text)
        failed = await http.post(
            url,
            data={"form": form, "words": "fika", "consent": "yes"},
            files={"photo": ("fika.jpg", photo_with_gps(), "image/jpeg")},
        )
        assert failed.status_code == 500
    assert photos_in(asked.settings.photo_dir) == []
    assert await aquery(db_url, "SELECT count(*) FROM greeting") == [(0,)]

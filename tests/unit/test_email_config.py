"""E-mail settings: checked at start, and composed into channels, pages and the mailbox reader."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.routing import Route

from bot.channels.email import EmailChannel
from bot.links import ANSWER, LinkClaim
from fikafollow.app import App
from fikafollow.config import ConfigError, load_settings

NOW = datetime(2026, 5, 25, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"smtp_host": "smtp.example.org"}, "FIKAFOLLOW_MAIL_FROM"),
        ({"mail_from": "not an address"}, "FIKAFOLLOW_MAIL_FROM"),
        ({"smtp_security": "ssl"}, "FIKAFOLLOW_SMTP_SECURITY"),
        ({"imap_security": "starttls"}, "FIKAFOLLOW_IMAP_SECURITY"),
        ({"imap_host": "imap.example.org"}, "FIKAFOLLOW_IMAP_USERNAME"),
        ({"public_url": "fika.example.se"}, "FIKAFOLLOW_PUBLIC_URL"),
        ({"secret_key": "short"}, "FIKAFOLLOW_SECRET_KEY"),
    ],
)
def test_a_bad_mail_setting_stops_at_start_naming_the_variable(
    settings: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(**settings)


def test_postgres_with_links_needs_a_shared_secret() -> None:
    settings = load_settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1/none",
        public_url="https://fika.example.se",
    )
    with pytest.raises(ConfigError, match="FIKAFOLLOW_SECRET_KEY"):
        App(settings)


async def test_sqlite_makes_its_secret_once_and_keeps_it_beside_the_database(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}",
        public_url="https://fika.example.se/",
    )
    first = App(settings)
    secret = tmp_path / "f.db.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert first.links is not None and first.links.public_url == "https://fika.example.se"
    token = first.links.signer.make(LinkClaim(ANSWER, 7, "met_again", "yes"), NOW)
    second = App(settings)
    assert second.links is not None
    assert second.links.signer.read(token, ANSWER, NOW) == LinkClaim(ANSWER, 7, "met_again", "yes")
    await first.close()
    await second.close()


async def test_mail_settings_bring_the_channel_the_pages_and_the_mailbox_reader(
    tmp_path: Path,
) -> None:
    bare = App(load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    assert "email" not in bare.channels and bare.web_routes() == []
    assert bare.background_tasks() == []
    await bare.close()
    app = App(
        load_settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
            smtp_host="smtp.example.org",
            mail_from="Fika <fika@example.org>",
            public_url="https://fika.example.se",
            imap_host="imap.example.org",
            imap_username="replies",
            imap_password="secret",
        )
    )
    assert isinstance(app.channels["email"], EmailChannel)
    paths = {route.path for route in app.web_routes() if isinstance(route, Route)}
    # the answer and upload pages, unsubscribe, and the digest's review page share one signer
    assert paths == {
        "/a/{token}",
        "/u/{token}",
        "/unsubscribe/{token}",
        "/review/{token}",
        "/activities/{token}",
    }
    assert len(app.background_tasks()) == 1
    await app.close()

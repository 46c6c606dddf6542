"""Configuration: FIKAFOLLOW_* variables, .env, *_FILE secrets, errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from fikafollow.commands import main
from fikafollow.config import ConfigError, load_settings


def test_defaults_are_the_embedded_sqlite_setup() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///fikafollow.db"
    assert settings.timezone == "Europe/Stockholm"
    assert settings.send_hour == 10
    assert settings.quiet_hours == "20:00-09:00"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FIKAFOLLOW_TIMEZONE", "Mars/Olympus", "FIKAFOLLOW_TIMEZONE: unknown time zone"),
        ("FIKAFOLLOW_SEND_HOUR", "25", "FIKAFOLLOW_SEND_HOUR"),
        ("FIKAFOLLOW_QUIET_HOURS", "8pm-9am", "FIKAFOLLOW_QUIET_HOURS: quiet hours must look"),
        ("FIKAFOLLOW_DATABASE_URL", "mysql://x", "FIKAFOLLOW_DATABASE_URL: use sqlite"),
        ("FIKAFOLLOW_RATE_SMS", "-1", "FIKAFOLLOW_RATE_SMS"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()
    assert main(["tick"]) == 2
    assert message in capsys.readouterr().err


def test_a_secret_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "db-url"
    secret.write_text("postgresql+asyncpg://app@db/fika\n", encoding="utf-8")
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL_FILE", str(secret))
    assert load_settings().database_url == "postgresql+asyncpg://app@db/fika"


def test_an_unreadable_secret_file_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="FIKAFOLLOW_DATABASE_URL_FILE: cannot read"):
        load_settings()


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path) -> None:
    # the autouse fixture runs each test in its own tmp_path
    (tmp_path / ".env").write_text("FIKAFOLLOW_SEND_HOUR=11\n", encoding="utf-8")
    assert load_settings().send_hour == 11


def test_programme_settings_are_checked_and_saved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    assert main(["programme", "set", "umea", "--timezone", "Nowhere/Land"]) == 2
    assert "--timezone: unknown time zone" in capsys.readouterr().err
    assert (
        main(
            [
                "programme",
                "set",
                "umea",
                "--name",
                "Fika Umeå",
                "--send-hour",
                "11",
                "--quiet-hours",
                "21:00-08:30",
            ]
        )
        == 0
    )
    assert main(["programme", "list"]) == 0
    assert "umea\tFika Umeå\tEurope/Stockholm\tsend 11:00\tquiet 21:00-08:30" in (
        capsys.readouterr().out
    )

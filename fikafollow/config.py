"""Configuration, read once from `FIKAFOLLOW_*` environment variables and an optional `.env` file.

A bad value fails at start with the variable's name in the message, not deep inside a pass at 3 a.m.
Any secret may instead come from a file named by `<VARIABLE>_FILE` (Docker and systemd secrets).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "FIKAFOLLOW_"
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///fikafollow.db"
    # the programme every command uses unless told otherwise; created on first use
    programme: str = "default"
    programme_name: str = "Fika"
    timezone: str = "Europe/Stockholm"
    send_hour: int = Field(default=10, ge=0, le=23)
    quiet_hours: str = "20:00-09:00"
    default_region: str = "SE"
    # messages per second per channel; the outbox sender's token buckets
    rate_telegram: float = Field(default=25.0, gt=0)
    rate_sms: float = Field(default=10.0, gt=0)
    rate_email: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    photo_dir: Path = Path("photos")
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    tick_seconds: int = Field(default=60, ge=1)
    log_level: str = "INFO"

    # --- e-mail sending (shared with the e-mail channel; same names there) ---
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    mail_from: str = "fikafollow@localhost"
    # --- end of e-mail sending ---
    # signs the approve/reject links for fikahälsningar in the weekly digest (with public_url)
    review_secret: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use a name like Europe/Stockholm)"
            ) from exc
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_format(cls, value: str) -> str:
        if not _QUIET.match(value.strip()):
            raise ValueError("quiet hours must look like 20:00-09:00")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log level must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()


def _secrets_from_files(environ: dict[str, str]) -> dict[str, Any]:
    """Read `FIKAFOLLOW_X_FILE=path` into the value of `x`."""
    values: dict[str, Any] = {}
    for key, path in environ.items():
        if not (key.startswith(PREFIX) and key.endswith("_FILE")):
            continue
        name = key[len(PREFIX) : -len("_FILE")].lower()
        if name not in Settings.model_fields:
            raise ConfigError(f"{key}: there is no setting {PREFIX}{name.upper()}")
        try:
            values[name] = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{key}: cannot read {path}: {exc.strerror}") from exc
    return values


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, `.env` and `*_FILE` secrets; ConfigError on a bad one."""
    try:
        values = _secrets_from_files(dict(os.environ))
        values.update(overrides)
        return Settings(**values)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "?"
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{PREFIX}{field.upper()}: {message}")
        raise ConfigError("; ".join(lines)) from None


def parse_quiet_hours(value: str) -> tuple[int, int]:
    """'20:00-09:00' → (start, end) in minutes after midnight."""
    m = _QUIET.match(value.strip())
    if not m:
        raise ValueError("quiet hours must look like 20:00-09:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    return h1 * 60 + m1, h2 * 60 + m2

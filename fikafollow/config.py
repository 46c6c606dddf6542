"""Configuration, read once from `FIKAFOLLOW_*` environment variables and an optional `.env` file.

A bad value fails at start with the variable's name in the message, not deep inside a pass at 3 a.m.
Any secret may instead come from a file named by `<VARIABLE>_FILE` (Docker and systemd secrets).
"""

from __future__ import annotations

import os
import re
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.media import parse_media_url

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
    # whether a programme created from now on keeps the send calendar (holidays and eves,
    # Sundays, Friday midday): on, since a question on Christmas Eve is what it is there to stop;
    # a programme's own setting (`programme set --send-calendar`) wins once it exists
    send_calendar: bool = True
    default_region: str = "SE"
    # messages per second per channel; the outbox sender's token buckets
    rate_telegram: float = Field(default=25.0, gt=0)
    rate_sms: float = Field(default=10.0, gt=0)
    rate_email: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    photo_dir: Path = Path("photos")
    # photos in an S3-compatible bucket instead of photo_dir:
    # s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1; credentials from
    # MEDIA_ACCESS_KEY/MEDIA_SECRET_KEY, else the usual AWS_* variables (botocore's chain)
    media_url: str | None = None
    media_access_key: str | None = None
    media_secret_key: str | None = None
    # raw inbound payloads, sent message bodies and photos nobody may share are erased after this
    retention_days: int = Field(default=180, ge=1)
    public_url: str | None = None
    # signs one-click answer, upload and unsubscribe links and reply addresses; with SQLite and
    # none given, one is made and kept beside the database file
    secret_key: str | None = Field(default=None, min_length=16)
    # e-mail out (SMTP) and replies in (IMAP); the channel is on when SMTP_HOST is set
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str | None = None
    mail_reply_to: str | None = None
    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: str = "tls"
    imap_username: str | None = None
    imap_password: str | None = None
    imap_mailbox: str = "INBOX"
    imap_poll_seconds: int = Field(default=60, ge=5)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    tick_seconds: int = Field(default=60, ge=1)
    log_level: str = "INFO"
    # Telegram: the channel joins when a token is set
    telegram_token: str | None = None
    # root of the Bot API server; methods go to {root}/bot{token}/{method}
    telegram_api_url: str = "https://api.telegram.org"
    # for deep links; asked of the Bot API (getMe) when not set
    telegram_bot_username: str | None = None
    telegram_mode: str = "polling"
    telegram_webhook_secret: str | None = None
    # how long a deep link to link a chat stays valid
    telegram_link_days: int = Field(default=30, ge=1, le=365)
    # Telegram allows about one message per second into one chat
    telegram_chat_interval: float = Field(default=1.0, ge=0)
    telegram_poll_timeout: int = Field(default=30, ge=0, le=50)
    # SMS through Twilio: all three of sid, token and from, or none
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    # a number in E.164, or a messaging service SID ("MG…")
    twilio_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"

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

    @field_validator("smtp_security")
    @classmethod
    def _smtp_security(cls, value: str) -> str:
        if value.lower() not in {"starttls", "tls", "none"}:
            raise ValueError("must be starttls, tls or none")
        return value.lower()

    @field_validator("imap_security")
    @classmethod
    def _imap_security(cls, value: str) -> str:
        # the e-mail channel's IMAP client speaks TLS from the start or plain text, not STARTTLS
        if value.lower() not in {"tls", "none"}:
            raise ValueError("must be tls (port 993) or none")
        return value.lower()

    @field_validator("mail_from", "mail_reply_to")
    @classmethod
    def _mail_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _, address = parseaddr(value)
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @model_validator(mode="after")
    def _mail_complete(self) -> Settings:
        if self.smtp_host and not self.mail_from:
            raise ValueError("FIKAFOLLOW_MAIL_FROM is needed when FIKAFOLLOW_SMTP_HOST is set")
        if self.imap_host and not (self.imap_username and self.imap_password):
            raise ValueError(
                "FIKAFOLLOW_IMAP_USERNAME and FIKAFOLLOW_IMAP_PASSWORD are needed with "
                "FIKAFOLLOW_IMAP_HOST"
            )
        return self

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("use the Bot API server's root URL, e.g. https://api.telegram.org")
        return value.rstrip("/")

    @field_validator("telegram_mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        if value.lower() not in {"polling", "webhook"}:
            raise ValueError("use polling or webhook")
        return value.lower()

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        # what Telegram accepts as secret_token
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.removeprefix("@")
            if not re.fullmatch(r"[A-Za-z0-9_]{5,32}", value):
                raise ValueError("a bot username is 5-32 letters, digits or _")
        return value

    @model_validator(mode="after")
    def _webhook_needs(self) -> Settings:
        if self.telegram_token and self.telegram_mode == "webhook":
            if not self.public_url:
                raise ValueError(f"{PREFIX}TELEGRAM_MODE=webhook needs {PREFIX}PUBLIC_URL")
            if not self.telegram_webhook_secret:
                raise ValueError(
                    f"{PREFIX}TELEGRAM_MODE=webhook needs {PREFIX}TELEGRAM_WEBHOOK_SECRET"
                )
        return self

    @field_validator("twilio_account_sid")
    @classmethod
    def _account_sid(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"AC[0-9a-fA-F]{32}", value.strip()):
            raise ValueError("a Twilio account SID is AC followed by 32 hex digits")
        return value.strip() if value is not None else None

    @field_validator("twilio_from")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not (
            re.fullmatch(r"\+[1-9]\d{6,14}", value) or re.fullmatch(r"MG[0-9a-fA-F]{32}", value)
        ):
            raise ValueError("use an E.164 number like +46701234567 or a messaging service SID MG…")
        return value

    @field_validator("twilio_api_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value.strip()):
            raise ValueError("use an http(s) URL like https://fika.example.se")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _twilio_complete(self) -> Settings:
        given = [self.twilio_account_sid, self.twilio_auth_token, self.twilio_from]
        if any(given) and not all(given):
            raise ValueError(
                "SMS needs all of FIKAFOLLOW_TWILIO_ACCOUNT_SID, FIKAFOLLOW_TWILIO_AUTH_TOKEN "
                "and FIKAFOLLOW_TWILIO_FROM"
            )
        if all(given) and self.public_url is None:
            raise ValueError(
                "SMS needs FIKAFOLLOW_PUBLIC_URL: Twilio's webhooks and their signatures use it"
            )
        return self

    @property
    def sms_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @field_validator("media_url")
    @classmethod
    def _media_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_media_url(value)
        return value.strip()

    @model_validator(mode="after")
    def _media_keys_together(self) -> Settings:
        if bool(self.media_access_key) != bool(self.media_secret_key):
            raise ValueError(
                f"{PREFIX}MEDIA_ACCESS_KEY and {PREFIX}MEDIA_SECRET_KEY go together (or neither:"
                " the AWS_* variables)"
            )
        return self

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
            field = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            # a check across settings names its variables in the message itself
            lines.append(f"{PREFIX}{field.upper()}: {message}" if field else message)
        raise ConfigError("; ".join(lines)) from None


def parse_quiet_hours(value: str) -> tuple[int, int]:
    """'20:00-09:00' → (start, end) in minutes after midnight."""
    m = _QUIET.match(value.strip())
    if not m:
        raise ValueError("quiet hours must look like 20:00-09:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    return h1 * 60 + m1, h2 * 60 + m2

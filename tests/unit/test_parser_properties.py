"""Properties of every parser that reads what strangers or operators give us: whatever comes in,
the parser answers with a value or with our own error type (never a library's exception, never a
crash), and where a value can be written back it reads back the same."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from telegram import Chat, Message, Update, User

from bot.channels.base import DELIVERY_RANK
from bot.channels.email.quotes import strip_quoted
from bot.channels.email.receive import _body_text, _images
from bot.channels.sms.receive import MAX_FORM, FormRefused, read_form, read_status
from bot.channels.telegram.updates import read_update
from fikafollow.config import ConfigError, load_settings, parse_quiet_hours
from messages.languages import LOCALE_DIR, LanguageDataError, all_languages, read_language
from store import intake
from store.match_files import parse_date, word
from store.photos import PhotoRejected, PhotoStore

BOUNDED = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
any_json = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


# --- Telegram updates ---------------------------------------------------------------------

MESSAGE_FIELDS = ("message_id", "date", "chat", "text", "photo", "from", "caption", "entities")


@BOUNDED
@given(
    st.binary(max_size=300)
    | any_json.map(lambda v: _json(v))
    | st.fixed_dictionaries(
        {
            "update_id": st.integers(min_value=-(2**70), max_value=2**70) | leaves,
            "message": st.dictionaries(st.sampled_from(MESSAGE_FIELDS), any_json, max_size=6)
            | any_json,
        }
    ).map(lambda v: _json(v))
)
def test_any_webhook_body_is_an_update_or_nothing(body: bytes) -> None:
    update = read_update(None, body)
    assert update is None or isinstance(update.update_id, int)


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


@BOUNDED
@given(
    update_id=st.integers(min_value=0, max_value=2**31),
    chat=st.integers(min_value=1, max_value=2**40),
    text=st.text(min_size=1, max_size=200),
    when=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_an_update_reads_back_as_telegram_wrote_it(
    update_id: int, chat: int, text: str, when: datetime
) -> None:
    sent = Update(
        update_id,
        message=Message(
            1,
            when.replace(microsecond=0),
            Chat(chat, Chat.PRIVATE),
            from_user=User(chat, "Amina", False),
            text=text,
        ),
    )
    read = read_update(None, sent.to_json().encode())
    assert read is not None and read.update_id == update_id
    assert read.message is not None
    assert read.message.text == text and read.message.chat.id == chat
    assert read.message.date == when.replace(microsecond=0)


# --- Twilio's forms -----------------------------------------------------------------------

TWILIO_FIELDS = ("From", "Body", "MessageSid", "MessageStatus", "SmsStatus", "ErrorCode")


@BOUNDED
@given(st.binary(max_size=2000))
def test_any_form_body_is_fields_or_our_refusal(body: bytes) -> None:
    try:
        form = read_form(body)
    except FormRefused as refused:
        assert refused.status in (400, 413)
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in form.items())


@BOUNDED
@given(st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=200), max_size=12))
def test_a_form_reads_back_its_fields(fields: dict[str, str]) -> None:
    body = urlencode(fields).encode()
    assume(len(body) <= MAX_FORM)
    assert read_form(body) == fields


def test_a_repeated_field_and_a_large_form_are_refused() -> None:
    with pytest.raises(FormRefused) as repeated:
        read_form(b"Body=1&Body=2")
    assert repeated.value.status == 400
    with pytest.raises(FormRefused) as large:
        read_form(b"Body=" + b"x" * MAX_FORM)
    assert large.value.status == 413


@BOUNDED
@given(
    st.dictionaries(
        st.sampled_from(TWILIO_FIELDS) | st.text(max_size=8),
        st.sampled_from([*DELIVERY_RANK, "30003", "21610", "DELIVERED"]) | st.text(max_size=20),
        max_size=6,
    )
)
def test_any_status_form_is_a_report_or_nothing(form: dict[str, str]) -> None:
    report = read_status(form)
    if report is None:
        return
    assert report.provider_id == form["MessageSid"] and report.provider_id
    assert report.status in DELIVERY_RANK
    assert report.status == form.get("MessageStatus", form.get("SmsStatus", "")).lower()


# --- e-mail replies -----------------------------------------------------------------------


@BOUNDED
@given(st.text(max_size=500))
def test_any_reply_text_is_stripped_without_error(text: str) -> None:
    assert isinstance(strip_quoted(text), str)


@BOUNDED
@given(
    reply=st.text(alphabet="0123456789 \n", max_size=80),
    quoted=st.text(max_size=200),
)
def test_the_new_words_stay_and_the_quote_goes(reply: str, quoted: str) -> None:
    body = reply + "\n> QUOTED-MARK " + quoted.replace("\r", " ")
    kept = strip_quoted(body)
    assert kept == reply.strip()
    assert "QUOTED-MARK" not in kept


mail_lines = st.lists(
    st.sampled_from(
        [
            "From: a@example.org",
            "Subject: Re: Fika",
            "Content-Type: text/html; charset=utf-8",
            "Content-Type: text/plain; charset=x-unknown",
            "Content-Type: multipart/mixed; boundary=b",
            "Content-Transfer-Encoding: base64",
            "Content-Transfer-Encoding: quoted-printable",
            "Content-Type: image/jpeg",
            "--b",
            "--b--",
            "",
        ]
    )
    | st.text(max_size=60),
    max_size=20,
)


@BOUNDED
@given(st.binary(max_size=1500) | mail_lines.map(lambda lines: "\r\n".join(lines).encode()))
def test_any_mail_gives_its_text_and_images_without_error(raw: bytes) -> None:
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(mail, EmailMessage)
    assert isinstance(strip_quoted(_body_text(mail)), str)
    photos, types = _images(mail)
    assert len(photos) == len(types)


# --- the photo header check ---------------------------------------------------------------

HEADERS = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b""]


@BOUNDED
@given(st.sampled_from(HEADERS), st.binary(max_size=3000))
def test_any_bytes_are_a_photo_or_a_clear_refusal(header: bytes, rest: bytes) -> None:
    try:
        jpeg, width, height = PhotoStore(Path("unused")).encode(header + rest)
    except PhotoRejected as refused:
        assert refused.reason in ("too_big", "not_an_image", "too_many_pixels")
        return
    assert jpeg[:2] == b"\xff\xd8" and width > 0 and height > 0


@BOUNDED
@given(st.integers(1, 64), st.integers(1, 64), st.sampled_from(["PNG", "GIF", "WEBP", "JPEG"]))
def test_a_real_picture_is_kept_at_its_size(width: int, height: int, fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(out, format=fmt)
    _jpeg, kept_width, kept_height = PhotoStore(Path("unused")).encode(out.getvalue())
    assert (kept_width, kept_height) == (width, height)


# --- the match file: phone numbers and dates ----------------------------------------------

HEADER = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender"
)


def _row(phone: str, matched_on: str = "2026-05-04") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    writer.writerow(
        ["M1", matched_on, "individual", "P1", "Amina", "newcomer", "sv", "sms", phone, "", ""]
    )
    karin = ["M1", "2026-05-04", "individual", "P2", "Karin", "established", "sv", "sms"]
    writer.writerow([*karin, "+46701740605", "", ""])
    return out.getvalue().encode()


@BOUNDED
@given(st.text(max_size=40), st.text(max_size=30))
def test_any_phone_or_date_cell_is_read_or_named_as_wrong(phone: str, matched_on: str) -> None:
    rows, errors = intake.read_file(_row(phone, matched_on), "SE")
    amina = [row for row in rows if row.participant_id == "P1"]
    # Amina's row is read or its problems are named (by its line), never both; Karin's stays
    assert bool(amina) != bool(errors)
    assert any(row.participant_id == "P2" for row in rows)
    for row in amina:
        assert row.phone is not None and row.phone.startswith("+")


@BOUNDED
@given(
    st.integers(0, 99_999_99),
    st.sampled_from(["070{}", "+4670{}", "0046 70{}", "070-{}", "+46 (0)70{}"]),
)
def test_a_swedish_mobile_number_reads_back_in_e164(digits: int, form: str) -> None:
    local = f"{digits:07d}"
    rows, errors = intake.read_file(_row(form.format(local)), "SE")
    assert not errors, errors
    assert rows[0].phone == f"+4670{local}"


@BOUNDED
@given(st.text(max_size=30))
def test_any_date_text_is_a_date_or_none(text: str) -> None:
    assert parse_date(text) is None or isinstance(parse_date(text), date)


@BOUNDED
@given(st.dates(min_value=date(1000, 1, 1)))
def test_a_date_reads_back_in_every_written_form(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.isoformat().replace("-", "/")) == day
    assert parse_date(f"{day.isoformat()} 00:00:00") == day
    assert parse_date(f"{day.day}/{day.month}/{day.year:04d}") == day


# --- language names -----------------------------------------------------------------------


@BOUNDED
@given(st.text(max_size=30))
def test_any_language_word_is_a_word(text: str) -> None:
    assert isinstance(word("language", text), str)


LANGUAGE_NAMES = [
    (code, name)
    for code, language in all_languages().items()
    for name in (*language.names.values(), *language.aliases)
]


@BOUNDED
@given(st.sampled_from(LANGUAGE_NAMES), st.sampled_from([str.upper, str.lower, str.title]))
def test_every_name_of_a_language_reads_back_as_its_code(
    named: tuple[str, str], case: object
) -> None:
    code, name = named
    assert word("language", f"  {case(name)} ") == code  # type: ignore[operator]


toml_value = st.sampled_from(['"x"', "1", "true", "[]", '["a", 1]', "{}", '{ a = "b" }', "1.5"])


@BOUNDED
@given(
    st.text(max_size=300)
    | st.tuples(
        st.sampled_from(["direction", "sms_encoding", "position", "digits", "first_digit"]),
        toml_value,
    ).map(lambda kv: f"{kv[0]} = {kv[1]}\n")
    | st.tuples(st.sampled_from(["name", "replies", "fold", "mail", "latin"]), toml_value).map(
        lambda kv: f"{kv[0]} = {kv[1]}\n"
    )
)
def test_any_language_file_is_a_language_or_our_error(extra: str) -> None:
    own = (LOCALE_DIR / "sv" / "language.toml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "xx"
        (folder / "LC_MESSAGES").mkdir(parents=True)
        (folder / "LC_MESSAGES" / "messages.po").write_text("", encoding="utf-8")
        # the text alone, and the text put before a real file's keys (which may then clash)
        for content in (extra, extra + "\n" + own):
            (folder / "language.toml").write_text(content, encoding="utf-8")
            try:
                language = read_language(folder)
            except LanguageDataError:
                continue
            assert language.code == "xx"


# --- quiet hours and durations in the configuration ---------------------------------------


@BOUNDED
@given(st.text(max_size=20))
def test_any_quiet_hours_text_is_minutes_or_a_clear_error(text: str) -> None:
    try:
        start, end = parse_quiet_hours(text)
    except ValueError as exc:
        assert "20:00-09:00" in str(exc)
        return
    assert 0 <= start < 24 * 60 and 0 <= end < 24 * 60


@BOUNDED
@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59))
def test_quiet_hours_read_back(h1: int, m1: int, h2: int, m2: int) -> None:
    text = f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
    assert parse_quiet_hours(text) == (h1 * 60 + m1, h2 * 60 + m2)


DURATIONS = ("tick_seconds", "retry_base_seconds", "retention_days", "quiet_hours", "send_hour")


@BOUNDED
@given(st.sampled_from(DURATIONS), st.text(max_size=12) | st.integers().map(str))
def test_any_duration_setting_is_read_or_refused_naming_its_variable(name: str, value: str) -> None:
    try:
        load_settings(**{name: value})
    except ConfigError as exc:
        assert f"FIKAFOLLOW_{name.upper()}" in str(exc)

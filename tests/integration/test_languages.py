"""Languages as data: the folders under messages/locale (and FIKAFOLLOW_LOCALE_DIRS), Latin-letter
replies through signed SMS webhooks, Ukrainian and Somali, and a language added from outside."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from fikafollow.commands import main
from messages import languages
from messages.digest import LANGUAGE_NAMES
from messages.languages import LanguageDataError, read_language, read_languages
from messages.render import LANGUAGES, RTL_LANGUAGES
from store import intake
from store.models import Answer, FollowUp, Participant
from tests.integration.test_sms import (  # noqa: F401 (service and twilio are fixtures)
    HEADER,
    INBOUND,
    Service,
    last_to,
    seed,
    service,
    twilio,
)
from tests.support.dbstate import query
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.loopback import bound_socket
from tests.support.sms_cost import cost_table

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("bot", "store", "fikafollow", "scheduler")
# the coordinators read and are written to in these; they may be named where coordinators are
COORDINATOR_LANGUAGES = {"sv", "en"}


# --- the folders ---------------------------------------------------------------------------------


def test_every_folder_is_a_language_everywhere() -> None:
    codes = set(languages.codes())
    assert {"sv", "en", "ar", "ti", "fa", "uk", "so"} <= codes
    assert set(LANGUAGES) == codes == set(intake.LANGUAGES)
    assert {"ar", "fa"} == RTL_LANGUAGES
    assert LANGUAGE_NAMES["sv"]["uk"] == "ukrainska" and LANGUAGE_NAMES["en"]["so"] == "Somali"


def test_no_participant_language_is_named_in_code() -> None:
    codes = "|".join(sorted(set(languages.codes()) - COORDINATOR_LANGUAGES))
    quoted = re.compile(rf"""["']({codes})["']""")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in CODE_DIRS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if quoted.search(line)
    ]
    assert found == []


def test_the_sms_encoding_in_each_folder_is_what_its_messages_cost() -> None:
    table = cost_table()
    for code, language in languages.all_languages().items():
        encodings = {enc for _n, enc in table[code].values()}
        assert encodings == {"GSM-7" if language.sms_encoding == "gsm" else "UCS-2"}, code


def test_a_bad_folder_says_which_file_and_what(tmp_path: Path) -> None:
    folder = _language_folder(tmp_path, "eo")
    data = folder / "language.toml"
    data.write_text(data.read_text().replace('direction = "ltr"', 'direction = "up"'))
    with pytest.raises(LanguageDataError, match=r"eo/language.toml: direction"):
        read_language(folder)
    (folder / "LC_MESSAGES" / "messages.po").unlink()
    with pytest.raises(LanguageDataError, match=r"messages\.po is missing"):
        read_language(folder)
    with pytest.raises(LanguageDataError, match="FIKAFOLLOW_LOCALE_DIRS"):
        read_languages([tmp_path / "nowhere"])


def test_a_folder_from_outside_joins_the_languages(tmp_path: Path) -> None:
    _language_folder(tmp_path, "eo")
    found = read_languages(languages.locale_roots({"FIKAFOLLOW_LOCALE_DIRS": str(tmp_path)}))
    assert list(found)[-1] == "eo"
    assert found["eo"].names["own"] == "Esperanto"
    assert found["eo"].words["yes"] == ("jes",)


# --- replies typed in Latin letters, questions back, Ukrainian and Somali, over signed SMS -------

CSV = HEADER + (
    "M1,2026-05-04,individual,P1,Samira,newcomer,ar,sms,+46701000001,,woman\n"
    "M1,2026-05-04,individual,P2,Erik,established,sv,sms,+46701000002,,man\n"
    "M2,2026-05-04,individual,P3,Leila,newcomer,fa,sms,+46701000003,,woman\n"
    "M2,2026-05-04,individual,P4,Yonas,newcomer,ti,sms,+46701000004,,man\n"
    "M3,2026-05-04,individual,P5,Oksana,newcomer,uk,sms,+46701000005,,woman\n"
    "M3,2026-05-04,individual,P6,Hodan,newcomer,so,sms,+46701000006,,woman\n"
)
PHONES = {
    "ar": "+46701000001",
    "sv": "+46701000002",
    "fa": "+46701000003",
    "ti": "+46701000004",
    "uk": "+46701000005",
    "so": "+46701000006",
}
# what each participant texts, in order; the sv participant only asks back
REPLIES = {
    "ar": ["na3am", "inshallah"],
    "fa": ["koja?", "bale", "shayad"],
    "ti": ["ewe", "ayfal"],
    "uk": ["так", "можливо"],
    "so": ["haa", "laga yaabee"],
    "sv": ["när ska vi ses?", "vem är det här?"],
}
EXPECTED = {
    "ar": {"met_again": "yes", "will_meet_again": "maybe"},
    "fa": {"met_again": "yes", "will_meet_again": "maybe"},
    "ti": {"met_again": "yes", "will_meet_again": "no"},
    "uk": {"met_again": "yes", "will_meet_again": "maybe"},
    "so": {"met_again": "yes", "will_meet_again": "maybe"},
    "sv": {},
}


async def test_latin_letters_and_new_languages_are_recorded_and_questions_back_never(
    service: Service,  # noqa: F811
    twilio: FakeTwilio,  # noqa: F811
) -> None:
    await seed(service, CSV)
    assert "Ви зустрілися знову?" in last_to(twilio, PHONES["uk"])
    assert "Так" in last_to(twilio, PHONES["uk"])
    assert "Mar kale ma kulanteen?" in last_to(twilio, PHONES["so"])
    assert "Haa" in last_to(twilio, PHONES["so"])
    for language, texts in REPLIES.items():
        for text in texts:
            response = await service.text(PHONES[language], text)
            assert response.status_code == 200
            await service.tick()
    async with service.app.sessions() as session:
        rows = await session.execute(
            select(Participant.language, Answer.question, Answer.value)
            .join(FollowUp, FollowUp.participant_id == Participant.id)
            .join(Answer, Answer.followup_id == FollowUp.id)
        )
        got: dict[str, dict[str, str]] = {language: {} for language in PHONES}
        for language, question, value in rows:
            got[language][question] = value
    assert got == EXPECTED
    # the question back was answered with the question again, in Swedish, once
    assert "Förlåt, jag förstod inte." in last_to(twilio, PHONES["sv"])


def test_fikafollow_import_accepts_ukrainian_and_somali(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    path = tmp_path / "matches.csv"
    path.write_text(CSV, encoding="utf-8")
    assert main(["import", str(path), "--now", "2026-05-10T12:00+02:00"]) == 0
    languages_stored = dict(query(db_url, "SELECT external_id, language FROM participant"))
    assert languages_stored["P5"] == "uk" and languages_stored["P6"] == "so"


# --- a language added from outside, with no code change ------------------------------------------

ESPERANTO = {
    "question.met_again": "Cxu vi renkontis denove?",
    "question.will_meet_again": "Cxu vi renkontos denove?",
    "option.yes": "Jes",
    "option.no": "Ne",
    "option.maybe": "Eble",
    "thanks.thanks": "Dankon!",
}
LANGUAGE_TOML = """
position = 99
direction = "ltr"
sms_encoding = "gsm"

[name]
sv = "esperanto"
en = "Esperanto"
own = "Esperanto"

[replies]
yes = ["jes"]
no = ["ne"]
maybe = ["eble"]
stop = ["haltu"]
start = ["komencu"]
"""


def _language_folder(root: Path, code: str) -> Path:
    """A language folder made from the English catalogue, with a few messages in Esperanto."""
    folder = root / code
    (folder / "LC_MESSAGES").mkdir(parents=True)
    po = (languages.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").read_text("utf-8")
    for msgid, text in ESPERANTO.items():
        po = re.sub(rf'(msgid "{re.escape(msgid)}"\nmsgstr )".*"', rf'\1"{text}"', po)
    po = po.replace('"Language: en\\n"', f'"Language: {code}\\n"')
    (folder / "LC_MESSAGES" / "messages.po").write_text(po, encoding="utf-8")
    (folder / "language.toml").write_text(LANGUAGE_TOML, encoding="utf-8")
    return folder


async def _run(env: dict[str, str], cwd: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fikafollow",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.slow
async def test_a_language_from_locale_dirs_runs_a_whole_conversation_over_serve(
    tmp_path: Path,
    twilio: FakeTwilio,  # noqa: F811
) -> None:
    extra = tmp_path / "more-languages"
    _language_folder(extra, "eo")
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    root = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")},
        "FIKAFOLLOW_LOCALE_DIRS": str(extra),
        "FIKAFOLLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fika.db'}",
        "FIKAFOLLOW_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "FIKAFOLLOW_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "FIKAFOLLOW_TWILIO_FROM": FROM_NUMBER,
        "FIKAFOLLOW_TWILIO_API_URL": twilio.root,
        "FIKAFOLLOW_PUBLIC_URL": root,
        "FIKAFOLLOW_SECRET_KEY": "test-secret-key-0123456789",
        "FIKAFOLLOW_TICK_SECONDS": "3600",
        # due today on the real clock: nor may a Sunday or a holiday hold it back
        "FIKAFOLLOW_SEND_CALENDAR": "off",
    }
    # the first fika three weeks before today, so the pass `serve` runs on the real clock
    # finds nothing to chase; the follow-up is due today at ten in Stockholm
    zone = ZoneInfo("Europe/Stockholm")
    today = datetime.now(UTC).astimezone(zone).date()
    due = datetime(today.year, today.month, today.day, 10, 0, tzinfo=zone)
    matched_on = today - timedelta(days=21)
    number = "+46701000099"
    (tmp_path / "matches.csv").write_text(
        HEADER
        + f"E1,{matched_on},individual,P1,Zamenhof,newcomer,eo,sms,{number},,man\n"
        + f"E1,{matched_on},individual,P2,Erik,established,sv,sms,+46701000098,,man\n",
        encoding="utf-8",
    )
    imported = await _run(
        env, tmp_path, "import", "matches.csv", "--now", (due - timedelta(days=20)).isoformat()
    )
    assert "2 new and 0 changed participants" in imported
    await _run(env, tmp_path, "tick", "--now", due.isoformat())
    assert "Cxu vi renkontis denove?" in last_to(twilio, number)
    assert "1 Jes" in last_to(twilio, number)

    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fikafollow", "serve", "--port", str(port), env=env, cwd=tmp_path
    )
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            async with asyncio.timeout(30):
                while True:
                    try:
                        if (await http.get(root + "/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert server.returncode is None, "serve stopped"
                    await asyncio.sleep(0.1)
            for turn, text in enumerate(["jes", "eble", "ne"], 1):
                form = twilio.inbound_form(number, text)
                assert (await twilio.post(http, root + INBOUND, form)).status_code == 200
                # what `serve` wrote is sent from the instant it was written (the real clock)
                now = max(due, datetime.now(UTC)) + timedelta(seconds=1)
                await _run(env, tmp_path, "tick", "--now", now.isoformat())
                if turn == 1:
                    assert "Cxu vi renkontos denove?" in last_to(twilio, number)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    assert last_to(twilio, number).startswith("Dankon!")
    exported = await _run(env, tmp_path, "export", "answers")
    rows = [r for r in csv.DictReader(io.StringIO(exported)) if r["participant_id"] == "P1"]
    assert {(r["language"], r["question"], r["answer"]) for r in rows} == {
        ("eo", "met_again", "yes"),
        ("eo", "will_meet_again", "maybe"),
    }
    shutil.rmtree(extra)

"""The message catalogue, the templates and the renderer.

The catalogue is data that translators edit without running the service, so these tests are the
translators' safety net as much as the developers': a missing or stale message, a placeholder
lost in translation or an SMS that grew into a third part fails here, naming the message.
"""

from __future__ import annotations

import html
import re
import shutil
import tomllib
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from bot.channels.sms import segments as sms_segments
from bot.channels.sms.segments import encoding, segments
from messages.render import (
    CHANNELS,
    KINDS,
    LANGUAGES,
    RTL_LANGUAGES,
    Button,
    Catalogue,
    MissingMessage,
    Rendered,
    default_catalogue,
)

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "messages"
TEMPLATES = MESSAGES / "templates"
SURVEYS = ROOT / "bot" / "surveys.toml"

MAX_SMS_SEGMENTS = 2
UNCHECKED_NOTE = "not yet checked by a native speaker"
PROGRAMME = "Fika i Sundsvall"
# long-ish but ordinary names: the SMS budget has to hold for them
LATIN_NAMES = ("Mohammed-Ali", "Kristina och Johan")
NATIVE_NAMES = {
    "ar": ("عبد الرحمن", "كريستينا ويوهان"),
    "fa": ("محمدرضا", "فاطمه و علی"),
    "ti": ("ተስፋልደት", "ሳባን ዮናስን"),
    "uk": ("Олександра", "Оксана і Тарас"),
}
# about what an upload or one-click link with a short random token takes
UPLOAD_URL = "https://fika.example.se/u/q7Kp2xW9aZ4mT3"
# characters that are invisible, or that silently turn a Swedish or English SMS into UCS-2
INVISIBLE = re.compile("[\u00a0\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


# --- the data under test -------------------------------------------------------------------


def _surveys() -> dict[str, tuple[str, ...]]:
    with SURVEYS.open("rb") as fileobj:
        data = tomllib.load(fileobj)
    return {name: tuple(question["options"]) for name, question in data["questions"].items()}


def _survey_steps() -> set[str]:
    with SURVEYS.open("rb") as fileobj:
        data = tomllib.load(fileobj)
    return {step for survey in data["surveys"].values() for step in survey["steps"]}


def _first_steps() -> dict[str, str]:
    """Each survey's first step, with the survey: only it is asked with the survey's opening."""
    with SURVEYS.open("rb") as fileobj:
        data = tomllib.load(fileobj)
    return {survey["steps"][0]: name for name, survey in data["surveys"].items()}


QUESTIONS = _surveys()
ROLES = ("newcomer", "established")
SURVEY_MSGIDS = {f"question.{name}" for name in QUESTIONS} | {
    f"option.{option}" for options in QUESTIONS.values() for option in options
}


def _extract_templates() -> list[tuple[str, list[str]]]:
    """(msgid, translator comments) for every gettext call, found as `pybabel extract` finds it."""
    with (MESSAGES / "babel.cfg").open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj)
    found = []
    for _filename, _lineno, message, comments, _context in extract_from_dir(
        str(TEMPLATES), method_map, options_map
    ):
        assert isinstance(message, str), f"plural or odd gettext call: {message!r}"
        found.append((message, comments))
    return found


EXTRACTED = _extract_templates()
TEMPLATE_MSGIDS = {msgid for msgid, _comments in EXTRACTED}


def _read(path: Path) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj)


def _po_path(language: str) -> Path:
    return MESSAGES / "locale" / language / "LC_MESSAGES" / "messages.po"


PO = {language: _read(_po_path(language)) for language in LANGUAGES}
POT = _read(MESSAGES / "messages.pot")


def _entries(language: str) -> dict[str, str]:
    return {
        message.id: message.string if isinstance(message.string, str) else ""
        for message in PO[language]
        if isinstance(message.id, str) and message.id
    }


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return default_catalogue()


# --- the catalogue is complete, current and consistent ------------------------------------


def test_the_survey_texts_are_listed_for_extraction() -> None:
    listed = {msgid for msgid in TEMPLATE_MSGIDS if msgid.startswith(("question.", "option."))}
    # a question may have a wording for one role ("question.<name>.<role>")
    worded = {m for m in listed if m.count(".") == 2}
    assert {m.rsplit(".", 1)[0] for m in worded} <= SURVEY_MSGIDS
    assert {m.rsplit(".", 1)[1] for m in worded} <= set(ROLES)
    assert listed - worded == SURVEY_MSGIDS, "messages/templates/survey.txt must list surveys.toml"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    entries = _entries(language)
    needed = TEMPLATE_MSGIDS | SURVEY_MSGIDS
    assert sorted(needed - entries.keys()) == [], "missing from the PO file"
    assert sorted(msgid for msgid in needed if not entries[msgid].strip()) == [], "empty msgstr"
    fuzzy = sorted(message.id for message in PO[language] if message.id and message.fuzzy)
    assert fuzzy == [], "fuzzy entries are not used; check them and remove the fuzzy flag"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_stale_messages(language: str) -> None:
    stale = _entries(language).keys() - TEMPLATE_MSGIDS - SURVEY_MSGIDS
    assert sorted(stale) == [], "no template uses these; remove them"
    obsolete = sorted(str(message.id) for message in PO[language].obsolete.values())
    assert obsolete == []


def test_the_pot_matches_the_templates() -> None:
    pot_ids = {message.id for message in POT if message.id}
    assert pot_ids == TEMPLATE_MSGIDS, (
        "regenerate: .venv/bin/pybabel extract -F messages/babel.cfg "
        "-o messages/messages.pot messages/templates"
    )


def test_every_message_has_one_note_with_the_english_text() -> None:
    english = _entries("en")
    notes: dict[str, list[str]] = {}
    for msgid, comments in EXTRACTED:
        notes.setdefault(msgid, []).extend(" ".join(comment.split()) for comment in comments)
    for msgid, comments in sorted(notes.items()):
        assert len(comments) == 1, f"{msgid}: want one Translators: note, found {comments}"
        quoted = re.search(r'English: "(.*)"$', comments[0])
        assert quoted, f'{msgid}: the note should end with English: "..."'
        assert quoted.group(1) == english[msgid], f"{msgid}: note and en PO differ"


def test_placeholders_are_the_same_in_every_language() -> None:
    for msgid in sorted(TEMPLATE_MSGIDS | SURVEY_MSGIDS):
        by_language = {
            language: sorted(PLACEHOLDER.findall(_entries(language)[msgid]))
            for language in LANGUAGES
        }
        assert len({tuple(names) for names in by_language.values()}) == 1, (msgid, by_language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_well_formed(language: str) -> None:
    for msgid, text in _entries(language).items():
        leftover = PLACEHOLDER.sub("", text).replace("%%", "")
        assert "%" not in leftover, f"{language} {msgid}: write %(name)s, or %% for a percent sign"


@pytest.mark.parametrize("language", LANGUAGES)
def test_po_header(language: str) -> None:
    catalog = PO[language]
    headers = dict(catalog.mime_headers)
    assert headers["Language"] == language
    assert headers["Plural-Forms"].startswith("nplurals=")
    assert "charset=utf-8" in headers["Content-Type"].lower()


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"sv", "en"}))
def test_unchecked_notes_are_spelled_alike(language: str) -> None:
    # translators search for this exact note to find their work, so a variant would hide an entry
    for message in PO[language]:
        for comment in message.user_comments:
            if "checked" in comment:
                assert comment == UNCHECKED_NOTE, (message.id, comment)


def test_rtl_languages_agree_with_cldr() -> None:
    cldr = {lang for lang in LANGUAGES if Locale.parse(lang).character_order == "right-to-left"}
    assert cldr == RTL_LANGUAGES


@pytest.mark.parametrize("language", sorted(RTL_LANGUAGES))
def test_rtl_texts_do_not_start_with_a_placeholder(language: str) -> None:
    # a line's direction comes from its first letter: one starting with a Latin name would be
    # laid out left to right, scrambling the sentence
    for msgid, text in _entries(language).items():
        assert not text.startswith("%("), f"{language} {msgid} starts with a placeholder"


def test_persian_prefix_mi_is_joined_with_zwnj() -> None:
    # "می خواهید" with a space reads as two words; standard spelling is "می‌خواهید" (ZWNJ)
    for msgid, text in _entries("fa").items():
        assert not re.search(r"(^|\s)(ن?می) ", text), f"fa {msgid}: use می‌ with a ZWNJ"


# --- rendering ---------------------------------------------------------------------------


def _names(language: str) -> list[tuple[str, str]]:
    return [LATIN_NAMES] + ([NATIVE_NAMES[language]] if language in NATIVE_NAMES else [])


def _links(options: tuple[str, ...]) -> dict[str, str]:
    return {option: f"https://fika.example.se/a/q7Kp2xW9aZ4mT3?o={option}" for option in options}


def _variants(kind: str, language: str) -> Iterator[dict[str, object]]:
    """Every realistic set of parameters for a kind: each question, first or not, links or not."""
    firsts = _first_steps()
    for first_name, partner in _names(language):
        common: dict[str, object] = {"programme": PROGRAMME, "first_name": first_name}
        if kind == "question":
            for question, options in QUESTIONS.items():
                # only a survey's first step opens a follow-up; consent comes after a photo
                for first, links, role in product(
                    (True, False) if question in firsts else (False,),
                    (False, True),
                    (None, *ROLES),
                ):
                    for named in (False, True):
                        yield {
                            **common,
                            "question": question,
                            "options": options,
                            "partner": partner,
                            "first": first,
                            "role": role,
                            # on a shared phone, saying whom it is for
                            **({"named": True} if named else {}),
                            **({"survey": firsts[question]} if first else {}),
                            **({"link_urls": _links(options)} if links else {}),
                        }
        elif kind in ("reprompt", "reminder"):
            for question, options in QUESTIONS.items():
                for role in (None, *ROLES):
                    yield {**common, "question": question, "options": options, "role": role}
                    yield {
                        **common,
                        "question": question,
                        "options": options,
                        "role": role,
                        "link_urls": _links(options),
                    }
                    yield {
                        **common,
                        "question": question,
                        "options": options,
                        "role": role,
                        "link_urls": _links(options),
                        "named": True,
                    }
        elif kind == "greeting_invite":
            yield common
            yield {**common, "upload_url": UPLOAD_URL}
        elif kind == "consent":
            yield {**common, "options": QUESTIONS["consent"]}
            yield {
                **common,
                "options": QUESTIONS["consent"],
                "link_urls": _links(QUESTIONS["consent"]),
            }
            yield {**common, "options": QUESTIONS["consent"], "named": True}
        elif kind == "thanks_greeting":
            for consent in (None, "yes", "no"):
                yield {**common, "consent": consent}
        elif kind == "answered_for":
            yield {**common, "partner": partner}
        else:
            yield common


def _renderings(
    catalogue: Catalogue, kind: str, language: str, channel: str
) -> Iterator[tuple[dict[str, object], Rendered]]:
    for params in _variants(kind, language):
        yield params, catalogue.render(kind, language, channel, **params)


@pytest.mark.parametrize(("kind", "language", "channel"), list(product(KINDS, LANGUAGES, CHANNELS)))
def test_every_kind_renders(catalogue: Catalogue, kind: str, language: str, channel: str) -> None:
    for params, rendered in _renderings(catalogue, kind, language, channel):
        assert rendered.text and rendered.text == rendered.text.strip()
        assert "\n\n\n" not in rendered.text
        assert rendered.language == language
        assert rendered.rtl is (language in RTL_LANGUAGES)
        if kind in ("question", "reprompt", "reminder", "consent"):
            question = str(params.get("question", "consent"))
            options = params["options"]
            assert isinstance(options, tuple)
            labels = [catalogue.option_label(language, option) for option in options]
            if channel == "telegram":
                assert rendered.buttons == tuple(
                    Button(label=label, value=f"{question}={option}")
                    for label, option in zip(labels, options, strict=True)
                )
                assert "1 " + labels[0] not in rendered.text, "Telegram answers are buttons"
            else:
                assert rendered.buttons == ()
                if not params.get("link_urls") or channel == "sms":
                    for number, label in enumerate(labels, start=1):
                        assert f"\n{number} {label}\n" in f"\n{rendered.text}\n"
        else:
            assert rendered.buttons == ()
        if channel == "email":
            assert rendered.subject and "\n" not in rendered.subject
            assert PROGRAMME in rendered.subject
            assert rendered.html is not None
        else:
            assert rendered.subject is None and rendered.html is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_email_html_declares_language_and_direction(catalogue: Catalogue, language: str) -> None:
    direction = "rtl" if language in RTL_LANGUAGES else "ltr"
    for kind in KINDS:
        for _params, rendered in _renderings(catalogue, kind, language, "email"):
            html = rendered.html or ""
            assert f'<html lang="{language}" dir="{direction}">' in html
            assert "<table" not in html and "<img" not in html
            assert PROGRAMME in html.split("border-top", 1)[1], "the footer names the programme"
            assert catalogue.gettext(language, "email.footer", programme=PROGRAMME) in rendered.text


@pytest.mark.parametrize(("language", "channel"), list(product(LANGUAGES, CHANNELS)))
def test_first_question_greets_and_gives_context(
    catalogue: Catalogue, language: str, channel: str
) -> None:
    params = {
        "programme": PROGRAMME,
        "first_name": "Amina",
        "question": "met_again",
        "options": QUESTIONS["met_again"],
        "partner": "Erik och Sara",
    }
    first = catalogue.render("question", language, channel, first=True, **params)
    later = catalogue.render("question", language, channel, **params)
    hello = catalogue.gettext(language, "hello", first_name="Amina")
    assert first.text.startswith(hello) and "Erik och Sara" in first.text
    assert "Amina" not in later.text and "Erik och Sara" not in later.text
    assert catalogue.gettext(language, "question.met_again") in later.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_greeting_invite_gives_the_upload_link_by_sms_and_email(
    catalogue: Catalogue, language: str
) -> None:
    params = {"programme": PROGRAMME, "first_name": "Amina", "upload_url": UPLOAD_URL}
    assert UPLOAD_URL in catalogue.render("greeting_invite", language, "sms", **params).text
    email = catalogue.render("greeting_invite", language, "email", **params)
    assert UPLOAD_URL in email.text and f'href="{UPLOAD_URL}"' in (email.html or "")
    telegram = catalogue.render("greeting_invite", language, "telegram", **params)
    assert UPLOAD_URL not in telegram.text, "on Telegram the photo is sent into the chat"


@pytest.mark.parametrize(("language", "channel"), list(product(LANGUAGES, CHANNELS)))
def test_thanks_greeting_reassures_only_after_a_no(
    catalogue: Catalogue, language: str, channel: str
) -> None:
    not_shared = catalogue.gettext(language, "thanks_greeting.not_shared")
    for consent in (None, "yes", "no"):
        rendered = catalogue.render(
            "thanks_greeting",
            language,
            channel,
            programme=PROGRAMME,
            first_name="A",
            consent=consent,
        )
        assert (not_shared in rendered.text) is (consent == "no")


def test_html_escapes_names_and_text_does_not(catalogue: Catalogue) -> None:
    params = {
        "programme": "Fika & <Co>",
        "first_name": "<b>Ann</b>",
        "question": "met_again",
        "options": ("yes", "no"),
        "partner": "Erik & Sara",
        "first": True,
    }
    rendered = catalogue.render("question", "sv", "email", **params)
    html = rendered.html or ""
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "Erik &amp; Sara" in html and "<b>" not in html
    assert "<b>Ann</b>" in rendered.text and "Erik & Sara" in rendered.text
    sms = catalogue.render("question", "sv", "sms", **params)
    assert "Erik & Sara" in sms.text


@pytest.mark.parametrize(("language", "channel"), list(product(LANGUAGES, CHANNELS)))
def test_a_message_on_a_shared_address_names_whom_it_is_for(
    catalogue: Catalogue, language: str, channel: str
) -> None:
    for kind in ("question", "reprompt", "reminder", "consent"):
        for params in _variants(kind, language):
            if params.get("first"):
                continue
            rendered = catalogue.render(kind, language, channel, **params)
            first_name = str(params["first_name"])
            named = catalogue.gettext(language, "for_whom", first_name=first_name)
            if not params.get("named"):
                assert named not in rendered.text
                continue
            # the reminders on Telegram and by e-mail greet by name already
            greeted = catalogue.gettext(language, "hello", first_name=first_name)
            assert named in rendered.text or rendered.text.startswith(greeted), (
                f"{language} {channel} {kind}"
            )
            if rendered.html is not None:
                assert html.escape(first_name, quote=False) in rendered.html


# --- SMS cost and invisible characters ----------------------------------------------------


@pytest.mark.parametrize(("kind", "language"), list(product(KINDS, LANGUAGES)))
def test_every_sms_fits_in_two_parts(catalogue: Catalogue, kind: str, language: str) -> None:
    for _params, rendered in _renderings(catalogue, kind, language, "sms"):
        count = segments(rendered.text)
        assert count <= MAX_SMS_SEGMENTS, (
            f"{language} {kind}: {count} parts, {sms_segments.length(rendered.text)} units, "
            f"{encoding(rendered.text)}:\n{rendered.text}"
        )
        if language in ("sv", "en"):
            assert encoding(rendered.text) == "GSM-7", f"{language} {kind} forces UCS-2"


@pytest.mark.parametrize("language", ["sv", "en"])
def test_no_invisible_characters_in_swedish_and_english(
    catalogue: Catalogue, language: str
) -> None:
    for msgid, text in _entries(language).items():
        assert not INVISIBLE.search(text), f"{language} {msgid}: {text!r}"
    for kind, channel in product(KINDS, CHANNELS):
        for _params, rendered in _renderings(catalogue, kind, language, channel):
            for part in (rendered.text, rendered.subject or "", rendered.html or ""):
                assert not INVISIBLE.search(part), f"{language} {kind} {channel}"


@pytest.mark.parametrize("language", ["sv", "en", "ti"])
def test_no_direction_marks_in_left_to_right_languages(language: str) -> None:
    for msgid, text in _entries(language).items():
        assert not BIDI_CONTROLS.search(text), f"{language} {msgid}"


@pytest.mark.parametrize(
    ("text", "expected_encoding", "expected_segments"),
    [
        ("", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("ÅÄÖåäöÉé" * 20, "GSM-7", 1),
        # an extension character costs two septets: 158 + 2 fits, 159 + 2 does not
        ("a" * 158 + "€", "GSM-7", 1),
        ("a" * 159 + "€", "GSM-7", 2),
        # 306 septets, but the escape pair may not straddle parts, so it needs a third
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),
        ("ش" * 70, "UCS-2", 1),
        ("ش" * 71, "UCS-2", 2),
        ("ش" * 134, "UCS-2", 2),
        ("ش" * 135, "UCS-2", 3),
        # one non-GSM character makes the whole text UCS-2
        ("a" * 69 + "\u00a0", "UCS-2", 1),
        ("a" * 70 + "’", "UCS-2", 2),
        ("á", "UCS-2", 1),
        # an emoji takes a surrogate pair: two code units
        ("a" * 68 + "🙂", "UCS-2", 1),
        ("a" * 69 + "🙂", "UCS-2", 2),
    ],
)
def test_segments(text: str, expected_encoding: str, expected_segments: int) -> None:
    assert encoding(text) == expected_encoding
    assert segments(text) == expected_segments


def test_length_counts_extension_characters_twice() -> None:
    assert sms_segments.length("a€[") == 5
    assert sms_segments.length("ش🙂") == 3


# --- the renderer's interface -------------------------------------------------------------


def test_unknown_language_channel_or_kind_is_a_value_error(catalogue: Catalogue) -> None:
    params = {"programme": PROGRAMME, "first_name": "A"}
    with pytest.raises(ValueError, match="language"):
        catalogue.render("thanks", "de", "sms", **params)
    with pytest.raises(ValueError, match="channel"):
        catalogue.render("thanks", "sv", "whatsapp", **params)
    with pytest.raises(ValueError, match="kind"):
        catalogue.render("birthday", "sv", "sms", **params)
    with pytest.raises(ValueError, match="language"):
        catalogue.gettext("de", "hello", first_name="A")


def test_bad_parameters(catalogue: Catalogue) -> None:
    common = {"programme": PROGRAMME, "first_name": "A"}
    with pytest.raises(TypeError, match="partner"):
        catalogue.render("question", "sv", "sms", question="met_again", options=("yes",), **common)
    with pytest.raises(TypeError, match="upload_link"):
        catalogue.render("greeting_invite", "sv", "sms", upload_link="x", **common)
    with pytest.raises(ValueError, match="no"):
        catalogue.render(
            "consent", "sv", "email", options=("yes", "no"), link_urls={"yes": "u"}, **common
        )
    with pytest.raises(ValueError, match="consent"):
        catalogue.render("thanks_greeting", "sv", "sms", consent="ja", **common)
    with pytest.raises(ValueError, match="options"):
        catalogue.render("consent", "sv", "sms", options="yes", **common)


def test_gettext_and_option_label(catalogue: Catalogue) -> None:
    assert catalogue.gettext("sv", "hello", first_name="Amina") == "Hej Amina!"
    assert catalogue.option_label("sv", "maybe") == "Kanske"
    assert catalogue.option_label("ar", "yes") == "نعم"
    with pytest.raises(MissingMessage) as raised:
        catalogue.gettext("sv", "no.such.message")
    assert isinstance(raised.value, KeyError)
    with pytest.raises(MissingMessage):
        catalogue.option_label("en", "perhaps")
    with pytest.raises(TypeError, match="first_name"):
        catalogue.gettext("sv", "hello")


def test_an_unknown_question_is_a_missing_message(catalogue: Catalogue) -> None:
    with pytest.raises(MissingMessage):
        catalogue.render(
            "question",
            "sv",
            "sms",
            programme=PROGRAMME,
            first_name="A",
            question="nope",
            options=("yes",),
            partner="B",
        )


def test_default_catalogue_is_loaded_once() -> None:
    assert default_catalogue() is default_catalogue()


def test_fuzzy_and_empty_entries_are_missing(tmp_path: Path) -> None:
    locale_dir = tmp_path / "locale"
    shutil.copytree(MESSAGES / "locale", locale_dir)
    path = locale_dir / "sv" / "LC_MESSAGES" / "messages.po"
    catalog = _read(path)
    catalog["goodbye"].flags.add("fuzzy")
    catalog["thanks.thanks"].string = ""
    with path.open("wb") as fileobj:
        write_po(fileobj, catalog)
    custom = Catalogue(locale_dir=locale_dir)
    for msgid in ("goodbye", "thanks.thanks"):
        with pytest.raises(MissingMessage):
            custom.gettext("sv", msgid)
    assert custom.gettext("en", "goodbye") == "Have a nice day!"


@pytest.mark.parametrize(("language", "channel"), list(product(LANGUAGES, CHANNELS)))
def test_a_survey_opens_with_its_own_words_and_asks_in_the_role_s_words(
    catalogue: Catalogue, language: str, channel: str
) -> None:
    common = {"programme": PROGRAMME, "first_name": "Amina", "partner": "Erik"}
    first = catalogue.render(
        "question",
        language,
        channel,
        question="met_once_more",
        options=("yes", "no"),
        first=True,
        survey="three_months",
        **common,
    )
    assert catalogue.gettext(language, "intro.three_months", partner="Erik") in first.text
    assert (
        catalogue.gettext(language, "intro.first_fika", partner="Erik", weeks=3) not in first.text
    )
    # a survey without an opening of its own keeps the three-week one
    weeks = catalogue.render(
        "question",
        language,
        channel,
        question="met_again",
        options=("yes", "no"),
        first=True,
        survey="three_weeks",
        **common,
    )
    assert catalogue.gettext(language, "intro.first_fika", partner="Erik", weeks=3) in weeks.text
    for role, msgid in (
        ("established", "question.practised_swedish.established"),
        ("newcomer", "question.practised_swedish"),
        (None, "question.practised_swedish"),
    ):
        asked = catalogue.render(
            "question",
            language,
            channel,
            question="practised_swedish",
            options=("yes", "a_little", "no"),
            role=role,
            **common,
        )
        assert catalogue.gettext(language, msgid) in asked.text
        shown = asked.text + " ".join(b.label for b in asked.buttons)
        assert catalogue.option_label(language, "a_little") in shown


def test_a_question_without_options_shows_no_numbers(catalogue: Catalogue) -> None:
    common = {"programme": PROGRAMME, "first_name": "A", "partner": "B"}
    sms = catalogue.render("question", "sv", "sms", question="met_again", options=(), **common)
    assert catalogue.gettext("sv", "answer.number") not in sms.text
    telegram = catalogue.render(
        "question", "sv", "telegram", question="met_again", options=(), **common
    )
    assert telegram.buttons == () and catalogue.gettext("sv", "answer.tap") not in telegram.text

"""The languages we speak, read from their folders: `locale/<code>/language.toml` beside the
catalogue `locale/<code>/LC_MESSAGES/messages.po`.

A language is data. Its folder says what it is called (in Swedish, English and itself), which way
it is written, how SMS carries it, its digits, and the words the reply parser and the mail reader
need; nothing in code names a language. More folders of the same shape can be added from outside
with `FIKAFOLLOW_LOCALE_DIRS` (folders separated by the system's path separator, `:` on Linux);
a language there with the same code as ours replaces ours. The list is read once, when first
asked for, because the import's accepted codes and the renderer's templates are fixed for the
life of the process. See messages/TRANSLATING.md for the file's fields.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALE_DIRS_VARIABLE = "FIKAFOLLOW_LOCALE_DIRS"
DATA_FILE = "language.toml"
CATALOGUE = Path("LC_MESSAGES") / "messages.po"

# The reply parser's word groups. Each may be given in the language's own script ([replies]) and
# in Latin letters ([latin]); see TRANSLATING.md for what each group means.
WORD_GROUPS = (
    "yes",
    "no",
    "maybe",
    "negations",
    "dont_know",
    "meeting",
    "negators",
    "post_negators",
    "clause_breaks",
    "neutral",
    "question_words",
    "number_words",
    "fillers",
    "stop",
    "start",
)
MAIL_GROUPS = ("attribution_start", "attribution_end", "from_header", "separator", "phone_footer")
NAME_KEYS = ("sv", "en", "own")
DIRECTIONS = ("ltr", "rtl")
SMS_ENCODINGS = ("gsm", "ucs2")


class LanguageDataError(ValueError):
    """A language folder is missing something or has a wrong value; the message names the file."""


@dataclass(frozen=True)
class Language:
    code: str
    folder: Path
    position: int  # where it stands in lists (the import's help, reports, tables)
    names: Mapping[str, str]  # "sv", "en" and "own" → the language's name
    rtl: bool
    sms_encoding: str  # "gsm" or "ucs2": what its messages cost (tests check it)
    digits: Mapping[str, int]  # its own digit characters → their value
    folds: Mapping[str, str]  # letter → the letter it is read as, in every reply
    words: Mapping[str, tuple[str, ...]]  # word group → words in its own script
    latin: Mapping[str, tuple[str, ...]]  # word group → its words typed in Latin letters
    other_meanings: tuple[str, ...]  # words here that only look like another language's answer
    mail: Mapping[str, tuple[str, ...]]  # quoted-reply header words, by MAIL_GROUPS
    # other names a coordinator writes for it in a match file ("farsi", "dari")
    aliases: tuple[str, ...] = ()
    # most who write it in Sweden keep Ramadan: a programme's `--ramadan language` keeps its
    # evenings free of new conversations for them (store/send_calendar.py)
    ramadan_hint: bool = False

    @property
    def catalogue(self) -> Path:
        return self.folder / CATALOGUE


def _strings(data: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LanguageDataError(f"{where}: {key} must be a list of words")
    return tuple(value)


def _table(data: Mapping[str, object], key: str, where: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise LanguageDataError(f"{where}: [{key}] must be a table")
    return value


def read_language(folder: Path) -> Language:
    """One language from its folder; LanguageDataError names what is wrong."""
    path = folder / DATA_FILE
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LanguageDataError(f"{where}: {exc}") from None
    if not (folder / CATALOGUE).is_file():
        raise LanguageDataError(f"{folder}: {CATALOGUE} is missing")
    names = _table(data, "name", where)
    for key in NAME_KEYS:
        if not isinstance(names.get(key), str) or not str(names[key]).strip():
            raise LanguageDataError(f"{where}: [name] needs {key}")
    direction = data.get("direction", "ltr")
    if direction not in DIRECTIONS:
        raise LanguageDataError(f"{where}: direction must be one of {', '.join(DIRECTIONS)}")
    encoding = data.get("sms_encoding")
    if encoding not in SMS_ENCODINGS:
        raise LanguageDataError(f"{where}: sms_encoding must be one of {', '.join(SMS_ENCODINGS)}")
    ramadan_hint = data.get("ramadan_hint", False)
    if not isinstance(ramadan_hint, bool):
        raise LanguageDataError(f"{where}: ramadan_hint must be true or false")
    position = data.get("position", 1000)
    if not isinstance(position, int):
        raise LanguageDataError(f"{where}: position must be a whole number")
    digits_text = data.get("digits", "")
    first_digit = data.get("first_digit", 0)
    if not isinstance(digits_text, str) or not isinstance(first_digit, int):
        raise LanguageDataError(f"{where}: digits must be text and first_digit a number")
    if len(digits_text) + first_digit > 10:
        raise LanguageDataError(f"{where}: digits has more than ten characters")
    folds: dict[str, str] = {}
    for target, sources in _table(data, "fold", where).items():
        if not isinstance(sources, str) or len(target) != 1:
            raise LanguageDataError(f"{where}: [fold] maps one letter to the letters read as it")
        folds.update(dict.fromkeys(sources, target))
    replies = _table(data, "replies", where)
    latin = _table(data, "latin", where)
    unknown = (set(replies) | set(latin)) - set(WORD_GROUPS)
    if unknown:
        raise LanguageDataError(f"{where}: unknown word groups {', '.join(sorted(unknown))}")
    mail = _table(data, "mail", where)
    return Language(
        code=folder.name,
        folder=folder,
        position=position,
        names={key: str(names[key]) for key in NAME_KEYS},
        rtl=direction == "rtl",
        sms_encoding=str(encoding),
        digits={char: first_digit + n for n, char in enumerate(digits_text)},
        folds=folds,
        words={group: _strings(replies, group, where) for group in WORD_GROUPS},
        latin={group: _strings(latin, group, where) for group in WORD_GROUPS},
        aliases=_strings(names, "aliases", where),
        other_meanings=_strings(_table(data, "other_meanings", where), "words", where),
        mail={group: _strings(mail, group, where) for group in MAIL_GROUPS},
        ramadan_hint=ramadan_hint,
    )


def read_languages(roots: list[Path]) -> dict[str, Language]:
    """Every language folder under these roots, later roots replacing earlier ones by code."""
    found: dict[str, Language] = {}
    for root in roots:
        if not root.is_dir():
            raise LanguageDataError(f"{LOCALE_DIRS_VARIABLE}: {root} is not a folder")
        for folder in sorted(root.iterdir()):
            if (folder / DATA_FILE).is_file():
                found[folder.name] = read_language(folder)
    if not found:
        raise LanguageDataError(f"no language folders under {', '.join(map(str, roots))}")
    ordered = sorted(found.values(), key=lambda language: (language.position, language.code))
    return {language.code: language for language in ordered}


def locale_roots(environ: Mapping[str, str]) -> list[Path]:
    """Our own locale folder, then those named by FIKAFOLLOW_LOCALE_DIRS."""
    extra = environ.get(LOCALE_DIRS_VARIABLE, "")
    return [LOCALE_DIR] + [Path(part) for part in extra.split(os.pathsep) if part.strip()]


@cache
def all_languages() -> dict[str, Language]:
    """The languages of this process, code → Language, in their order."""
    return read_languages(locale_roots(os.environ))


def codes() -> tuple[str, ...]:
    return tuple(all_languages())


def ramadan_codes() -> frozenset[str]:
    """The languages whose data file hints that Ramadan matters to those who write them."""
    return frozenset(code for code, language in all_languages().items() if language.ramadan_hint)


def rtl_codes() -> frozenset[str]:
    return frozenset(code for code, language in all_languages().items() if language.rtl)


def names_in(language: str) -> dict[str, str]:
    """Every language's name as written in `language` ("sv", "en" or "own")."""
    return {code: lang.names[language] for code, lang in all_languages().items()}

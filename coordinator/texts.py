"""The web app's words in Swedish and English: msgids are the English text, `locale/sv.po`
holds the Swedish. A coordinator's language setting picks one; anything else reads English."""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from messages.render import load_po

HERE = Path(__file__).resolve().parent
LANGUAGES = ("sv", "en")


@functools.cache
def _translations(language: str) -> dict[str, str]:
    path = HERE / "locale" / f"{language}.po"
    return load_po(path) if path.exists() else {}


def gettext(language: str, msgid: str) -> str:
    return _translations(language).get(msgid) or msgid


def _no_plurals(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


@functools.cache
def environment(language: str) -> Environment:
    """Templates with `_()` bound to the language (one environment per language, made once)."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=functools.partial(gettext, language),
        ngettext=_no_plurals,
        newstyle=False,
    )
    return env


def language_of(setting: str) -> str:
    return setting if setting in LANGUAGES else "en"

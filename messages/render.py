"""Turns a message kind, a language and a channel into the words a participant receives.

The words live only in the PO files under `locale/`, keyed by message id; the templates under
`templates/` only arrange them for a channel. So a translator edits PO files and never touches a
template, and a developer changes a layout without touching any language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from messages import languages
from store.vocabulary import CHANNELS, MessageKind

PACKAGE_DIR = Path(__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"
TEMPLATE_DIR = PACKAGE_DIR / "templates"

# read from the language folders (messages/languages.py), not named here
LANGUAGES: tuple[str, ...] = languages.codes()
RTL_LANGUAGES: frozenset[str] = languages.rtl_codes()
# the channels and message kinds are the store's vocabulary (store/vocabulary.py), named once
KINDS: tuple[str, ...] = tuple(MessageKind)

# Every kind is given these; the caller always knows them.
COMMON_PARAMS = frozenset({"programme", "first_name"})
# Per kind: the parameters a caller must give, and the optional ones with their defaults.
REQUIRED_PARAMS: Mapping[str, frozenset[str]] = {
    "question": frozenset({"question", "options", "partner"}),
    "reprompt": frozenset({"question", "options"}),
    "greeting_invite": frozenset(),
    "consent": frozenset({"options"}),
    "thanks_greeting": frozenset(),
    "thanks": frozenset(),
    "opted_out": frozenset(),
    "opted_in": frozenset(),
    "photo_rejected": frozenset(),
    "telegram_linked": frozenset(),
    "link_unknown": frozenset(),
    "answered_for": frozenset({"partner"}),
    "reminder": frozenset({"question", "options"}),
}
OPTIONAL_PARAMS: Mapping[str, Mapping[str, object]] = {
    # telegram_link: a deep link for someone who chose Telegram but has not opened the bot yet
    # weeks: how long ago the first fika really was, whenever the follow-up actually starts;
    # survey: its first message opens with "intro.<survey>" where the catalogue has one; role: the
    # participant's, for a question worded for their role ("question.<name>.<role>")
    # named: the address is shared and more than one there is being asked: the message starts
    # with whom it is for ("for_whom")
    "question": {
        "named": False,
        "first": False,
        "link_urls": None,
        "telegram_link": None,
        "weeks": 3,
        "survey": None,
        "role": None,
    },
    "reprompt": {"link_urls": None, "role": None, "named": False},
    "greeting_invite": {"upload_url": None},
    # the consent question is always called "consent"; accepted so a caller may pass it as for
    # any other question
    "consent": {"link_urls": None, "question": "consent", "named": False},
    # activities: a few local activities ("name – when, where", as the coordinator wrote them)
    # after the thank-you; nudge: for someone who has not met again, or only maybe will
    # activities_url: instead of the list, a page with it (an SMS without room for it)
    "thanks_greeting": {
        "consent": None,
        "activities": (),
        "nudge": False,
        "activities_url": None,
    },
    "thanks": {"activities": (), "nudge": False, "activities_url": None},
    "opted_out": {},
    "opted_in": {},
    "photo_rejected": {},
    "telegram_linked": {},
    "link_unknown": {},
    "answered_for": {},
    "reminder": {"link_urls": None, "role": None, "named": False},
}
CONSENT_ANSWERS = (None, "yes", "no")


class MissingMessage(KeyError):
    """A message id has no usable translation in a language."""

    def __init__(self, language: str, msgid: str) -> None:
        super().__init__(f"{msgid!r} in {language!r}")
        self.language = language
        self.msgid = msgid


@dataclass(frozen=True)
class Button:
    """One tappable answer: the label the participant sees and the value it stands for."""

    label: str
    value: str


@dataclass(frozen=True)
class Rendered:
    text: str
    language: str
    rtl: bool
    subject: str | None = None
    html: str | None = None
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Choice:
    """One answer option as a template shows it."""

    number: int
    value: str
    label: str
    url: str | None = None


def load_po(path: Path) -> dict[str, str]:
    """The usable translations of one PO file, by message id.

    Fuzzy entries are guesses made by `pybabel update`, not translations, and gettext itself
    never uses them; an empty msgstr is a message nobody has translated yet.
    """
    with path.open("rb") as fileobj:
        catalog = read_po(fileobj, ignore_obsolete=True)
    return {
        message.id: message.string
        for message in catalog
        if isinstance(message.id, str)
        and message.id
        and isinstance(message.string, str)
        and message.string
        and not message.fuzzy
    }


class Catalogue:
    """All languages' messages and one template environment per language, loaded once."""

    def __init__(self, locale_dir: Path | None = None, template_dir: Path | None = None) -> None:
        self.locale_dir = locale_dir or LOCALE_DIR
        self.template_dir = template_dir or TEMPLATE_DIR
        # a language from FIKAFOLLOW_LOCALE_DIRS has its catalogue in its own folder
        folders = {code: language.folder for code, language in languages.all_languages().items()}
        self._messages = {
            language: load_po(
                (folders[language] if locale_dir is None else self.locale_dir / language)
                / "LC_MESSAGES"
                / "messages.po"
            )
            for language in LANGUAGES
        }
        self._environments = {language: self._environment(language) for language in LANGUAGES}

    def _environment(self, language: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(self.template_dir),
            # Telegram and SMS go out as plain text: escaping there would show "&amp;" to people
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        env.install_gettext_callables(  # type: ignore[attr-defined]
            gettext=self._template_gettext(language),
            ngettext=_no_plurals,
            newstyle=True,
        )
        return env

    def _template_gettext(self, language: str) -> Callable[[str], str]:
        # Jinja's newstyle gettext fills the placeholders itself (escaping them in HTML), so the
        # template's callable only looks the text up.
        def gettext(msgid: str) -> str:
            return self._lookup(language, msgid)

        return gettext

    def _lookup(self, language: str, msgid: str) -> str:
        _check_choice("language", language, LANGUAGES)
        try:
            return self._messages[language][msgid]
        except KeyError:
            raise MissingMessage(language, msgid) from None

    def msgids(self, language: str) -> frozenset[str]:
        """The message ids that have a translation in the language."""
        _check_choice("language", language, LANGUAGES)
        return frozenset(self._messages[language])

    def gettext(self, language: str, msgid: str, **params: object) -> str:
        """The message in the language with its placeholders filled in."""
        text = self._lookup(language, msgid)
        try:
            # formatted even without params, as in the templates, so "%%" means "%" everywhere
            return text % params
        except KeyError as exc:
            raise TypeError(f"{msgid!r} needs the parameter {exc.args[0]!r}") from None

    def option_label(self, language: str, value: str) -> str:
        """What an answer option is called in the language ("yes" is "Ja" in Swedish)."""
        return self.gettext(language, f"option.{value}")

    def render(self, kind: str, language: str, channel: str, **params: object) -> Rendered:
        """One message of a kind, in a language, laid out for a channel.

        Raises ValueError for an unknown kind, language or channel (or a bad value), and
        TypeError for a missing or unexpected parameter, as a function call would.
        """
        _check_choice("kind", kind, KINDS)
        _check_choice("language", language, LANGUAGES)
        _check_choice("channel", channel, CHANNELS)
        context = self._context(kind, language, params)
        env = self._environments[language]
        rtl = language in RTL_LANGUAGES

        def render(name: str, **extra: object) -> str:
            return env.get_template(name).render(context, **extra).strip()

        if channel == "email":
            # a subject is one line whatever the template's layout
            subject = " ".join(render(f"email/{kind}.subject.txt").split())
            return Rendered(
                text=render(f"email/{kind}.txt"),
                language=language,
                rtl=rtl,
                subject=subject,
                html=render(f"email/{kind}.html", subject=subject),
            )
        buttons: tuple[Button, ...] = ()
        choices = context.get("choices")
        if channel == "telegram" and isinstance(choices, list):
            buttons = tuple(
                Button(label=choice.label, value=f"{context['question']}={choice.value}")
                for choice in choices
            )
        return Rendered(
            text=render(f"{channel}/{kind}.txt"), language=language, rtl=rtl, buttons=buttons
        )

    def render_page(self, name: str, language: str, **params: object) -> str:
        """A web page (`templates/web/NAME.html`: one-click answers, the upload page) in the
        participant's language, with the same words and environment as the messages."""
        _check_choice("language", language, LANGUAGES)
        rtl = language in RTL_LANGUAGES
        template = self._environments[language].get_template(f"web/{name}.html")
        return template.render(params, language=language, rtl=rtl, dir="rtl" if rtl else "ltr")

    def _context(self, kind: str, language: str, params: Mapping[str, object]) -> dict[str, object]:
        required = REQUIRED_PARAMS[kind] | COMMON_PARAMS
        optional = OPTIONAL_PARAMS[kind]
        missing = required - params.keys()
        if missing:
            raise TypeError(f"{kind} needs {', '.join(sorted(missing))}")
        unexpected = params.keys() - required - optional.keys()
        if unexpected:
            raise TypeError(f"{kind} does not take {', '.join(sorted(unexpected))}")
        rtl = language in RTL_LANGUAGES
        context: dict[str, object] = {
            **optional,
            **params,
            "language": language,
            "rtl": rtl,
            "dir": "rtl" if rtl else "ltr",
            "align": "right" if rtl else "left",
        }
        if kind == "thanks_greeting" and context["consent"] not in CONSENT_ANSWERS:
            raise ValueError(f"consent must be 'yes', 'no' or None, not {context['consent']!r}")
        if kind == "question":
            context["opening"] = self._opening(language, context)
        if "options" in context:
            question = str(context["question"])
            context["question_text"] = self._question_text(language, question, context)
            context["choices"] = self._choices(language, context["options"], context["link_urls"])
        return context

    def _opening(self, language: str, context: Mapping[str, object]) -> str | None:
        # a survey with an opening of its own ("Three months ago…") says it instead of the
        # three-week one; looked up by name, so a new survey needs no template
        survey = context.get("survey")
        msgid = f"intro.{survey}"
        if not survey or msgid not in self._messages[language]:
            return None
        return self.gettext(language, msgid, partner=context["partner"])

    def _question_text(self, language: str, question: str, context: Mapping[str, object]) -> str:
        # Looked up by name, so a question added to bot/surveys.toml and the PO files needs no
        # template; it is given the partner in case its text names them. A wording for the
        # participant's role (the established partner is asked whether they helped) wins.
        params = {"partner": context["partner"]} if "partner" in context else {}
        role = context.get("role")
        if role and f"question.{question}.{role}" in self._messages[language]:
            return self.gettext(language, f"question.{question}.{role}", **params)
        return self.gettext(language, f"question.{question}", **params)

    def _choices(self, language: str, options: object, link_urls: object) -> list[Choice]:
        if isinstance(options, str) or not isinstance(options, (tuple, list)):
            raise ValueError(f"options must be a tuple of option values, not {options!r}")
        if not options:
            # a number or free-text question: answered in words, no options to show
            return []
        if link_urls is not None and not isinstance(link_urls, Mapping):
            raise ValueError("link_urls must map each option value to a URL")
        urls: Mapping[object, object] = link_urls or {}
        if urls and set(options) - urls.keys():
            missing = sorted(str(option) for option in set(options) - urls.keys())
            raise ValueError(f"link_urls has no URL for {', '.join(missing)}")
        return [
            Choice(
                number=number,
                value=str(value),
                label=self.option_label(language, str(value)),
                url=str(urls[value]) if urls else None,
            )
            for number, value in enumerate(options, start=1)
        ]


def _check_choice(what: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(known)}")


def _no_plurals(singular: str, plural: str, n: int) -> str:
    # Every message is written to avoid counting ("a few words", not "3 words"), which keeps
    # the languages' very different plural rules out of the catalogue.
    raise NotImplementedError("the message catalogue has no plural messages")


@functools.cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded on first use and shared after."""
    return Catalogue()

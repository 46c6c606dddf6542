"""The coordinators' weekly digest: HTML, plain text and CSV, in Swedish or English.

Coordinators read Swedish or English only, so the digest's words are two small tables of labels
here rather than entries in the five participant catalogues: translators of Arabic, Tigrinya and
Persian never see them, and the PO files stay about what participants read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from messages import code_names, languages
from messages.render import TEMPLATE_DIR

DIGEST_LANGUAGES = ("sv", "en")
LABELS: Mapping[str, Mapping[str, str]] = {
    "sv": {
        "subject": "Veckobrev %(programme)s, vecka %(week)s",
        "hello": "Hej %(name)s!",
        "intro": "Så här gick veckan %(start)s–%(end)s i %(programme)s.",
        "numbers": "Siffror",
        "this_week": "Veckan",
        "so_far": "Hittills",
        "sent": "Frågade",
        "answered": "Svarade",
        "rate": "Svarsfrekvens",
        "met_again": "Har träffats igen",
        "will_yes": "Ska träffas igen: ja",
        "will_maybe": "Ska träffas igen: kanske",
        "will_no": "Ska träffas igen: nej",
        "by_language": "Svarsfrekvens per språk",
        "by_channel": "Svarsfrekvens per kanal",
        "language": "Språk",
        "channel": "Kanal",
        "answers": "Veckans svar",
        "name": "Namn",
        "match": "Match",
        "question": "Fråga",
        "answer": "Svar",
        "words": "Egna ord",
        "not_met": "Par där båda säger att de inte har träffats",
        "disagree": "Par som svarar olika",
        "calls": "Att ringa",
        "phone": "Telefon",
        "unanswered": "Obesvarat",
        "greetings": "Nya fikahälsningar",
        "photo": "Foto",
        "consent": "Samtycke",
        "problems": "Leveransfel och avregistreringar",
        "what": "Vad",
        "none": "Inget den här veckan.",
        "yes": "ja",
        "no": "nej",
        "maybe": "kanske",
        "not_asked": "inte frågat",
        "delivery failed": "kunde inte levereras",
        "not sent (outage)": "skickades inte (avbrott) — fikafollow outbox retry skickar igen",
        "opted out": "avregistrerade sig",
        "met_again_q": "Träffats igen?",
        "will_meet_again_q": "Ska träffas igen?",
        "consent_q": "Får dela bilden?",
        "footer": "Tabellerna finns också som CSV-fil i bilagan.",
        "social": "Sociala medier",
        "approve": "Godkänn",
        "reject": "Avslå",
        "not_reachable": "Ännu inte nåbara",
        "not_configured": "inte inställd",
        "notes": "Ord att läsa",
        "late": "sent",
        "pairs": "Par som behöver uppmärksamhet",
        "reason not_met": "båda säger att de inte har träffats",
        "reason disagree": "de svarar olika",
        "reason no_and_silent": "en säger nej, den andra har inte svarat",
        "silent": "inget svar",
        "tapped": "knapp",
        "open": "Öppna i webben",
        "open_answers": "Alla svar i webben",
        "open_calls": "Ringlistan i webben",
        "open_greetings": "Alla fikahälsningar i webben",
        "open_notes": "Alla ord att läsa i webben",
        "photo_from": "Foto från %(name)s",
        "unknown_sender": "okänd avsändare",
        "strangers": "Från avsändare vi inte känner: %(n)s",
        "open_strangers": "Läs dem i webben",
        # the pairs and the call list are everything open so far, not only this week's
        "no_pairs": "Inget par behöver uppmärksamhet.",
        "no_calls": "Ingen att ringa just nu.",
    },
    "en": {
        "subject": "Weekly digest %(programme)s, week %(week)s",
        "hello": "Hello %(name)s!",
        "intro": "This is how the week %(start)s–%(end)s went in %(programme)s.",
        "numbers": "Numbers",
        "this_week": "This week",
        "so_far": "So far",
        "sent": "Asked",
        "answered": "Answered",
        "rate": "Response rate",
        "met_again": "Met again",
        "will_yes": "Will meet again: yes",
        "will_maybe": "Will meet again: maybe",
        "will_no": "Will meet again: no",
        "by_language": "Response rate by language",
        "by_channel": "Response rate by channel",
        "language": "Language",
        "channel": "Channel",
        "answers": "This week's answers",
        "name": "Name",
        "match": "Match",
        "question": "Question",
        "answer": "Answer",
        "words": "Own words",
        "not_met": "Pairs where both say they have not met",
        "disagree": "Pairs whose answers disagree",
        "calls": "To call",
        "phone": "Phone",
        "unanswered": "Unanswered",
        "greetings": "New fikahälsningar",
        "photo": "Photo",
        "consent": "Consent",
        "problems": "Delivery failures and opt-outs",
        "what": "What",
        "none": "Nothing this week.",
        "yes": "yes",
        "no": "no",
        "maybe": "maybe",
        "not_asked": "not asked",
        "delivery failed": "could not be delivered",
        "not sent (outage)": "not sent (an outage) — fikafollow outbox retry sends it again",
        "opted out": "opted out",
        "met_again_q": "Met again?",
        "will_meet_again_q": "Will meet again?",
        "consent_q": "May share the photo?",
        "footer": "The tables are also attached as a CSV file.",
        "social": "Social media",
        "approve": "Approve",
        "reject": "Reject",
        "not_reachable": "Not yet reachable",
        "not_configured": "not configured",
        "notes": "Words to read",
        "late": "late",
        "pairs": "Pairs needing attention",
        "reason not_met": "both say they have not met",
        "reason disagree": "their answers disagree",
        "reason no_and_silent": "one says no, the other has not answered",
        "silent": "no answer",
        "tapped": "button",
        "open": "Open in the web app",
        "open_answers": "All answers in the web app",
        "open_calls": "The call list in the web app",
        "open_greetings": "All fikahälsningar in the web app",
        "open_notes": "All words to read in the web app",
        "photo_from": "Photo from %(name)s",
        "unknown_sender": "unknown sender",
        "strangers": "From senders we do not know: %(n)s",
        "open_strangers": "Read them in the web app",
        "no_pairs": "No pair needs attention.",
        "no_calls": "Nobody to phone right now.",
    },
}
# each language folder names its language in Swedish and English
LANGUAGE_NAMES: Mapping[str, Mapping[str, str]] = {
    language: languages.names_in(language) for language in DIGEST_LANGUAGES
}
CSV_COLUMNS = ("section", "language", "channel", "first_name", "match_id", "item", "value", "words")


def survey_label(language: str, key: str) -> str:
    """A question ("<name>_q") or an answer of any survey without a label here: the words the
    participants read in Swedish or English (so a survey added to bot/surveys.toml shows in the
    digest without code), else the key itself (a number, a participant's words)."""
    if key.endswith("_q"):
        question = key.removesuffix("_q")
        found = code_names.catalogue_words(language, f"question.{question}")
        return found or key
    return code_names.option_name(language, key)


@dataclass(frozen=True)
class InlineImage:
    """A picture the HTML part shows as `cid:<cid>` (a part of the mail, not a link)."""

    cid: str
    data: bytes  # JPEG


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    csv: str
    images: tuple[InlineImage, ...] = ()


def tel(phone: str) -> str:
    """A `tel:` address for a stored number (E.164 already; anything but digits and + goes)."""
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


def percent(value: float) -> str:
    return f"{value:.0f} %"


class DigestRenderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR / "digest"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["percent"] = percent

    def render(self, language: str, context: Mapping[str, Any]) -> RenderedDigest:
        """The digest in `language` (sv or en) from the figures in `context` (see
        scheduler/digest.py for what it holds)."""
        if language not in DIGEST_LANGUAGES:
            raise ValueError(f"a digest is written in sv or en, not {language!r}")
        labels = LABELS[language]

        def t(key: str, **params: object) -> str:
            if key not in labels:
                return survey_label(language, key)
            return labels[key] % params if params else labels[key]

        def answer(question: str, value: str) -> str:
            # "Har träffats igen: ja", the way a tap of that button reads
            return code_names.words_of(language, f"{question}={value}")

        full = {
            **context,
            "t": t,
            "lang_name": lambda code: LANGUAGE_NAMES[language].get(code, code),
            "channel_name": lambda code: code_names.channel_name(language, code),
            # why a person on the call list is unreachable, from its codes
            "unreachable": lambda row: "; ".join(
                code_names.unreachable_name(language, channel, why)
                for channel, why in row.unreachable
            ),
            "answer": answer,
            "words": lambda raw: code_names.words_of(language, raw),
            "tel": tel,
            "lang": language,
        }
        subject = t("subject", programme=context["programme"], week=context["week"])
        return RenderedDigest(
            subject=subject,
            text=self.env.get_template("digest.txt").render(full, subject=subject).strip() + "\n",
            html=self.env.get_template("digest.html").render(full, subject=subject),
            csv=self.csv(context),
            images=tuple(context.get("images", ())),
        )

    @staticmethod
    def csv(context: Mapping[str, Any]) -> str:
        """The digest's rows as CSV (same rows as the tables); the caller has made the cells
        safe to open in a spreadsheet."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in context["csv_rows"]:
            writer.writerow(row)
        return buffer.getvalue()

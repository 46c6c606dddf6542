"""What a coordinator reads for a stored code, in Swedish or English: languages, channels, roles,
kinds, genders, surveys, questions and answer options.

The digest, the funder report and the answers export share these words, so that `ar`,
`established` or `met_again=yes` reads the same everywhere a coordinator looks. Language names
come from each language folder's `language.toml`; a question or option of a survey added to
`bot/surveys.toml` without a name here reads as the participants' own catalogue words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from messages import languages
from messages.render import default_catalogue

# the two languages coordinators read (their `--language`)
COORDINATOR_LANGUAGES = ("sv", "en")

_WORDS: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    "sv": {
        "channel": {"telegram": "Telegram", "sms": "sms", "email": "e-post", "phone": "telefon"},
        "role": {"newcomer": "nyanländ", "established": "etablerad"},
        "kind": {"individual": "individ", "family": "familj"},
        "gender": {"woman": "kvinna", "man": "man", "other": "annat", "unknown": "ej angivet"},
        "survey": {"three_weeks": "efter tre veckor", "three_months": "efter tre månader"},
        # short names of the questions, for tables and for a tap ("Har träffats igen: ja")
        "question": {
            "met_again": "Har träffats igen",
            "will_meet_again": "Ska träffas igen",
            "consent": "Får dela bilden",
            "met_once_more": "Har träffats minst en gång till",
            "practised_swedish": "Har övat svenska",
            "understand_sweden": "Förstår livet i Sverige bättre",
            "job_or_internship": "Jobb eller praktik genom fikakompisen",
            "activities_outside": "Aktiviteter utanför hemmet",
            "new_people": "Nya kontakter genom fikakompisen",
        },
        # what an outgoing message was (store.vocabulary.MessageKind), on a person's timeline
        "message": {
            "question": "fråga",
            "reprompt": "frågan igen (svaret förstods inte)",
            "reminder": "påminnelse",
            "greeting_invite": "inbjudan att skicka en fikahälsning",
            "consent": "fråga om bilden får delas",
            "thanks_greeting": "tack för fikahälsningen",
            "thanks": "tack",
            "opted_out": "bekräftelse: inga fler meddelanden",
            "opted_in": "bekräftelse: meddelanden igen",
            "photo_rejected": "bilden gick inte att använda",
            "telegram_linked": "Telegram kopplat",
            "link_unknown": "länken fungerade inte",
            "answered_for": "vems svaret gällde (delad telefon)",
        },
        # where it stands: the outbox's status (store.vocabulary.OutboxStatus) or what the
        # provider last said (bot.channels.base.DELIVERY_RANK)
        "delivery": {
            "pending": "väntar på att skickas",
            "sending": "skickas",
            "sent": "skickat",
            "failed": "misslyckades",
            "cancelled": "stoppat",
            "accepted": "mottaget av leverantören",
            "scheduled": "schemalagt",
            "queued": "i kö",
            "delivered": "levererat",
            "undelivered": "kom inte fram",
            "canceled": "stoppat",
            "partially_delivered": "delvis levererat",
            "read": "läst",
        },
        # why no message reaches a person on a channel (store.vocabulary.Unreachable)
        "unreachable": {
            "on": "{channel} går inte: {cause}",
            "landline": "fast telefon",
            "invalid_number": "ogiltigt nummer",
            "number_unreachable": "numret går inte att nå",
            "sms_stopped": "har svarat STOP på sms",
            "sms_blocked": "blockerat av operatören",
            "bot_blocked": "har blockerat boten eller aldrig startat den",
            "chat_not_found": "chatten finns inte",
            "no_mailbox": "adressen finns inte",
            "no_mail_domain": "e-postdomänen finns inte",
            "address_invalid": "ogiltig adress",
            "mailbox_unavailable": "brevlådan tar inte emot e-post",
            "mail_refused": "mottagarens e-postserver tog inte emot",
            "failed": "misslyckades",
            "no_channel": "ingen kanal att fråga på",
        },
    },
    "en": {
        "channel": {"telegram": "Telegram", "sms": "SMS", "email": "e-mail", "phone": "phone"},
        "role": {"newcomer": "newcomer", "established": "established resident"},
        "kind": {"individual": "individual", "family": "family"},
        "gender": {"woman": "woman", "man": "man", "other": "other", "unknown": "not given"},
        "survey": {"three_weeks": "after three weeks", "three_months": "after three months"},
        "question": {
            "met_again": "Met again",
            "will_meet_again": "Will meet again",
            "consent": "May share the photo",
            "met_once_more": "Met at least once more",
            "practised_swedish": "Practised Swedish",
            "understand_sweden": "Understands life in Sweden better",
            "job_or_internship": "Job or internship through the fika buddy",
            "activities_outside": "Activities outside the home",
            "new_people": "New people through the fika buddy",
        },
        "message": {
            "question": "question",
            "reprompt": "the question again (the answer was not understood)",
            "reminder": "reminder",
            "greeting_invite": "invitation to send a fika greeting",
            "consent": "asks whether the photo may be shared",
            "thanks_greeting": "thanks for the fika greeting",
            "thanks": "thanks",
            "opted_out": "confirmation: no more messages",
            "opted_in": "confirmation: messages again",
            "photo_rejected": "the photo could not be used",
            "telegram_linked": "Telegram linked",
            "link_unknown": "the link did not work",
            "answered_for": "whom the answer was for (shared phone)",
        },
        "delivery": {
            "pending": "waiting to be sent",
            "sending": "sending",
            "sent": "sent",
            "failed": "failed",
            "cancelled": "stopped",
            "accepted": "accepted by the provider",
            "scheduled": "scheduled",
            "queued": "queued",
            "delivered": "delivered",
            "undelivered": "did not arrive",
            "canceled": "stopped",
            "partially_delivered": "partly delivered",
            "read": "read",
        },
        "unreachable": {
            "on": "{channel} not possible: {cause}",
            "landline": "landline",
            "invalid_number": "invalid number",
            "number_unreachable": "number cannot be reached",
            "sms_stopped": "texted STOP",
            "sms_blocked": "blocked by the carrier",
            "bot_blocked": "bot blocked or never started",
            "chat_not_found": "chat not found",
            "no_mailbox": "mailbox does not exist",
            "no_mail_domain": "mail domain does not exist",
            "address_invalid": "address not valid",
            "mailbox_unavailable": "mailbox not taking mail",
            "mail_refused": "refused by the receiving mail server",
            "failed": "failed",
            "no_channel": "no channel to ask on",
        },
    },
}
# a button tap is stored as the button's value, "question=option"
TAP = re.compile(r"^([a-z][a-z0-9_]*)=([a-z0-9_]+)$")


def coordinator_language(setting: str | None) -> str:
    """The language a coordinator reads: their setting when it is one of the two, else Swedish."""
    return setting if setting in COORDINATOR_LANGUAGES else COORDINATOR_LANGUAGES[0]


def _word(language: str, group: str, code: str) -> str:
    return _WORDS[coordinator_language(language)][group].get(code, code)


def language_name(language: str, code: str) -> str:
    """`ar` → "arabiska" / "Arabic"."""
    return languages.names_in(coordinator_language(language)).get(code, code)


def own_name(language: str, code: str) -> str:
    """The language's name in itself ("العربية"), or "" when it reads the same as the name a
    coordinator reads: what a participant recognises when asked which language they read."""
    found = languages.all_languages().get(code)
    own = found.names["own"] if found is not None else ""
    return "" if own.casefold() == language_name(language, code).casefold() else own


def message_name(language: str, code: str) -> str:
    """What an outgoing message was (`reminder` → "påminnelse")."""
    return _word(language, "message", code).replace("_", " ")


def delivery_name(language: str, code: str) -> str:
    """Where an outgoing message stands (`delivered` → "levererat")."""
    return _word(language, "delivery", code).replace("_", " ")


def unreachable_name(language: str, channel: str, code: str) -> str:
    """Why a channel does not reach a person ("SMS not possible: landline"); without a channel,
    the reason alone ("no channel to ask on")."""
    cause = _word(language, "unreachable", code).replace("_", " ")
    if not channel:
        return cause
    name = channel_name(language, channel)
    on = _WORDS[coordinator_language(language)]["unreachable"]["on"]
    return on.format(channel=name[:1].upper() + name[1:], cause=cause)


def channel_name(language: str, code: str) -> str:
    return _word(language, "channel", code)


def role_name(language: str, code: str) -> str:
    return _word(language, "role", code)


def kind_name(language: str, code: str) -> str:
    return _word(language, "kind", code)


def gender_name(language: str, code: str) -> str:
    return _word(language, "gender", code)


def survey_name(language: str, code: str) -> str:
    return _word(language, "survey", code).replace("_", " ")


def question_name(language: str, question: str) -> str:
    """The question's short name, else the question the participants read, else its key."""
    words = _WORDS[coordinator_language(language)]["question"]
    if question in words:
        return words[question]
    return catalogue_words(coordinator_language(language), f"question.{question}") or question


def option_name(language: str, value: str) -> str:
    """An answer option as the participants' buttons name it ("yes" → "Ja"); a value that is no
    option (a number, a participant's words) stays as it is."""
    return catalogue_words(coordinator_language(language), f"option.{value}") or value


def words_of(language: str, raw_text: str) -> str:
    """What a participant sent, for a coordinator to read: a tap (`met_again=yes`) as the
    question and the option's label ("Har träffats igen: ja"); typed words as they are."""
    tap = TAP.match(raw_text.strip())
    if tap is None:
        return raw_text
    question, value = tap.groups()
    label = option_name(language, value)
    if label == value:
        return raw_text
    return f"{question_name(language, question)}: {label[:1].lower()}{label[1:]}"


def catalogue_words(language: str, msgid: str) -> str | None:
    """The participants' catalogue's words for `msgid` in the language, placeholders empty."""
    catalogue = default_catalogue()
    if msgid not in catalogue.msgids(language):
        return None
    try:
        return catalogue.gettext(language, msgid, partner="")
    except TypeError:
        return None

"""The reply parser: option numbers, yes/no/maybe in every language and script, stop/start."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.replies import Reply, is_start, is_stop, normalise, parse_reply
from messages.languages import all_languages
from tests.conftest import REPLY_TALLY

YN = ("yes", "no")
YMN = ("yes", "maybe", "no")


def case(
    case_id: str, text: str, options: Sequence[str], intent: str, value: str | None = None
) -> object:
    return pytest.param(text, tuple(options), intent, value, id=case_id)


def yes(case_id: str, text: str, options: Sequence[str] = YN) -> object:
    return case(case_id, text, options, "answer", "yes")


def no(case_id: str, text: str, options: Sequence[str] = YN) -> object:
    return case(case_id, text, options, "answer", "no")


def maybe(case_id: str, text: str, options: Sequence[str] = YMN) -> object:
    return case(case_id, text, options, "answer", "maybe")


def unknown(case_id: str, text: str, options: Sequence[str] = YN) -> object:
    return case(case_id, text, options, "unknown")


def stop(case_id: str, text: str) -> object:
    return case(case_id, text, YN, "stop")


def start(case_id: str, text: str) -> object:
    return case(case_id, text, YN, "start")


NUMBERS = [
    yes("western-1-picks-first-option", "1"),
    no("western-2-picks-second-option", "2"),
    maybe("western-2-is-maybe-on-three-options", "2"),
    no("western-3-is-no-on-three-options", "3", YMN),
    yes("arabic-indic-1", "١"),
    no("arabic-indic-2", "٢"),
    no("arabic-indic-3-on-three-options", "٣", YMN),
    yes("persian-1", "۱"),
    maybe("persian-2-on-three-options", "۲"),
    no("persian-3-on-three-options", "۳", YMN),
    yes("keycap-1-with-variation-selector", "1️⃣"),
    no("keycap-2-with-variation-selector", "2️⃣"),
    no("keycap-3-without-variation-selector", "3\u20e3", YMN),
    maybe("keycap-2-without-variation-selector", "2\u20e3"),
    yes("fullwidth-1", "１"),
    maybe("fullwidth-2", "２"),
    yes("ethiopic-numeral-1", "፩"),
    yes("number-with-full-stop", "1."),
    no("number-in-parentheses", "(2)"),
    no("number-with-closing-parenthesis", "2)"),
    yes("nr-prefix", "nr 1"),
    no("svar-prefix-capitalised", "Svar 2"),
    yes("hash-prefix", "#1"),
    yes("option-prefix", "option 1"),
    yes("answer-colon-prefix", "Answer: 1"),
    no("jag-valjer-prefix", "Jag väljer 3", YMN),
    yes("number-with-thumbs-up", "1 👍"),
    no("number-wins-over-decorating-emoji", "2 👍"),
    no("number-with-surrounding-spaces", "  2  "),
    no("number-between-bidi-marks", "\u200f٢\u200f"),
    yes("arabic-raqm-prefix", "رقم ١"),
    maybe("persian-gozine-prefix", "گزینه ۲"),
    yes("tigrinya-number-word-prefix", "ቁጽሪ 1"),
    yes("number-agreeing-with-word", "1 ja"),
    no("number-with-thanks", "2 tack"),
    yes("same-number-twice", "1 1"),
    unknown("number-3-out-of-range-on-yes-no", "3"),
    unknown("number-0-out-of-range", "0"),
    unknown("arabic-indic-4-out-of-range", "٤", YMN),
    unknown("persian-5-out-of-range", "۵"),
    unknown("number-10-out-of-range", "10"),
    unknown("keycap-4-out-of-range", "4️⃣", YMN),
    unknown("two-different-numbers", "1 2"),
    unknown("numbers-joined-by-or", "1 or 2"),
    unknown("number-contradicting-word", "1 nej"),
    unknown("huge-number", "99999999999999999999"),
    yes("number-inside-prose-is-not-an-option", "we met 2 times"),
]

SWEDISH = [
    yes("sv-ja", "ja"),
    yes("sv-ja-capitalised-with-bang", "Ja!"),
    yes("sv-ja-upper-case", "JA"),
    yes("sv-japp", "japp"),
    yes("sv-jepp", "jepp"),
    yes("sv-jo", "jo"),
    yes("sv-absolut", "absolut"),
    yes("sv-sjalvklart", "Självklart"),
    yes("sv-ja-visst", "ja visst"),
    yes("sv-okej", "okej"),
    yes("sv-sentence-ja-vi-har-traffats", "ja vi har träffats"),
    yes("sv-sentence-with-punctuation", "Ja, vi har träffats två gånger!"),
    yes("sv-sentence-without-yes-word", "vi har träffats"),
    yes("sv-vi-sags", "vi sågs i lördags"),
    yes("sv-det-har-vi", "Det har vi"),
    yes("sv-elongated-jaaaa", "jaaaa"),
    yes("sv-doubled-jaa", "jaa"),
    yes("sv-elongated-jappp", "Jappp"),
    yes("sv-vi-ses-nog-igen", "vi ses nog igen", YMN),
    yes("sv-vi-ska-traffas-igen", "vi ska träffas igen", YMN),
    no("sv-nej", "nej"),
    no("sv-nej-with-full-stop", "Nej."),
    no("sv-nej-upper-case", "NEJ!"),
    no("sv-na", "nä"),
    no("sv-doubled-naa", "nää"),
    no("sv-elongated-nejjj", "nejjj"),
    no("sv-nej-inte-an", "nej inte än"),
    no("sv-inte-an", "inte än"),
    no("sv-inte-annu", "Inte ännu"),
    no("sv-negation-before-verb", "vi har inte träffats"),
    no("sv-negation-after-verb", "vi träffades inte"),
    no("sv-inte-setts-an", "vi har inte setts än"),
    no("sv-aldrig", "aldrig"),
    no("sv-absolut-inte-beats-absolut", "absolut inte"),
    no("sv-det-har-vi-inte", "det har vi inte"),
    no("sv-nej-tack", "nej tack"),
    no("sv-vi-ses-inte-igen", "vi ses inte igen", YMN),
    maybe("sv-kanske", "kanske"),
    unknown("sv-kanske-on-yes-no-question", "kanske"),
    maybe("sv-vet-inte", "vet inte"),
    unknown("sv-vet-inte-on-yes-no-question", "vet inte"),
    maybe("sv-jag-vet-inte", "Jag vet inte"),
    maybe("sv-ingen-aning", "ingen aning"),
    maybe("sv-kanske-inte", "kanske inte"),
    maybe("sv-vi-far-se", "vi får se"),
    maybe("sv-ja-kanske-hedged-yes", "ja kanske"),
]

ENGLISH = [
    yes("en-yes", "yes"),
    yes("en-yes-capitalised-with-bang", "Yes!"),
    yes("en-yes-upper-case", "YES"),
    yes("en-yeah", "yeah"),
    yes("en-yep", "yep"),
    yes("en-yup", "Yup"),
    yes("en-sure", "sure"),
    yes("en-of-course", "of course"),
    yes("en-absolutely", "Absolutely!"),
    yes("en-ok", "ok"),
    yes("en-elongated-yesss", "yesss"),
    yes("en-yes-we-met", "Yes we met"),
    yes("en-we-met-twice", "we met twice"),
    yes("en-met-up", "We met up last week"),
    yes("en-will-meet-again", "we will meet again", YMN),
    yes("en-yes-we-did", "Yes, we did!"),
    yes("en-why-not", "why not", YMN),
    yes("en-no-problem-is-consent", "no problem"),
    yes("en-single-letter-y", "y"),
    yes("en-yeah-with-smiley", "Yeah 😊"),
    yes("en-yes-with-number-in-prose", "Yes, we met 2 times"),
    no("en-no", "no"),
    no("en-no-with-full-stop", "No."),
    no("en-no-upper-case", "NO!"),
    no("en-nope", "nope"),
    no("en-nah", "nah"),
    no("en-elongated-nooo", "nooo"),
    no("en-not-yet", "not yet"),
    no("en-not-yet-with-bang", "Not yet!"),
    no("en-not-really", "not really"),
    no("en-never", "never"),
    no("en-havent-met-yet", "we haven't met yet"),
    no("en-havent-met-curly-apostrophe", "we haven’t met yet"),
    no("en-did-not-meet", "we did not meet"),
    no("en-didnt-meet", "we didn't meet"),
    no("en-no-we-havent", "no we haven't"),
    no("en-of-course-not-beats-of-course", "of course not"),
    no("en-absolutely-not", "absolutely not"),
    no("en-wont-meet-again", "we won't meet again", YMN),
    no("en-single-letter-n", "n"),
    no("en-dont-think-so", "I don't think so"),
    no("en-havent-without-apostrophe", "we havent met"),
    maybe("en-maybe", "maybe"),
    maybe("en-perhaps", "perhaps"),
    maybe("en-possibly", "possibly"),
    unknown("en-maybe-on-yes-no-question", "maybe"),
    unknown("en-perhaps-on-yes-no-question", "perhaps"),
    maybe("en-dont-know", "don't know"),
    maybe("en-i-dont-know", "I don't know"),
    maybe("en-dont-know-curly-apostrophe", "don’t know"),
    unknown("en-i-dont-know-on-yes-no-question", "I don't know"),
    maybe("en-idk", "idk"),
    maybe("en-not-sure", "not sure"),
    maybe("en-no-idea", "no idea"),
    maybe("en-maybe-not", "maybe not"),
    maybe("en-well-see", "we'll see"),
    maybe("en-maybe-well-meet", "maybe we'll meet"),
]

ARABIC = [
    yes("ar-naam", "نعم"),
    yes("ar-ajal-with-hamza", "أجل"),
    yes("ar-ajal-bare-alef", "اجل"),
    yes("ar-aywa", "ايوه"),
    yes("ar-ah", "اه"),
    yes("ar-ah-with-madda", "آه"),
    yes("ar-bala-alef-maksura", "بلى"),
    yes("ar-bala-typed-with-yeh", "بلي"),
    yes("ar-bala-typed-with-persian-yeh", "بلی"),
    yes("ar-naam-we-met", "نعم التقينا"),
    yes("ar-we-met-twice", "التقينا مرتين"),
    yes("ar-naam-with-arabic-comma", "نعم، التقينا!"),
    yes("ar-tatweel", "نـعـم"),
    yes("ar-harakat", "نَعَم"),
    yes("ar-elongated", "نعممم"),
    yes("ar-presentation-forms", "ﻧﻌﻢ"),
    yes("ar-bidi-embedding", "\u202bنعم\u202c"),
    yes("ar-tabaan", "طبعاً"),
    yes("ar-akid", "أكيد"),
    yes("ar-will-meet-again", "سنلتقي مرة أخرى", YMN),
    no("ar-la", "لا"),
    no("ar-kalla", "كلا"),
    no("ar-la-lam-naltaqi", "لا لم نلتق"),
    no("ar-lam-naltaqi-baad", "لم نلتق بعد"),
    no("ar-colloquial-ma-iltaqayna", "ما التقينا"),
    no("ar-laysa-baad", "ليس بعد"),
    no("ar-la-laysa-baad", "لا، ليس بعد"),
    no("ar-elongated-laaa", "لاااا"),
    no("ar-la-with-fatha", "لَا"),
    no("ar-la-with-hamza", "لأ"),
    no("ar-lan-naltaqi", "لن نلتقي", YMN),
    no("ar-abadan-never-is-not-start", "أبداً"),
    no("ar-la-abadan", "لا أبداً"),
    maybe("ar-rubbama", "ربما"),
    maybe("ar-yumkin", "يمكن"),
    maybe("ar-mumkin", "ممكن"),
    maybe("ar-mumkin-with-persian-kaf", "ممکن"),
    maybe("ar-yumkin-with-persian-yeh-and-kaf", "یمکن"),
    unknown("ar-rubbama-on-yes-no-question", "ربما"),
    maybe("ar-la-aarif", "لا أعرف"),
    maybe("ar-la-aarif-bare-alef", "لا اعرف"),
    unknown("ar-la-aarif-on-yes-no-question", "لا أعرف"),
    maybe("ar-la-adri", "لا أدري"),
    maybe("ar-mish-aarif", "مش عارف"),
    maybe("ar-inshallah", "إن شاء الله"),
]

PERSIAN = [
    yes("fa-bale", "بله"),
    yes("fa-bali", "بلی"),
    yes("fa-bali-typed-with-arabic-yeh", "بلي"),
    yes("fa-are-with-madda", "آره"),
    yes("fa-are-bare-alef", "اره"),
    yes("fa-ari", "آری"),
    yes("fa-bale-we-saw-each-other", "بله همدیگر را دیدیم"),
    yes("fa-sentence-typed-with-arabic-yeh", "بله همديگر را ديديم"),
    yes("fa-colloquial-are-didim", "آره دیدیم"),
    yes("fa-hatman", "حتما"),
    yes("fa-bale-with-zwnj-and-bang", "بله\u200c!"),
    no("fa-na", "نه"),
    no("fa-kheyr", "خیر"),
    no("fa-kheyr-typed-with-arabic-yeh", "خير"),
    no("fa-nakheyr", "نخیر"),
    no("fa-na-hanuz", "نه هنوز"),
    no("fa-hanuz-na-negation-after-yet", "هنوز نه"),
    no("fa-negative-verb", "هنوز همدیگر را ندیدیم"),
    no("fa-na-nadidim-with-persian-comma", "نه، ندیدیم"),
    no("fa-elongated-na", "نههه"),
    maybe("fa-shayad", "شاید"),
    maybe("fa-shayad-typed-with-arabic-yeh", "شايد"),
    unknown("fa-shayad-on-yes-no-question", "شاید"),
    maybe("fa-nemidanam-with-zwnj", "نمی‌دانم"),
    maybe("fa-nemidanam-without-zwnj", "نمیدانم"),
    maybe("fa-nemidanam-arabic-yeh-and-zwnj", "نمي‌دانم"),
    maybe("fa-nemidanam-with-space", "نمی دانم"),
    maybe("fa-colloquial-nemidunam", "نمیدونم"),
    unknown("fa-nemidanam-on-yes-no-question", "نمی‌دانم"),
    maybe("fa-ehtemalan", "احتمالاً"),
    maybe("fa-momkene-with-persian-kaf", "ممکنه"),
]

TIGRINYA = [
    yes("ti-ewe", "እወ"),
    yes("ti-hiray-okay", "ሕራይ"),
    yes("ti-ewe-we-met", "እወ ተራኺብና"),
    yes("ti-we-met", "ተራኺብና"),
    yes("ti-ewe-with-ethiopic-full-stop", "እወ።"),
    no("ti-ayfal", "ኣይፋል"),
    no("ti-ayfal-amharic-style-alef", "አይፋል"),
    no("ti-yelen", "የለን"),
    no("ti-aykonen", "ኣይኮነን"),
    no("ti-we-did-not-meet", "ኣይተራኸብናን"),
    no("ti-ayfal-with-ethiopic-comma", "ኣይፋል፣ ኣይተራኸብናን"),
    maybe("ti-mnalbat", "ምናልባት"),
    unknown("ti-mnalbat-on-yes-no-question", "ምናልባት"),
    maybe("ti-i-dont-know", "ኣይፈልጥን"),
    unknown("ti-ewe-ayfal-conflict", "እወ ኣይፋል"),
]

EMOJI_AND_VARIANTS = [
    yes("thumbs-up", "👍"),
    yes("thumbs-up-medium-skin-tone", "👍🏽"),
    yes("thumbs-up-dark-skin-tone", "👍🏿"),
    no("thumbs-down", "👎"),
    no("thumbs-down-light-skin-tone", "👎🏻"),
    maybe("shrug", "🤷"),
    maybe("shrug-zwj-sequence", "🤷\u200d♀️"),
    unknown("shrug-on-yes-no-question", "🤷"),
    yes("check-mark-button", "✅"),
    yes("heavy-check-mark-with-selector", "✔️"),
    no("cross-mark", "❌"),
    yes("two-thumbs-up", "👍👍"),
    unknown("thumbs-up-and-down-conflict", "👍👎"),
    yes("word-with-emoji", "ja 👍"),
    no("words-win-over-emoji", "nej 👍"),
    unknown("unrelated-emoji", "🎉🎉"),
    yes("zero-width-spaces-around-word", "\u200bja\u200b"),
    yes("fullwidth-latin-letters", "Ｙｅｓ"),
    yes("quoted-word", "«ja»"),
    yes("word-surrounded-by-emoji", "🙂 yes 🙂"),
]

COMMANDS = [
    stop("stop-upper-case", "STOP"),
    stop("stop-lower-case", "stop"),
    stop("stop-with-full-stop", "Stop."),
    stop("slash-stop", "/stop"),
    stop("slash-stop-with-bot-name", "/stop@FikaFollowBot"),
    stop("stopall", "STOPALL"),
    stop("unsubscribe", "unsubscribe"),
    stop("cancel", "CANCEL"),
    stop("end", "end"),
    stop("quit", "Quit"),
    stop("sv-stopp", "stopp"),
    stop("sv-sluta", "Sluta!"),
    stop("sv-avsluta", "avsluta"),
    stop("sv-avregistrera", "avregistrera"),
    stop("ar-tawaqqaf", "توقف"),
    stop("ar-iqaf", "إيقاف"),
    stop("ar-cancel-subscription-bare-alef", "الغاء الاشتراك"),
    stop("ar-cancel-subscription-hamza", "إلغاء الاشتراك"),
    stop("fa-laghv", "لغو"),
    stop("ti-aqum", "ኣቁም"),
    stop("ti-dew-bel", "ደው በል"),
    stop("stop-please", "stop please"),
    stop("please-stop", "Please STOP"),
    stop("stop-with-emoji", "STOP 🛑"),
    stop("stop-sending-me-messages", "Stop sending me messages"),
    stop("sv-avregistrera-mig-tack", "Avregistrera mig tack"),
    start("start-upper-case", "START"),
    start("slash-start", "/start"),
    start("slash-start-with-deep-link-payload", "/start abc123"),
    start("unstop", "unstop"),
    start("sv-starta", "starta"),
    start("ar-ibda-with-hamza", "ابدأ"),
    start("ar-ibda-bare", "ابدا"),
    start("fa-shoru", "شروع"),
    start("ti-jemir", "ጀምር"),
    stop("sv-stoppa", "Stoppa"),
    stop("sv-avbryt", "AVBRYT"),
    stop("ti-aqwarts", "ኣቋርጽ"),
    stop("en-optout-twilio-keyword", "OPTOUT"),
    stop("en-revoke-twilio-keyword", "revoke"),
    start("sv-borja-igen", "börja igen"),
    start("sv-starta-upper-case", "STARTA"),
    unknown("dont-stop-is-not-stop", "don't stop"),
    unknown("sv-sluta-inte-is-not-stop", "sluta inte"),
    yes("yes-is-an-answer-not-start", "yes"),
    unknown("stop-and-start-together", "stop start"),
]

UNKNOWN = [
    unknown("empty", ""),
    unknown("only-whitespace", "   \n\t "),
    unknown("greeting", "hello"),
    unknown("arbitrary-prose", "I went to the store yesterday"),
    unknown("sv-arbitrary-prose", "Vad trevligt att höra av er"),
    unknown("conflicting-yes-no", "yes no"),
    unknown("conflicting-yes-slash-no", "yes/no"),
    unknown("sv-conflicting-ja-nej", "ja nej"),
    unknown("ar-conflicting-naam-la", "نعم لا"),
    unknown("fa-conflicting-bale-na", "بله نه"),
    unknown("yes-and-no", "yes and no"),
    unknown("question-mark-only", "?"),
    unknown("ellipsis-only", "..."),
    unknown("unrelated-smiley", "😀"),
    unknown("lone-surrogate", "\ud800"),
]

TABLE = NUMBERS + SWEDISH + ENGLISH + ARABIC + PERSIAN + TIGRINYA + EMOJI_AND_VARIANTS
TABLE += COMMANDS + UNKNOWN


def test_the_table_is_large_and_ids_are_unique() -> None:
    ids = [param.id for param in TABLE]  # type: ignore[attr-defined]
    assert len(ids) >= 180
    assert len(set(ids)) == len(ids)


# the language each group of the table above is counted under in the tally
_TABLE_LANGUAGE = {
    param.id: language  # type: ignore[attr-defined]
    for language, group in (
        ("sv", SWEDISH),
        ("en", ENGLISH),
        ("ar", ARABIC),
        ("fa", PERSIAN),
        ("ti", TIGRINYA),
        ("any", NUMBERS + EMOJI_AND_VARIANTS + COMMANDS + UNKNOWN),
    )
    for param in group
}


@pytest.mark.parametrize(("text", "options", "intent", "value"), TABLE)
def test_parse_reply_reads(
    request: pytest.FixtureRequest,
    text: str,
    options: tuple[str, ...],
    intent: str,
    value: str | None,
) -> None:
    got = parse_reply(text, options)
    tally(request, _TABLE_LANGUAGE[request.node.callspec.id], intent, value, got)
    assert got == Reply(intent, value, text)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Replies as participants type them, read with their own language: Latin letters (Arabizi,
# Finglish, Tigrinya), dialect, typos, emoji, negations, questions back; Ukrainian and Somali.
# Each case's id starts with the participant's language; the tally groups by it.
# ------------------------------------------------------------------------------------------------


def said(
    language: str,
    case_id: str,
    text: str,
    intent: str,
    value: str | None = None,
    options: Sequence[str] = YN,
    hoped: bool = False,
) -> object:
    """A reply from a participant of `language`. `hoped`: the meaning is what the case says, but
    not understanding it (asking again) is allowed; only a wrong answer fails."""
    return pytest.param(
        language, text, tuple(options), intent, value, hoped, id=f"{language}-{case_id}"
    )


def y(lang: str, case_id: str, text: str, options: Sequence[str] = YN, **kw: bool) -> object:
    return said(lang, case_id, text, "answer", "yes", options, **kw)


def n(lang: str, case_id: str, text: str, options: Sequence[str] = YN, **kw: bool) -> object:
    return said(lang, case_id, text, "answer", "no", options, **kw)


def m(lang: str, case_id: str, text: str, options: Sequence[str] = YMN, **kw: bool) -> object:
    return said(lang, case_id, text, "answer", "maybe", options, **kw)


def q(lang: str, case_id: str, text: str, options: Sequence[str] = YN) -> object:
    """Not an answer: a question back, a contradiction, a word that means something else."""
    return said(lang, case_id, text, "unknown", None, options)


ARABIZI = [
    y("ar", "na3am", "na3am"),
    y("ar", "na3am-capitalised", "Na3am"),
    y("ar", "na3am-elongated", "na3aaam"),
    y("ar", "naam-without-digit", "naam"),
    y("ar", "n3m-texting", "n3m"),
    y("ar", "aywa", "aywa"),
    y("ar", "aiwa", "aiwa"),
    y("ar", "aywa-elongated", "aywaaa"),
    y("ar", "akeed", "akeed"),
    y("ar", "akid-typo", "akid"),
    y("ar", "tab3an", "tab3an"),
    y("ar", "tamam", "tamam"),
    y("ar", "aywa-with-thanks", "aywa shukran"),
    y("ar", "aywa-iltaqayna", "aywa iltaqayna"),
    y("ar", "t2abalna-meeting", "t2abalna"),
    n("ar", "la", "la"),
    n("ar", "la2", "la2"),
    n("ar", "laa", "laa"),
    n("ar", "la2-elongated", "la22"),
    n("ar", "lessa-not-yet", "lessa"),
    n("ar", "lissa-not-yet", "lissa"),
    n("ar", "la2-lessa", "la2 lessa"),
    n("ar", "mish-t2abalna", "mish t2abalna"),
    n("ar", "ma-shofna", "ma shofna"),
    n("ar", "lessa-bas-inshallah", "lessa bas inshallah", hoped=True),
    m("ar", "mumkin", "mumkin"),
    m("ar", "mmkn", "mmkn"),
    m("ar", "momken", "momken"),
    m("ar", "inshallah", "inshallah"),
    m("ar", "inshallah-capitalised", "InshaAllah"),
    m("ar", "in-sha-allah-spaced", "in sha allah"),
    m("ar", "ma-ba3ref", "ma ba3ref"),
    y("ar", "arabic-script-dialect-ayuwa", "ايوا"),
    n("ar", "arabic-script-lissa", "لسه"),
    n("ar", "arabic-script-naam-lakin-lessa", "نعم بس لسه"),
    q("ar", "question-meen", "meen?"),
    q("ar", "question-emta-nit2abal", "emta nit2abal?"),
    q("ar", "question-arabic-mata", "متى نلتقي؟"),
    q("ar", "na-is-not-arabic-no", "na"),
    q("ar", "na3am-la2-contradiction", "na3am la2"),
    q("ar", "la-before-naam", "لا نعم"),
]

FINGLISH = [
    y("fa", "bale", "bale"),
    y("fa", "baleh", "baleh"),
    y("fa", "bale-elongated", "baleee"),
    y("fa", "areh", "areh"),
    y("fa", "are", "are"),
    y("fa", "are-capitalised", "Are"),
    y("fa", "hatman", "hatman"),
    y("fa", "albate", "albate"),
    y("fa", "bashe", "bashe"),
    y("fa", "bale-didim", "bale didim"),
    y("fa", "didim", "didim"),
    n("fa", "na", "na"),
    n("fa", "nah", "nah"),
    n("fa", "naa", "naaa"),
    n("fa", "kheir", "kheir"),
    n("fa", "hanooz-na", "hanooz na"),
    n("fa", "hanuz-na-typo", "hanuz na"),
    n("fa", "na-hanooz", "na hanooz"),
    n("fa", "nadidim", "nadidim"),
    n("fa", "bale-vali-hanooz-na", "bale vali hanooz na"),
    n("fa", "persian-script-hanooz-na", "هنوز نه"),
    m("fa", "shayad", "shayad"),
    m("fa", "shaiad-typo", "shaiad"),
    m("fa", "shayad-elongated", "shaaayad"),
    m("fa", "ehtemalan", "ehtemalan"),
    m("fa", "nemidunam", "nemidunam"),
    q("fa", "question-ki", "ki hastid?"),
    q("fa", "question-koja", "koja?"),
    q("fa", "question-persian-kei", "کی همدیگر را می‌بینیم؟"),
    q("fa", "bale-na-contradiction", "bale na"),
    q("fa", "na-bale-persian-script", "نه بله"),
]

TIGRINYA_LATIN = [
    y("ti", "ewe", "ewe"),
    y("ti", "ewe-capitalised", "Ewe"),
    y("ti", "ewe-elongated", "eweee"),
    y("ti", "iwe-spelling", "iwe"),
    y("ti", "hray", "hray"),
    y("ti", "ewe-with-thanks", "ewe yekenyeley"),
    n("ti", "ayfal", "ayfal"),
    n("ti", "ayfalen", "ayfalen"),
    n("ti", "aifal-spelling", "aifal"),
    n("ti", "yelen", "yelen"),
    n("ti", "suffixed-ayfalin-script", "ኣይፋልን"),
    n("ti", "suffixed-ayfalin-amharic-alef", "አይፋልን"),
    n("ti", "gena-yelen-not-yet", "ገና የለን"),
    n("ti", "ewe-gn-gena-yelen", "ewe gn gena yelen"),
    m("ti", "mnalbat", "mnalbat"),
    m("ti", "minalbat-spelling", "minalbat"),
    q("ti", "question-meas", "መዓስ ንራኸብ?"),
    q("ti", "ay-before-ewe", "ኣይ እወ"),
    q("ti", "ewe-ayfal-contradiction", "ewe ayfal"),
]

UKRAINIAN = [
    y("uk", "tak", "так"),
    y("uk", "tak-capitalised", "Так"),
    y("uk", "tak-exclaimed", "Так!"),
    y("uk", "tak-elongated", "тааак"),
    y("uk", "zvisno", "звісно"),
    y("uk", "avzhezh", "авжеж"),
    y("uk", "tak-zustrilysia", "так, зустрілися"),
    y("uk", "zustrilysia", "зустрілися"),
    y("uk", "latin-tak", "tak"),
    y("uk", "tak-with-thanks", "так дякую"),
    n("uk", "ni", "ні"),
    n("uk", "ni-capitalised", "Ні"),
    n("uk", "shche-ni", "ще ні"),
    n("uk", "poky-ni", "поки ні"),
    n("uk", "ne-zustrilysia", "не зустрілися"),
    n("uk", "my-ne-bachylysia", "ми ще не бачилися"),
    n("uk", "tak-ale-shche-ni", "так, але ще ні"),
    n("uk", "latin-ni", "ni"),
    m("uk", "mozhlyvo", "можливо"),
    m("uk", "mabut", "мабуть"),
    m("uk", "ne-znayu", "не знаю"),
    m("uk", "latin-mozhlyvo", "mozhlyvo"),
    q("uk", "question-koly", "коли зустрінемося?"),
    q("uk", "question-khto", "хто це?"),
    q("uk", "tak-ni-contradiction", "так ні"),
    q("uk", "ne-tak", "не так"),
    said("uk", "stop-cyrillic", "стоп", "stop"),
    said("uk", "stop-cyrillic-capitals", "СТОП", "stop"),
    said("uk", "start-cyrillic", "СТАРТ", "start"),
]

SOMALI = [
    y("so", "haa", "haa"),
    y("so", "haa-capitalised", "Haa"),
    y("so", "haa-elongated", "haaaa"),
    y("so", "haye", "haye"),
    y("so", "dabcan", "dabcan"),
    y("so", "haa-kulannay", "haa waan kulannay"),
    y("so", "haa-mahadsanid", "haa mahadsanid"),
    n("so", "maya", "maya"),
    n("so", "maya-capitalised", "Maya"),
    n("so", "mayo", "mayo"),
    n("so", "weli-maya", "weli maya"),
    n("so", "ma-kulanin", "ma kulanin"),
    n("so", "haa-laakiin-weli-maya", "haa laakiin weli maya"),
    m("so", "laga-yaabee", "laga yaabee"),
    m("so", "laga-yaabee-capitalised", "Laga yaabee"),
    m("so", "inshaallah", "inshaallah"),
    m("so", "ma-aqaan", "ma aqaan"),
    q("so", "question-goorma", "goorma ayaan kulmaynaa?"),
    q("so", "question-yaa", "yaa tahay?"),
    q("so", "haa-maya-contradiction", "haa maya"),
    said("so", "stop-jooji", "jooji", "stop"),
    said("so", "stop-jooji-capitals", "JOOJI", "stop"),
    said("so", "start-bilow", "BILOW", "start"),
]

SWEDISH_AND_ENGLISH_PRECISION = [
    q("sv", "question-nar-ska-vi-ses", "när ska vi ses?"),
    q("sv", "question-nar-ska-vi-ses-without-mark", "när ska vi ses"),
    q("sv", "question-vem-ar-du", "vem är du?"),
    q("sv", "question-ja-with-mark", "ja?"),
    q("sv", "question-ska-vi-ses", "ska vi ses igen?"),
    q("sv", "two-numbers-eller", "1 eller 2"),
    q("sv", "number-with-question-mark", "1?"),
    q("sv", "inte-ja", "inte ja"),
    q("sv", "tak-is-no-swedish-answer", "tak"),
    y("sv", "ja-then-question", "Ja! Vem är det här?"),
    n("sv", "ja-men-inte-an", "ja, men inte än"),
    n("sv", "inte-an", "inte än"),
    n("sv", "nej-men-vi-ska", "Nej, men vi ska ses"),
    n("sv", "nej-tak-typo", "nej tak"),
    y("sv", "jaa-typo", "jaa"),
    y("sv", "ok-thumbs", "ok 👌"),
    q("en", "question-who-is-this", "who is this?"),
    q("en", "question-who-is-this-no-mark", "who is this"),
    q("en", "question-when-can-we-meet", "when can we meet?"),
    q("en", "question-yes-with-mark", "yes?"),
    q("en", "question-did-we-meet", "did we meet?"),
    q("en", "not-yes", "not yes"),
    q("en", "not-ok", "not ok"),
    q("en", "are-alone-is-not-english", "are"),
    q("en", "one-or-two", "1 or 2"),
    n("en", "no-but-we-will", "No, but we will"),
    n("en", "not-yet-but-soon", "not yet but soon"),
    n("en", "yes-but-not-yet", "yes but not yet"),
    n("en", "we-have-not-met-yet", "we have not met yet"),
    y("en", "yes-ok-hand", "👌"),
    y("en", "yess-typo", "yesss"),
    y("en", "why-not", "why not"),
    m("en", "maybe-shrug", "🤷"),
    n("en", "cross-mark", "❌"),
    y("en", "check-mark", "✅"),
    q("en", "thumbs-with-question", "👍?"),
]

EVERYONE = ARABIZI + FINGLISH + TIGRINYA_LATIN + UKRAINIAN + SOMALI
EVERYONE += SWEDISH_AND_ENGLISH_PRECISION


def test_at_least_150_cases_read_with_the_participants_language() -> None:
    ids = [param.id for param in EVERYONE]  # type: ignore[attr-defined]
    assert len(ids) >= 150
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("language", "text", "options", "intent", "value", "hoped"), EVERYONE)
def test_parse_reply_reads_a_participants_reply(
    request: pytest.FixtureRequest,
    language: str,
    text: str,
    options: tuple[str, ...],
    intent: str,
    value: str | None,
    hoped: bool,
) -> None:
    got = parse_reply(text, options, language)
    tally(request, language, intent, value, got)
    if hoped and got.intent == "unknown":
        return
    assert got == Reply(intent, value, text)  # type: ignore[arg-type]


def tally(
    request: pytest.FixtureRequest, language: str, intent: str, value: str | None, got: Reply
) -> None:
    """Counted for the summary the test command prints (see tests/conftest.py)."""
    if (got.intent, got.value) == (intent, value):
        outcome = "understood"
    elif got.intent == "unknown":
        outcome = "not understood"
    else:
        outcome = "wrong"
    counts = request.config.stash.setdefault(REPLY_TALLY, {})
    row = counts.setdefault(language, {"understood": 0, "not understood": 0, "wrong": 0})
    row[outcome] += 1


def test_raw_is_the_exact_input_even_when_long() -> None:
    text = "  Ja!!  " + "x" * 5000
    assert parse_reply(text, YN).raw == text


def test_only_the_start_of_a_very_long_message_is_read() -> None:
    assert parse_reply("ja " + "bla " * 100_000, YN).value == "yes"
    assert parse_reply("bla " * 1000 + "ja", YN).intent == "unknown"


def test_options_are_taken_in_the_order_given() -> None:
    assert parse_reply("1", ("no", "yes")).value == "no"
    assert parse_reply("ja", ("no", "yes")).value == "yes"


def test_a_later_question_with_the_same_values_works_unchanged() -> None:
    assert parse_reply("kanske", ("maybe", "yes")).value == "maybe"
    assert parse_reply("2", ("maybe", "yes")).value == "yes"


def test_no_options_means_nothing_is_an_answer() -> None:
    assert parse_reply("1", ()).intent == "unknown"
    assert parse_reply("ja", ()).intent == "unknown"


@pytest.mark.parametrize(
    ("arabic", "persian"),
    [
        ("بلي", "بلی"),
        ("ممكن", "ممکن"),
        ("بلى", "بلی"),
        ("اجابة", "اجابه"),
        ("أجل", "اجل"),
        ("إيقاف", "ايقاف"),
        ("نـعـم", "نعم"),
        ("نَعَمْ", "نعم"),
        ("نمی‌دانم", "نمیدانم"),
        ("١٢٣", "۱۲۳"),
        ("١٢٣", "123"),
        ("ኣይፋል", "አይፋል"),
    ],
    ids=[
        "yeh",
        "kaf",
        "alef-maksura",
        "teh-marbuta",
        "alef-hamza-above",
        "alef-hamza-below",
        "tatweel",
        "harakat",
        "zwnj",
        "arabic-vs-persian-digits",
        "arabic-vs-western-digits",
        "ethiopic-glottal-a",
    ],
)
def test_normalise_folds_spelling_variants_together(arabic: str, persian: str) -> None:
    assert normalise(arabic) == normalise(persian)


def test_normalise_casefolds_collapses_spaces_and_elongation() -> None:
    assert normalise("  JAAAA \u00a0 Nej\u200b ") == "ja nej"
    assert normalise("japp") == "japp"  # a real double letter is kept


@pytest.mark.parametrize(
    "text", ["stop", "STOP!", "/stop", "Sluta", "توقف", "ኣቁም", "ደው በል", "stop please"]
)
def test_is_stop_accepts_stop_words(text: str) -> None:
    assert is_stop(text)
    assert not is_start(text)


@pytest.mark.parametrize(
    "text",
    ["don't stop", "sluta inte", "yes", "no", "", "stop start", "I want to stop later", "x" * 500],
)
def test_is_stop_rejects_sentences_and_answers(text: str) -> None:
    assert not is_stop(text)


@pytest.mark.parametrize("text", ["start", "/start", "UNSTOP", "Starta", "ابدأ", "شروع", "ጀምር"])
def test_is_start_accepts_start_words(text: str) -> None:
    assert is_start(text)
    assert not is_stop(text)


@pytest.mark.parametrize("text", ["yes", "ja", "نعم", "أبداً", "restart the whole thing"])
def test_is_start_rejects_answers(text: str) -> None:
    assert not is_start(text)


_VALUES = {"yes": "yes", "no": "no", "negations": "no", "maybe": "maybe", "dont_know": "maybe"}
_VALUES["meeting"] = "yes"


def _table_words() -> list[tuple[str, str, str]]:
    """(word, value, language) for every answer word of every language folder."""
    words: list[tuple[str, str, str]] = []
    for code, language in all_languages().items():
        for group, value in _VALUES.items():
            for table in (language.words, language.latin):
                words.extend((word, value, code) for word in table[group])
    return words


@pytest.mark.parametrize(("word", "value", "language"), _table_words())
def test_every_table_word_alone_means_its_value(word: str, value: str, language: str) -> None:
    assert parse_reply(word, YMN, language) == Reply("answer", value, word)


def test_every_stop_and_start_word_is_a_command() -> None:
    for language in all_languages().values():
        for word in language.words["stop"] + language.latin["stop"]:
            assert is_stop(word), word
            assert parse_reply(word, YN).intent == "stop", word
        for word in language.words["start"] + language.latin["start"]:
            assert is_start(word), word
            assert parse_reply(word, YN).intent == "start", word


# ------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]))
OPTION_SETS = st.sampled_from([YN, YMN, ("yes",), (), ("no", "maybe", "yes")])
# Text built from the parser's own vocabulary reaches deeper than random code points do.
PIECES = st.sampled_from(
    [word for word, _, _ in _table_words()]
    + ["1", "٢", "۳", "4", "1️⃣", "👍🏽", "👎", "🤷", "✅", "❌", "inte", "not", "لم", "stop"]
    + [",", ".", "!", " ", "\u200c", "\u200f", "ـ", "\u064e", "jaaa", "#", "(", ")"]
)
VOCABULARY_TEXT = st.lists(PIECES, max_size=12).map(" ".join)


def _check_reply(text: str, options: Sequence[str]) -> None:
    reply = parse_reply(text, options)
    assert reply.raw == text
    assert reply.intent in ("answer", "stop", "start", "unknown")
    assert reply.value is None or reply.value in options
    assert (reply.intent == "answer") == (reply.value is not None)


@given(text=ANY_TEXT, options=OPTION_SETS)
def test_parse_reply_never_raises_and_keeps_its_promises(
    text: str, options: tuple[str, ...]
) -> None:
    _check_reply(text, options)


@given(text=VOCABULARY_TEXT, options=OPTION_SETS)
def test_parse_reply_keeps_its_promises_on_mixed_vocabulary(
    text: str, options: tuple[str, ...]
) -> None:
    _check_reply(text, options)


@given(text=ANY_TEXT | VOCABULARY_TEXT)
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(text=ANY_TEXT | VOCABULARY_TEXT)
def test_stop_and_start_never_both_hold(text: str) -> None:
    assert not (is_stop(text) and is_start(text))


LANGUAGE_OR_NONE = st.sampled_from([None, *all_languages()])


def _never_an_answer(words: list[str]) -> list[str]:
    """The words that are no answer for anyone, alone or inside a sentence (Somali "yaa", who,
    opens a question but is an elongated "ya" further on)."""
    return [
        word
        for word in words
        if all(
            parse_reply(text, YMN, language).intent != "answer"
            for language in (None, *all_languages())
            for text in (word, f"we {word}")
        )
    ]


# Question pieces: words that are no stand-alone answer (verbs, prose, question words, numbers
# inside the question), joined into one sentence that ends with a question mark.
QUESTION_PIECES = st.sampled_from(
    [
        w
        for lang in all_languages().values()
        for g in ("meeting", "question_words", "fillers")
        for w in lang.words[g] + lang.latin[g]
    ]
    + ["we", "vi", "igen", "again", "1", "2", "٢", ",", "\u200c", "👍", "ok", "ja", "نعم", "bale"]
)
QUESTION_TEXT = st.tuples(
    st.lists(QUESTION_PIECES, min_size=1, max_size=8).map(" ".join),
    st.sampled_from(["?", "؟", " ?", "??", "፧"]),
).map("".join)


@given(text=QUESTION_TEXT, options=OPTION_SETS, language=LANGUAGE_OR_NONE)
def test_a_question_is_never_an_answer(
    text: str, options: tuple[str, ...], language: str | None
) -> None:
    assert parse_reply(text, options, language).intent != "answer"


# A reply with a question mark and no stand-alone answer word anywhere: verbs and prose around a
# question are not enough ("vi ses. när?").
NO_ANSWER_PIECES = st.sampled_from(
    [w for lang in all_languages().values() for w in lang.words["meeting"] + lang.latin["meeting"]]
    + _never_an_answer(
        [
            w
            for lang in all_languages().values()
            for g in ("question_words", "fillers")
            for w in lang.words[g] + lang.latin[g]
        ]
    )
    + ["we", "vi", "igen", "again", ".", ",", "!", "?", "؟"]
)


@given(
    before=st.lists(NO_ANSWER_PIECES, max_size=6).map(" ".join),
    after=st.lists(NO_ANSWER_PIECES, max_size=6).map(" ".join),
    options=OPTION_SETS,
    language=LANGUAGE_OR_NONE,
)
def test_a_reply_with_a_question_mark_and_no_answer_word_is_never_an_answer(
    before: str, after: str, options: tuple[str, ...], language: str | None
) -> None:
    assert parse_reply(f"{before} ? {after}", options, language).intent != "answer"


YES_WORDS = sorted(
    {w for lang in all_languages().values() for w in lang.words["yes"] + lang.latin["yes"]}
    | {w for lang in all_languages().values() for w in lang.words["meeting"]}
)


@given(
    negator=st.sampled_from(["not", "inte", "لا", "نه", "ኣይ", "ні", "не", "ma", "mish"]),
    word=st.sampled_from(YES_WORDS),
    options=OPTION_SETS,
    language=LANGUAGE_OR_NONE,
)
def test_a_negator_before_a_yes_never_makes_it_yes(
    negator: str, word: str, options: tuple[str, ...], language: str | None
) -> None:
    before = parse_reply(f"{negator} {word}", options, language)
    assert (before.intent, before.value) != ("answer", "yes"), (negator, word)

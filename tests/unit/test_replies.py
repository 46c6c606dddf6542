"""The reply parser: option numbers, yes/no/maybe in five languages and scripts, stop/start."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import replies
from bot.replies import Reply, is_start, is_stop, normalise, parse_reply

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


@pytest.mark.parametrize(("text", "options", "intent", "value"), TABLE)
def test_parse_reply_reads(
    text: str, options: tuple[str, ...], intent: str, value: str | None
) -> None:
    assert parse_reply(text, options) == Reply(intent, value, text)  # type: ignore[arg-type]


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


def _table_words() -> list[tuple[str, str]]:
    words: list[tuple[str, str]] = []
    for by_value in replies.ANSWER_WORDS.values():
        for value, group in by_value.items():
            words.extend((word, value) for word in group)
    for group in replies.DONT_KNOW_WORDS.values():
        words.extend((word, "maybe") for word in group)
    for group in replies.MEETING_WORDS.values():
        words.extend((word, "yes") for word in group)
    return words


@pytest.mark.parametrize(("word", "value"), _table_words())
def test_every_table_word_alone_means_its_value(word: str, value: str) -> None:
    assert parse_reply(word, YMN) == Reply("answer", value, word)


def test_every_stop_and_start_word_is_a_command() -> None:
    for group in replies.STOP_WORDS.values():
        for word in group:
            assert is_stop(word), word
            assert parse_reply(word, YN).intent == "stop", word
    for group in replies.START_WORDS.values():
        for word in group:
            assert is_start(word), word
            assert parse_reply(word, YN).intent == "start", word


# ------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]))
OPTION_SETS = st.sampled_from([YN, YMN, ("yes",), (), ("no", "maybe", "yes")])
# Text built from the parser's own vocabulary reaches deeper than random code points do.
PIECES = st.sampled_from(
    [word for word, _ in _table_words()]
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

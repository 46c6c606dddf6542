"""Understand what a participant typed back: an option number, yes/no/maybe, or stop/start.

Pure functions, no I/O. Participants write in Swedish, English, Arabic, Persian or Tigrinya, on
whatever keyboard their phone has, so the parser folds spelling variants (see `normalise`) and
then looks words up in the tables below. The tables are the place to add a word: write it as
people type it (any alef, yeh or kaf, with or without ZWNJ or harakat); it is folded the same
way as incoming text when this module is imported, and a word listed twice with different
meanings stops the import.

How a reply is read, in order:

1. A message that is essentially a stop or start word ("STOP", "/stop", "sluta", "توقف", "ኣቁም",
   "please stop", "/start") is a command; commands win over answers.
2. A message that is essentially an option number ("2", "٢", "۲", "2️⃣", "(2)", "nr 2", "svar 2",
   "2 👍") picks options[n-1]; a number out of range is unknown. Numbers inside prose ("we met
   2 times") are not option numbers.
3. Otherwise yes/no/maybe words and short phrases count ("ja vi har träffats", "not yet",
   "لا لم نلتق"). Verbs saying the meeting happened ("met", "träffats", "التقينا") count as
   yes unless a negator in the same clause turns them into no ("we haven't met", "vi träffades
   inte"). Emoji (👍 👎 🤷 ✅ ❌) count only when there are no such words.
4. All signals must agree. A hedge mixed with yes or no ("yes maybe", "kanske inte") is maybe;
   yes with no is unknown. A value that is not one of the question's options is unknown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Intent = Literal["answer", "stop", "start", "unknown"]

YES = "yes"
NO = "no"
MAYBE = "maybe"


@dataclass(frozen=True)
class Reply:
    intent: Intent
    value: str | None  # one of `options` when intent == "answer", else None
    raw: str  # the text exactly as received


# ------------------------------------------------------------------------------------------------
# Word tables, per language. Multi-word entries are phrases; the longest phrase wins, so "not
# yet" beats "not" and "of course not" beats "of course".
# ------------------------------------------------------------------------------------------------
# fmt: off

# Stand-alone answers. A negator nearby does not change them ("no, not yet" is still no).
ANSWER_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "sv": {
        YES: (
            "ja", "japp", "jepp", "jo", "jodå", "jadå", "ja då", "jajamän", "javisst",
            "ja visst", "visst", "absolut", "självklart", "definitivt", "okej", "ok", "gärna",
            "det stämmer", "stämmer",
        ),
        NO: (
            "nej", "nä", "näe", "nix", "nej tack", "inte än", "inte ännu", "inte riktigt",
            "inte alls", "aldrig", "absolut inte", "definitivt inte", "självklart inte",
            "verkligen inte", "tyvärr inte", "troligen inte", "förmodligen inte",
            "antagligen inte", "nog inte",
        ),
        # "nja" is a hesitant half-no; "probably" words are hedges, not promises. Swedish "nog"
        # is deliberately absent: it softens rather than doubts, so "vi ses nog igen" is a yes.
        MAYBE: (
            "kanske", "eventuellt", "möjligen", "möjligtvis", "kanhända", "troligen",
            "förmodligen", "antagligen", "nja", "vi får se", "får se", "hoppas", "hoppas det",
        ),
    },
    "en": {
        YES: (
            "yes", "yeah", "yea", "yep", "yup", "ya", "yah", "y", "sure", "of course", "ofc",
            "absolutely", "definitely", "certainly", "ok", "okay", "alright", "all right",
            "agree", "i agree", "correct", "why not", "no problem", "no worries", "i think so",
            "think so", "yes please",
        ),
        NO: (
            "no", "nope", "nah", "nay", "n", "never", "not yet", "not really", "not at all",
            "of course not", "absolutely not", "definitely not", "certainly not", "probably not",
            "i don't think so", "don't think so", "unfortunately not", "sadly not", "no way",
            "we did not", "we didn't", "we have not", "we haven't", "we will not", "we won't",
            "we will never", "we have never",
        ),
        MAYBE: (
            "maybe", "perhaps", "possibly", "probably", "hopefully", "might", "we'll see",
            "we will see",
        ),
    },
    "ar": {
        YES: (
            "نعم", "أجل", "ايوه", "إيوه", "ايوا", "اه", "آه", "بلى", "طبعا", "طبعاً", "أكيد",
            "بالتأكيد", "موافق", "تمام",
        ),
        NO: ("لا", "لأ", "لاء", "كلا", "ليس بعد", "لسه", "لسا", "طبعا لا", "أكيد لا"),
        MAYBE: (
            "ربما", "يمكن", "ممكن", "من الممكن", "جايز", "محتمل", "إن شاء الله", "ان شاء الله",
            "انشالله", "إنشاءالله",
        ),
    },
    "fa": {
        YES: ("بله", "بلی", "آره", "آری", "حتما", "حتماً", "البته", "باشه"),
        # Persian negates the verb itself (ن- prefix), so the negative verbs are listed here.
        NO: (
            "نه", "خیر", "نخیر", "هرگز", "البته که نه", "ندیدیم", "ندیدمش", "ملاقات نکردیم",
            "نمی‌بینیم", "فکر نمی‌کنم", "فکر نمیکنم",
        ),
        MAYBE: ("شاید", "احتمالا", "احتمالاً", "ممکنه"),
    },
    "ti": {
        # አዎ is Amharic, which many Tigrinya speakers from Ethiopia type out of habit.
        YES: ("እወ", "ሕራይ", "አዎ"),
        # Tigrinya negates the verb with a circumfix (ኣይ…ን), so negative verbs are listed here.
        NO: ("ኣይፋል", "የለን", "ኣይኮነን", "ኣይተራኸብናን"),
        MAYBE: ("ምናልባት",),
    },
}

# "I don't know": maybe when maybe is an option, otherwise unknown (the question is asked again).
DONT_KNOW_WORDS: dict[str, tuple[str, ...]] = {
    "sv": ("vet inte", "vet ej", "ingen aning", "inte säker", "osäker"),
    "en": (
        "don't know", "dont know", "do not know", "i don't know", "idk", "dunno", "no idea",
        "not sure", "unsure", "i'm not sure",
    ),
    "ar": (
        "لا أعرف", "ما أعرف", "ما بعرف", "مش عارف", "مش عارفة", "لا أدري", "ما أدري", "مدري",
        "مش متأكد", "مو متأكد", "غير متأكد", "لست متأكدا",
    ),
    "fa": (
        "نمی‌دانم", "نمی دانم", "نمی‌دونم", "نمی دونم", "مطمئن نیستم",
    ),
    "ti": ("ኣይፈልጥን",),
}

# Verbs and phrases saying the meeting happened or will happen. They are yes, unless a negator
# earlier in the same clause (or, in Swedish, just after: "vi träffades inte") makes them no.
MEETING_WORDS: dict[str, tuple[str, ...]] = {
    "sv": (
        "träffats", "träffades", "träffas", "träffat", "träffa", "sågs", "setts", "ses",
        "det har vi", "det ska vi", "det gjorde vi",
    ),
    "en": (
        "met", "meet", "meeting", "met up", "see each other", "seen each other",
        "saw each other", "we'll see each other", "we will see each other", "we did",
        "we have", "we will",
    ),
    "ar": (
        "التقينا", "تقابلنا", "اجتمعنا", "التقيت", "تقابلت", "قابلته", "قابلتها", "شفنا",
        "نلتقي", "نلتق", "سنلتقي", "بنلتقي", "نتقابل", "سنتقابل", "نشوف",
    ),
    "fa": ("دیدیم", "دیدمش", "ملاقات کردیم", "می‌بینیم"),
    "ti": ("ተራኺብና", "ተራኸብና", "ክንራኸብ ኢና"),
}

# Words that turn a following meeting verb (same clause, a few words on) into a no.
NEGATORS: dict[str, tuple[str, ...]] = {
    "sv": ("inte", "ej", "icke", "aldrig"),
    "en": (
        "not", "never", "don't", "dont", "didn't", "didnt", "haven't", "havent", "hasn't",
        "hasnt", "won't", "wont", "can't", "cant", "cannot", "isn't", "wasn't", "weren't",
        "aren't", "couldn't", "wouldn't", "hadn't",
    ),
    "ar": ("لا", "لم", "لن", "ما", "مش", "مو", "ليس", "لست"),
    "fa": (),  # negation is a verb prefix; see ANSWER_WORDS["fa"][NO]
    "ti": (),  # negation is a verb circumfix; see ANSWER_WORDS["ti"][NO]
}

# Swedish puts "inte" after the finite verb ("vi träffades inte"), so these also look back.
POST_NEGATORS: tuple[str, ...] = ("inte", "ej", "icke", "aldrig")

# Phrases that contain a negator but negate nothing, read as no signal at all.
NEUTRAL_PHRASES: tuple[str, ...] = (
    "ما شاء الله", "ماشاء الله", "ماشاءالله", "الحمد لله", "الحمدلله",
)

# Words that end a clause, so a negation before them does not reach past them.
CLAUSE_BREAKS: tuple[str, ...] = (
    "but", "although", "men", "fast", "لكن", "ولكن", "بس", "بينما", "ولی", "اما", "ግን", "ግና",
)

# Words that may wrap an option number without making the message prose: "nr 1", "svar 2",
# "option 1", "رقم ١", "گزینه ۲".
NUMBER_WORDS: dict[str, tuple[str, ...]] = {
    "sv": ("nr", "nummer", "svar", "svaret", "alternativ", "alt", "val", "jag", "väljer", "tar",
           "mitt", "är"),
    "en": ("option", "choice", "answer", "number", "num", "i", "choose", "pick", "my", "is",
           "it's", "its", "the"),
    "ar": ("رقم", "الرقم", "خيار", "الخيار", "اختيار", "جواب", "الجواب", "إجابة", "الإجابة",
           "اختار", "أختار"),
    "fa": ("شماره", "گزینه", "جواب", "پاسخ", "انتخاب"),
    "ti": ("ቁጽሪ", "መልሲ"),
}

# Politeness and objects that change nothing: "stop please", "1 tack", "توقف من فضلك",
# "stop sending me messages".
FILLER_WORDS: dict[str, tuple[str, ...]] = {
    "sv": ("tack", "snälla", "nu", "mig", "hej", "meddelanden", "sms"),
    "en": ("please", "pls", "plz", "thanks", "thank", "you", "thx", "now", "me", "hi", "hello",
           "hey", "it", "messages", "texts", "sms"),
    "ar": ("شكرا", "شكراً", "من", "فضلك", "لو", "سمحت", "رجاء", "الرجاء", "مرحبا"),
    "fa": ("لطفا", "لطفاً", "ممنون", "مرسی", "متشکرم", "سلام"),
    "ti": ("ብኽብረትካ", "ብኽብረትኪ", "ብኽብረትኩም", "የቐንየለይ", "ሰላም"),
}

# A message made only of these (and fillers) is an opt-out. The English ones are the carriers'
# standard SMS keywords; "yes", which carriers treat as opt-in, is an answer here.
STOP_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "optout",
           "opt out", "revoke", "stop sending", "stop messages", "stop texting"),
    "sv": ("stopp", "stoppa", "sluta", "avsluta", "avbryt", "avregistrera", "sluta skicka",
           "avanmäl", "avanmäla"),
    "ar": ("توقف", "أوقف", "إيقاف", "إلغاء", "إلغاء الاشتراك"),
    "fa": ("توقف", "لغو", "لغو اشتراک", "لغو عضویت"),
    "ti": ("ኣቁም", "ደው በል", "ኣቋርጽ"),
}

START_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("start", "unstop", "opt in", "optin"),
    "sv": ("starta", "starta igen", "börja igen"),
    "ar": ("ابدأ", "ابدا"),
    "fa": ("شروع",),
    "ti": ("ጀምር",),
}

# Emoji answers, used only when the words say nothing. Skin tones and U+FE0F are folded away.
EMOJI_ANSWERS: dict[str, str] = {
    "👍": YES, "✅": YES, "✔": YES, "☑": YES,
    "👎": NO, "❌": NO, "✖": NO, "❎": NO,
    "🤷": MAYBE,
}
# fmt: on

# ------------------------------------------------------------------------------------------------
# Folding (normalise)
# ------------------------------------------------------------------------------------------------


def _ranges(*spans: tuple[int, int]) -> Iterable[int]:
    for first, last in spans:
        yield from range(first, last + 1)


def _build_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    # Invisible characters phones and copy-paste insert: zero-width space/joiners (ZWNJ is how
    # Persian writes "نمی‌دانم", but many type "نمیدانم"), bidi marks and isolates that
    # right-to-left keyboards add around digits, BOM, soft hyphen, word joiner.
    for cp in _ranges(
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x2069),
        (0xFEFF, 0xFEFF),
        (0x061C, 0x061C),
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x180E, 0x180E),
    ):
        table[cp] = None
    # Emoji presentation: variation selectors, skin tones (👍🏽 is 👍) and the keycap enclosure
    # (2️⃣ is "2" + U+FE0F + U+20E3).
    for cp in _ranges((0xFE00, 0xFE0F), (0x1F3FB, 0x1F3FF), (0x20E3, 0x20E3)):
        table[cp] = None
    # Arabic harakat, Quranic marks and tatweel (ـ, stretches letters for looks): optional
    # writing, left out by most but added by some, so never part of a word's identity.
    for cp in _ranges(
        (0x0610, 0x061A),
        (0x064B, 0x065F),
        (0x0670, 0x0670),
        (0x06D6, 0x06DC),
        (0x06DF, 0x06E8),
        (0x06EA, 0x06ED),
        (0x0640, 0x0640),
    ):
        table[cp] = None
    # Digits: Arabic-Indic (٠-٩) and Persian (۰-۹) are what Arabic and Persian keyboards type;
    # Ethiopic ፩-፱ appear now and then. Fullwidth and circled digits are handled by NFKC.
    for offset in range(10):
        table[0x0660 + offset] = str(offset)
        table[0x06F0 + offset] = str(offset)
    for offset in range(9):
        table[0x1369 + offset] = str(offset + 1)
    # Letters that Arabic and Persian keyboards spell differently for the same word: Persian
    # ی (no dots when final) vs Arabic ي and alef maksura ى; Persian ک vs Arabic ك. A Persian
    # speaker on an Arabic keyboard (or the reverse) must still match. Alef with hamza or madda
    # is often typed as bare alef; teh marbuta ة is often typed as heh ه; hamza seats ؤ ئ vary.
    letters = {
        "ي": "یىېۍئ",
        "ك": "کڪ",
        "ا": "أإآٱٲٳٵ",
        "ه": "ةۀہە",
        "و": "ؤ",
        # Tigrinya writes glottal "a" as ኣ, Amharic-style keyboards give አ; people mix them.
        "አ": "ኣ",
        # Curly and modifier apostrophes, so "don’t" is "don't".
        "'": "’‘ʼ`′",
    }
    for target, sources in letters.items():
        for source in sources:
            table[ord(source)] = target
    return table


_FOLD_TABLE = _build_fold_table()
# Three or more of the same letter is emphasis ("jaaaa", "nooo", "لاااا"), never spelling.
_ELONGATION_RE = re.compile(r"([^\W\d_])\1{2,}")
_MAX_FOLD_PASSES = 5


def _fold_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)
    text = _ELONGATION_RE.sub(r"\1", text)
    return " ".join(text.split())


def normalise(text: str) -> str:
    """Fold text for comparison: NFKC, casefold, letter variants, digits, invisibles, spaces."""
    # Deleting a mark can leave a sequence that NFKC composes differently, so fold to a fixpoint
    # (one or two passes in practice); this is what makes normalise idempotent.
    for _ in range(_MAX_FOLD_PASSES):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


# ------------------------------------------------------------------------------------------------
# Tokens
# ------------------------------------------------------------------------------------------------

_MAX_ANSWER_CHARS = 500  # only the start of a long message is read for answers
_MAX_COMMAND_CHARS = 100  # a stop/start command is short; longer text is never one
_MAX_NUMBER_DIGITS = 3  # int() refuses very long digit strings; no survey has 1000 options
_NEGATION_REACH = 5  # words after a negator that it can still negate
_POST_NEGATION_REACH = 2  # words before a Swedish "inte" that it negates

_CLAUSE_PUNCTUATION = ",.;:!?،؛؟።፣፤፥፦"
_TOKEN_RE = re.compile(
    r"(?P<num>\d+)"
    r"|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)*)"
    rf"|(?P<emoji>[{re.escape(''.join(EMOJI_ANSWERS))}])"
    rf"|(?P<brk>[{re.escape(_CLAUSE_PUNCTUATION)}])"
)
_SQUEEZE_RE = re.compile(r"(.)\1+")

# أبدًا ("never") and ابدأ ("start") fold to the same letters. Hamza on the first alef or tanween
# tell "never" apart, so it is spelled out before folding. Harakat other than tanween and tatweel
# are dropped first so that a fully vowelled أَبَدًا is recognised too.
_ABADAN_PREP = {cp: None for cp in _ranges((0x064C, 0x065F), (0x0640, 0x0640))}
_ABADAN_RE = re.compile(r"(?<![^\W\d_])(?:أبدا|[اأإآ]بد(?:اً|ًا))(?![^\W\d_])")


def _respell(text: str) -> str:
    if "بد" not in text:
        return text
    return _ABADAN_RE.sub(" never ", text.translate(_ABADAN_PREP))


def _squeeze(key: str) -> str:
    return _SQUEEZE_RE.sub(r"\1", key)


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "word", "emoji" or "brk" (clause punctuation)
    text: str


def _tokens(folded: str) -> list[_Token]:
    return [_Token(m.lastgroup or "", m.group()) for m in _TOKEN_RE.finditer(folded)]


# ------------------------------------------------------------------------------------------------
# Indexes built from the tables
# ------------------------------------------------------------------------------------------------

_Kind = Literal["answer", "meeting", "neutral"]


@dataclass(frozen=True)
class _Entry:
    value: str | None  # None for neutral phrases
    kind: _Kind


def _key(phrase: str) -> str:
    tokens = _tokens(normalise(phrase))
    if not tokens or any(token.kind != "word" for token in tokens):
        raise ValueError(f"reply table entry {phrase!r} must be words only")
    return " ".join(token.text for token in tokens)


class _PhraseIndex:
    """Phrases to entries, looked up exactly and then with doubled letters squeezed ("jaa")."""

    def __init__(self) -> None:
        self.exact: dict[str, _Entry] = {}
        self.squeezed: dict[str, _Entry | None] = {}  # None: two meanings, don't guess
        self.longest = 1

    def add(self, phrase: str, entry: _Entry) -> None:
        key = _key(phrase)
        known = self.exact.get(key)
        if known is not None and known != entry:
            raise ValueError(f"reply table entry {phrase!r} is listed as {known} and {entry}")
        self.exact[key] = entry
        self.longest = max(self.longest, key.count(" ") + 1)
        squeezed = _squeeze(key)
        if self.squeezed.get(squeezed, entry) != entry:
            self.squeezed[squeezed] = None
        else:
            self.squeezed[squeezed] = entry

    def get(self, key: str) -> _Entry | None:
        entry = self.exact.get(key)
        if entry is None:
            entry = self.squeezed.get(_squeeze(key))
        return entry


def _word_set(*tables: dict[str, tuple[str, ...]] | tuple[str, ...]) -> frozenset[str]:
    words: set[str] = set()
    for table in tables:
        groups = table.values() if isinstance(table, dict) else (table,)
        for group in groups:
            words.update(_key(word) for word in group)
    return frozenset(words)


def _build_answer_index() -> _PhraseIndex:
    index = _PhraseIndex()
    for by_value in ANSWER_WORDS.values():
        for value, words in by_value.items():
            for word in words:
                index.add(word, _Entry(value, "answer"))
    for words in DONT_KNOW_WORDS.values():
        for word in words:
            index.add(word, _Entry(MAYBE, "answer"))
    for words in MEETING_WORDS.values():
        for word in words:
            index.add(word, _Entry(YES, "meeting"))
    for word in NEUTRAL_PHRASES:
        index.add(word, _Entry(None, "neutral"))
    return index


def _build_command_index() -> _PhraseIndex:
    index = _PhraseIndex()
    for words in STOP_WORDS.values():
        for word in words:
            index.add(word, _Entry("stop", "answer"))
    for words in START_WORDS.values():
        for word in words:
            index.add(word, _Entry("start", "answer"))
    return index


_ANSWERS = _build_answer_index()
_COMMANDS = _build_command_index()
_NEGATORS = _word_set(NEGATORS)
_POST_NEGATORS = _word_set(POST_NEGATORS)
_CLAUSE_BREAK_WORDS = _word_set(CLAUSE_BREAKS)
_NUMBER_WORDS = _word_set(NUMBER_WORDS, FILLER_WORDS)
_FILLERS = _word_set(FILLER_WORDS)


def _longest_match(
    words: Sequence[str], start: int, index: _PhraseIndex, limit: int | None = None
) -> tuple[_Entry, int] | None:
    """The longest phrase of `index` in words[start:limit], and where it ends."""
    end = min(len(words) if limit is None else limit, start + index.longest)
    for stop in range(end, start, -1):
        entry = index.get(" ".join(words[start:stop]))
        if entry is not None:
            return entry, stop
    return None


# ------------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------------


_BOT_COMMAND_RE = re.compile(r"/\s*([^\W\d_]+)")


def _command(text: str) -> Literal["stop", "start"] | None:
    stripped = text.strip()
    if not stripped or len(stripped) > _MAX_COMMAND_CHARS:
        return None
    folded = normalise(_respell(stripped))
    if folded.startswith("/"):
        # A bot command: "/stop", "/stop@FikaBot", "/start <deep-link payload>".
        bot_command = _BOT_COMMAND_RE.match(folded)
        entry = _COMMANDS.exact.get(bot_command.group(1)) if bot_command else None
        return _as_command(entry.value if entry else None)
    words: list[str] = []
    for token in _tokens(folded):
        if token.kind in ("num", "word"):
            words.append(token.text)
    found: set[str] = set()
    position = 0
    while position < len(words):
        match = _longest_match(words, position, _COMMANDS)
        if match is not None:
            entry, position = match
            found.add(entry.value or "")
        elif words[position] in _FILLERS:
            position += 1
        else:
            return None
    return _as_command(found.pop() if len(found) == 1 else None)


def _as_command(value: str | None) -> Literal["stop", "start"] | None:
    if value == "stop":
        return "stop"
    if value == "start":
        return "start"
    return None


def is_stop(text: str) -> bool:
    """Whether the message is essentially an opt-out word ("STOP", "/stop", "sluta", "توقف")."""
    return _command(text) == "stop"


def is_start(text: str) -> bool:
    """Whether the message is essentially an opt-in word ("START", "/start", "starta", "ጀምር")."""
    return _command(text) == "start"


# ------------------------------------------------------------------------------------------------
# Answers
# ------------------------------------------------------------------------------------------------


@dataclass
class _Signal:
    value: str
    kind: _Kind
    last: int  # word position where the phrase ends
    clause: int


@dataclass
class _Reading:
    numbers: list[int | None]  # None: too many digits to be an option
    words: list[_Signal]
    emoji: list[str]
    prose: bool  # words that are neither answers nor number wrappers


def _read(folded: str) -> _Reading:
    tokens = _tokens(folded)
    words = [token.text for token in tokens if token.kind == "word"]
    reading = _Reading(numbers=[], words=[], emoji=[], prose=False)
    clause = 0
    negated_until = -1  # last word position a preceding negator still reaches
    word_position = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "brk":
            clause += 1
            negated_until = -1
            i += 1
            continue
        if token.kind == "num":
            digits = token.text
            reading.numbers.append(int(digits) if len(digits) <= _MAX_NUMBER_DIGITS else None)
            i += 1
            continue
        if token.kind == "emoji":
            reading.emoji.append(EMOJI_ANSWERS[token.text])
            i += 1
            continue

        # a phrase runs over consecutive words only, not across a number, emoji or comma
        run = i
        while run < len(tokens) and tokens[run].kind == "word":
            run += 1
        match = _longest_match(words, word_position, _ANSWERS, word_position + run - i)
        if match is not None:
            entry, end = match
            phrase = words[word_position:end]
            if entry.value is not None:
                value = entry.value
                if entry.kind == "meeting" and value == YES and word_position <= negated_until:
                    value = NO
                reading.words.append(_Signal(value, entry.kind, end - 1, clause))
                # "we did not meet", "aldrig träffats": a no-phrase with a negator in it keeps
                # negating what follows.
                if value == NO and any(word in _NEGATORS for word in phrase):
                    negated_until = end - 1 + _NEGATION_REACH
            i += end - word_position
            word_position = end
            continue

        word = token.text
        if word in _NEGATORS:
            reading.prose = True
            negated_until = word_position + _NEGATION_REACH
            if word in _POST_NEGATORS:
                for signal in reading.words:
                    if (
                        signal.kind == "meeting"
                        and signal.clause == clause
                        and signal.last >= word_position - _POST_NEGATION_REACH
                    ):
                        signal.value = NO
        elif word in _CLAUSE_BREAK_WORDS:
            reading.prose = True
            clause += 1
            negated_until = -1
        elif word not in _NUMBER_WORDS:
            reading.prose = True
        word_position += 1
        i += 1
    return reading


def _agree(values: set[str]) -> str | None:
    """The one value the signals agree on; a hedge next to yes or no makes maybe."""
    if len(values) == 1:
        return next(iter(values))
    if values in ({YES, MAYBE}, {NO, MAYBE}):
        return MAYBE
    return None


def _answer(reading: _Reading, options: Sequence[str]) -> str | None:
    word_values = {signal.value for signal in reading.words}
    if reading.numbers and not reading.prose:
        numbers = set(reading.numbers)
        if len(numbers) != 1:
            return None
        number = numbers.pop()
        if number is None or not 1 <= number <= len(options):
            return None
        chosen = options[number - 1]
        # "1 ja" agrees; "1 nej" contradicts itself. Emoji are decoration next to a number.
        if word_values and word_values != {chosen}:
            return None
        return chosen
    value = _agree(word_values) if word_values else _agree(set(reading.emoji))
    if value is None or value not in options:
        return None
    return value


def parse_reply(text: str, options: Sequence[str]) -> Reply:
    """Read a participant's message as an answer to a question with these ordered options."""
    command = _command(text)
    if command is not None:
        return Reply(command, None, text)
    folded = normalise(_respell(text[:_MAX_ANSWER_CHARS]))
    value = _answer(_read(folded), options)
    if value is None:
        return Reply("unknown", None, text)
    return Reply("answer", value, text)

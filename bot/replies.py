"""Understand what a participant typed back: an option number, yes/no/maybe, or stop/start.

Pure functions, no I/O. The words are data: each language's folder
(`messages/locale/<code>/language.toml`) lists its answers, in its own script and as people
type it in Latin letters (Arabizi `na3am`, Finglish `bale`, `ewe`). They are folded the same way
as incoming text (see `normalise`) when this module is imported; a word listed twice with
different meanings in one language stops the import.

Precision comes before recall: a reply is recorded only when it is unambiguous; anything else is
asked again and kept for the coordinator. How a reply is read, in order:

1. A message that is essentially a stop or start word ("STOP", "/stop", "sluta", "توقف", "ኣቁም",
   "please stop", "/start") is a command; commands win over answers.
2. A question back is no answer: words in a sentence that ends with "?" (or starts with a
   question word: "när ska vi ses", "who is this") never count, and with a question anywhere
   only stand-alone answer words outside it do ("Ja! Vem är det?").
3. A message that is essentially an option number ("2", "٢", "۲", "2️⃣", "(2)", "nr 2", "svar 2",
   "2 👍") picks options[n-1]; a number out of range, or two numbers ("1 eller 2"), is unknown.
   Numbers inside prose ("we met 2 times") are not option numbers.
4. Otherwise yes/no/maybe words and short phrases count ("ja vi har träffats", "not yet",
   "لا لم نلتق"). Verbs saying the meeting happened ("met", "träffats", "التقينا") count as
   yes unless a negator in the same clause turns them into no ("we haven't met", "vi träffades
   inte"). A negated yes-word ("inte ja", "not ok") is no answer at all. Emoji (👍 👌 👎 🤷 ✅
   ❌) count only when there are no such words.
5. Negation wins: a "not yet" or a negated verb beats a yes in the same reply ("ja, men inte
   än"), as a plain no beats a verb ("No, but we will"). A plain yes with a plain no ("ja nej")
   is unknown. A hedge mixed with yes or no ("yes maybe", "kanske inte") is maybe. A value that
   is not one of the question's options is unknown.
6. Words that mean something else in another of our languages: the participant's own language
   decides ("na" is no from a Persian speaker; an Arabic speaker's file lists it among its
   `other_meanings`, as the start of "na3am"); from anyone else such a word is not understood.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from messages.languages import Language, all_languages

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
# The words come from the languages' folders (messages/locale/<code>/language.toml); only what
# belongs to no language is here.
# ------------------------------------------------------------------------------------------------

# Emoji answers, used only when the words say nothing. Skin tones and U+FE0F are folded away.
# fmt: off
EMOJI_ANSWERS: dict[str, str] = {
    "👍": YES, "✅": YES, "✔": YES, "☑": YES, "👌": YES,
    "👎": NO, "❌": NO, "✖": NO, "❎": NO,
    "🤷": MAYBE,
}
# fmt: on
QUESTION_MARKS = "?؟፧"

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
    # Each language's own digits (what its keyboard types) and the letters its keyboards spell
    # differently for the same word (its [fold]), whatever the language of the reply: a Persian
    # speaker on an Arabic keyboard must still match. Fullwidth and circled digits are NFKC's.
    for language in all_languages().values():
        for char, value in language.digits.items():
            table[ord(char)] = str(value)
        for source, target in language.folds.items():
            table[ord(source)] = target
    # Curly and modifier apostrophes, so "don’t" is "don't".
    for source in "’‘ʼ`′":
        table[ord(source)] = "'"
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

# A sentence ends at these; "?" "؟" "፧" end a question, whose words are never an answer.
_SENTENCE_PUNCTUATION = ".;!" + QUESTION_MARKS + "።"
_CLAUSE_PUNCTUATION = ",:،؛፣፤፥፦"
_TOKEN_RE = re.compile(
    # Latin letters mixed with digits are a word: Arabizi writes ع as 3 and ء as 2 ("na3am")
    r"(?P<latin>[a-z0-9]*[a-z][a-z0-9]*(?:'[a-z0-9]+)*)(?![^\W_])"
    r"|(?P<num>\d+)"
    r"|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)*)"
    rf"|(?P<emoji>[{re.escape(''.join(EMOJI_ANSWERS))}])"
    rf"|(?P<end>[{re.escape(_SENTENCE_PUNCTUATION)}])"
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
    kind: str  # "num", "word", "emoji", "end" (of a sentence) or "brk" (of a clause)
    text: str


def _tokens(folded: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN_RE.finditer(folded):
        kind = match.lastgroup or ""
        tokens.append(_Token("word" if kind == "latin" else kind, match.group()))
    return tokens


# ------------------------------------------------------------------------------------------------
# Indexes built from the languages' words
# ------------------------------------------------------------------------------------------------

# "answer": a stand-alone answer word; "negation": a no that negates a verb or says "not yet",
# which wins over a yes in the same reply; "meeting": said of the meeting, yes unless negated;
# "neutral": contains a negator but negates nothing ("ما شاء الله").
_Kind = Literal["answer", "negation", "meeting", "neutral"]
_GROUPS: dict[str, tuple[str | None, _Kind]] = {
    "yes": (YES, "answer"),
    "no": (NO, "answer"),
    "maybe": (MAYBE, "answer"),
    "dont_know": (MAYBE, "answer"),  # maybe when maybe is an option, else asked again
    "negations": (NO, "negation"),
    "meeting": (YES, "meeting"),
    "neutral": (None, "neutral"),
}
_COMMAND_GROUPS = {"stop": "stop", "start": "start"}


@dataclass(frozen=True)
class _Entry:
    value: str | None  # None for neutral phrases
    kind: _Kind


# A word of one language that is no answer there, though another language spells an answer so
_OTHER = _Entry(None, "neutral")
# A word our languages read differently, from someone whose language does not settle it
_CLASH = _Entry("clash", "answer")


def _key(phrase: str) -> str:
    tokens = _tokens(normalise(phrase))
    if not tokens or any(token.kind != "word" for token in tokens):
        raise ValueError(f"reply word {phrase!r} must be words only")
    return " ".join(token.text for token in tokens)


class _PhraseIndex:
    """Phrases to their meaning in each language, looked up exactly and then with doubled
    letters squeezed ("jaa"), and read for one participant's language."""

    def __init__(self) -> None:
        self.exact: dict[str, dict[str, _Entry]] = {}
        self.squeezed: dict[str, dict[str, _Entry]] = {}
        self.longest = 1

    def add(self, language: str, phrase: str, entry: _Entry) -> None:
        key = _key(phrase)
        known = self.exact.setdefault(key, {}).get(language)
        if known is not None and known != entry:
            raise ValueError(f"{language}: reply word {phrase!r} is listed as {known} and {entry}")
        self.exact[key][language] = entry
        self.longest = max(self.longest, key.count(" ") + 1)
        squeezed = self.squeezed.setdefault(_squeeze(key), {})
        # two words of one language that differ only in doubled letters: don't guess
        squeezed[language] = entry if squeezed.get(language, entry) == entry else _CLASH

    def get(self, key: str, language: str | None, squeeze: bool = True) -> _Entry | None:
        meanings = self.exact.get(key) or (self.squeezed.get(_squeeze(key)) if squeeze else None)
        return _resolve(meanings, language) if meanings else None


def _resolve(meanings: dict[str, _Entry], language: str | None) -> _Entry | None:
    """The participant's own language wins; otherwise the languages must agree."""
    if language in meanings:
        own = meanings[language]
        return None if own is _OTHER else own
    others = set(meanings.values())
    answers = others - {_OTHER}
    if not answers:
        return None
    if len(answers) > 1 or _OTHER in others:
        return _CLASH
    return answers.pop()


def _groups(language: Language, group: str) -> Iterable[str]:
    yield from language.words[group]
    yield from language.latin[group]


def _word_set(*groups: str) -> frozenset[str]:
    return frozenset(
        _key(word)
        for language in all_languages().values()
        for group in groups
        for word in _groups(language, group)
    )


def _build_index(groups: dict[str, tuple[str | None, _Kind]]) -> _PhraseIndex:
    index = _PhraseIndex()
    for code, language in all_languages().items():
        for group, (value, kind) in groups.items():
            for word in _groups(language, group):
                index.add(code, word, _Entry(value, kind))
        for word in language.other_meanings:
            if _key(word) not in index.exact or code not in index.exact[_key(word)]:
                index.add(code, word, _OTHER)
    return index


_ANSWERS = _build_index(_GROUPS)
_COMMANDS = _build_index({group: (value, "answer") for group, value in _COMMAND_GROUPS.items()})
_QUESTIONS = _build_index({"question_words": ("question", "answer")})
_NEGATORS = _word_set("negators")
_POST_NEGATORS = _word_set("post_negators")
_CLAUSE_BREAK_WORDS = _word_set("clause_breaks")
_NUMBER_WORDS = _word_set("number_words", "fillers")
_FILLERS = _word_set("fillers")


def _longest_match(
    words: Sequence[str],
    start: int,
    index: _PhraseIndex,
    language: str | None,
    limit: int | None = None,
    squeeze: bool = True,
) -> tuple[_Entry, int] | None:
    """The longest phrase of `index` in words[start:limit], and where it ends."""
    end = min(len(words) if limit is None else limit, start + index.longest)
    for stop in range(end, start, -1):
        entry = index.get(" ".join(words[start:stop]), language, squeeze)
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
        meanings = _COMMANDS.exact.get(bot_command.group(1)) if bot_command else None
        entry = _resolve(meanings, None) if meanings else None
        return _as_command(entry.value if entry else None)
    words: list[str] = []
    for token in _tokens(folded):
        if token.kind in ("num", "word"):
            words.append(token.text)
    found: set[str] = set()
    position = 0
    while position < len(words):
        match = _longest_match(words, position, _COMMANDS, None)
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

_NEGATED = "negated"  # a yes-word under a negator ("inte ja", "not ok"): never an answer


@dataclass
class _Signal:
    value: str
    kind: _Kind
    last: int  # word position where the phrase ends
    clause: int
    sentence: int


@dataclass
class _Reading:
    numbers: list[tuple[int | None, int]]  # (None: too many digits to be an option, sentence)
    words: list[_Signal]
    emoji: list[tuple[str, int]]
    prose: bool  # words that are neither answers nor number wrappers
    questions: set[int]  # sentences that ask something back


def _read(folded: str, language: str | None) -> _Reading:
    tokens = _tokens(folded)
    words = [token.text for token in tokens if token.kind == "word"]
    reading = _Reading(numbers=[], words=[], emoji=[], prose=False, questions=set())
    clause = 0
    sentence = 0
    sentence_start = True
    negated_until = -1  # last word position a preceding negator still reaches
    word_position = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind in ("brk", "end"):
            clause += 1
            negated_until = -1
            if token.kind == "end":
                if token.text in QUESTION_MARKS:
                    reading.questions.add(sentence)
                sentence += 1
                sentence_start = True
            i += 1
            continue
        if token.kind == "num":
            digits = token.text
            number = int(digits) if len(digits) <= _MAX_NUMBER_DIGITS else None
            reading.numbers.append((number, sentence))
            sentence_start = False
            i += 1
            continue
        if token.kind == "emoji":
            reading.emoji.append((EMOJI_ANSWERS[token.text], sentence))
            i += 1
            continue

        # a phrase runs over consecutive words only, not across a number, emoji or comma
        run = i
        while run < len(tokens) and tokens[run].kind == "word":
            run += 1
        limit = word_position + run - i
        match = _longest_match(words, word_position, _ANSWERS, language, limit)
        if sentence_start:
            sentence_start = False
            # "när ska vi ses", "who is this": a sentence that opens with a question word asks
            # something back, unless a longer answer opens it ("why not")
            # (spelled exactly: Somali "yaa", who, is not an elongated English "ya")
            asked = _longest_match(words, word_position, _QUESTIONS, language, limit, False)
            if asked is not None and (match is None or asked[1] >= match[1]):
                reading.questions.add(sentence)
                reading.prose = True
                i += asked[1] - word_position
                word_position = asked[1]
                continue
        if match is not None:
            entry, end = match
            phrase = words[word_position:end]
            if entry.value is not None:
                value = entry.value
                negated = word_position <= negated_until
                kind = entry.kind
                if negated and value == YES:
                    # a negated meeting is a no ("we haven't met"); a negated yes-word is no
                    # answer at all ("inte ja")
                    value, kind = (NO, "negation") if kind == "meeting" else (_NEGATED, kind)
                if value == NO and any(word in _NEGATORS for word in phrase):
                    # "not yet", "we did not meet": a no-phrase with a negator in it negates,
                    # and keeps negating what follows; a lone "لا" is a plain no ("نعم لا")
                    if len(phrase) > 1:
                        kind = "negation"
                    negated_until = end - 1 + _NEGATION_REACH
                reading.words.append(_Signal(value, kind, end - 1, clause, sentence))
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
                        signal.kind = "negation"
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


def _word_value(signals: list[_Signal]) -> str | None:
    values = {signal.value for signal in signals}
    if _NEGATED in values or _CLASH.value in values:
        return None
    if YES in values and NO in values:
        # a negation or "not yet" wins over a yes ("ja, men inte än"), and so does a plain no
        # over a verb ("No, but we will"); a plain yes with a plain no ("ja nej") is no answer
        negation = any(s.value == NO and s.kind == "negation" for s in signals)
        plain_yes = any(s.value == YES and s.kind == "answer" for s in signals)
        if plain_yes and not negation:
            return None
        values.discard(YES)
    return _agree(values)


def _answer(reading: _Reading, options: Sequence[str]) -> str | None:
    asked = reading.questions
    # Words in a question are never an answer; with a question anywhere in the reply, only
    # stand-alone answer words outside it count ("Ja! Vem är det här?" is yes).
    signals = [
        s for s in reading.words if s.sentence not in asked and not (asked and s.kind == "meeting")
    ]
    numbers = [number for number, sentence in reading.numbers if sentence not in asked]
    emoji = {value for value, sentence in reading.emoji if sentence not in asked}
    if len(numbers) != len(reading.numbers):
        return None  # "1?" asks whether 1 is right, and "1 eller 2?" is no choice either
    word_value = _word_value(signals) if signals else None
    if numbers and not reading.prose:
        distinct = set(numbers)
        if len(distinct) != 1:
            return None
        number = distinct.pop()
        if number is None or not 1 <= number <= len(options):
            return None
        chosen = options[number - 1]
        # "1 ja" agrees; "1 nej" contradicts itself. Emoji are decoration next to a number.
        if signals and word_value != chosen:
            return None
        return chosen
    if signals:
        value = word_value
    elif reading.words:
        return None  # every word was inside a question
    else:
        value = _agree(emoji)
    if value is None or value not in options:
        return None
    return value


def parse_reply(text: str, options: Sequence[str], language: str | None = None) -> Reply:
    """Read a participant's message as an answer to a question with these ordered options.

    `language` is the participant's: where our languages read a word differently ("na" is
    "no" typed in Persian, but how an Arabic speaker starts "na3am"), theirs decides; without
    it such a word is not understood.
    """
    command = _command(text)
    if command is not None:
        return Reply(command, None, text)
    folded = normalise(_respell(text[:_MAX_ANSWER_CHARS]))
    value = _answer(_read(folded, language), options)
    if value is None:
        return Reply("unknown", None, text)
    return Reply("answer", value, text)

"""The dialogue, pure: given where a follow-up stands and what came in, what is recorded and said.

It does no I/O and reads no clock. The survey's steps are data (`surveys.toml`); this module only
knows the three kinds of step: a question, the invitation to send a fikahälsning, and the consent
question that any photo brings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from bot.replies import is_start, is_stop, normalise, parse_reply
from bot.surveys import CONSENT, FINISHED, GREETING, NUMBER, TEXT, Survey, SurveyBook
from store.vocabulary import InboxOutcome, MessageKind

# an answer's stored value is short (the whole message is kept as its raw text)
VALUE_CHARS = 20
_NUMBER_RE = re.compile(r"\d+")
_MAX_NUMBER_DIGITS = 3


def read_number(text: str) -> str | None:
    """The one whole number a reply to a number question gives ("3", "٣ مرات", "about 4"), or
    None when it gives none or several."""
    found = _NUMBER_RE.findall(normalise(text))
    if len(found) != 1 or len(found[0]) > _MAX_NUMBER_DIGITS:
        return None
    return str(int(found[0]))


@dataclass(frozen=True)
class State:
    step: str
    resume_step: str | None = None
    reprompted: bool = False


@dataclass(frozen=True)
class Incoming:
    text: str = ""
    button: str | None = None  # "<question>=<option>" from a tapped button
    photos: int = 0
    language: str | None = None  # the participant's: it settles words our languages share


@dataclass(frozen=True)
class Say:
    """One message to write into the outbox, by kind; the renderer turns it into words."""

    kind: MessageKind
    question: str | None = None
    options: tuple[str, ...] = ()
    first: bool = False
    consent: str | None = None


@dataclass(frozen=True)
class Turn:
    state: State
    outcome: InboxOutcome
    say: tuple[Say, ...] = ()
    answers: tuple[tuple[str, str], ...] = ()
    greeting_words: str | None = None  # a new fikahälsning with these words
    greeting_photos: int = 0
    consent: str | None = None  # the answer to the consent question, for waiting greetings
    opt: Literal["out", "in"] | None = None

    @property
    def answered_all(self) -> bool:
        return self.state.step in (GREETING, FINISHED) and self.state.resume_step is None


class Dialogue:
    def __init__(self, book: SurveyBook) -> None:
        self.book = book

    def prompt(self, survey: Survey, step: str, *, first: bool = False) -> tuple[Say, ...]:
        if step == GREETING:
            return (Say(MessageKind.GREETING_INVITE),)
        if step == CONSENT:
            return (Say(MessageKind.CONSENT, question=CONSENT, options=self.book.consent.options),)
        if step == FINISHED:
            return (Say(MessageKind.THANKS),)
        question = survey.questions[step]
        return (Say(MessageKind.QUESTION, question=step, options=question.options, first=first),)

    def start(self, survey: Survey) -> Turn:
        first = survey.steps[0]
        return Turn(State(first), InboxOutcome.STARTED, self.prompt(survey, first, first=True))

    def options_for(self, survey: Survey, step: str) -> tuple[str, ...]:
        if step == CONSENT:
            return self.book.consent.options
        question = survey.questions.get(step)
        return question.options if question else ()

    def respond(self, survey: Survey, state: State, incoming: Incoming) -> Turn:
        """What a participant's message means at this step, and what to say back."""
        text = incoming.text
        if incoming.button is None and not incoming.photos:
            if is_stop(text):
                return Turn(state, InboxOutcome.OPTED_OUT, (Say(MessageKind.OPTED_OUT),), opt="out")
            if is_start(text):
                return Turn(state, InboxOutcome.OPTED_IN, (Say(MessageKind.OPTED_IN),), opt="in")
        if incoming.photos:
            return self._photo(survey, state, incoming)
        if incoming.button is not None:
            return self._button(survey, state, incoming.button)
        if state.step == GREETING:
            return self._greeting_words(survey, state, text, incoming.language)
        if state.step == FINISHED:
            return Turn(state, InboxOutcome.AFTER_FINISH)
        return self._answer(survey, state, text, incoming.language)

    def _photo(self, survey: Survey, state: State, incoming: Incoming) -> Turn:
        words = incoming.text.strip()
        if state.step == CONSENT:
            # more photos of the same moment: the consent question is already asked
            return Turn(
                state, InboxOutcome.GREETING, greeting_words=words, greeting_photos=incoming.photos
            )
        resume = None if state.step in (GREETING, FINISHED) else state.step
        return Turn(
            State(CONSENT, resume_step=resume),
            InboxOutcome.GREETING,
            self.prompt(survey, CONSENT),
            greeting_words=words,
            greeting_photos=incoming.photos,
        )

    def _button(self, survey: Survey, state: State, button: str) -> Turn:
        question, _, value = button.partition("=")
        # a tap on an old message's button, or a second tap, changes nothing
        if question != state.step or value not in self.options_for(survey, state.step):
            return Turn(state, InboxOutcome.STALE_BUTTON)
        return self._accept(survey, state, value, raw=value)

    def _answer(self, survey: Survey, state: State, text: str, language: str | None) -> Turn:
        options = self.options_for(survey, state.step)
        question = survey.questions.get(state.step)
        kind = question.type if question is not None else None
        if kind == TEXT and text.strip():
            return self._accept(survey, state, text.strip()[:VALUE_CHARS], raw=text)
        if kind == NUMBER:
            number = read_number(text)
            if number is not None:
                return self._accept(survey, state, number, raw=text)
        reply = parse_reply(text, options, language) if options else None
        if reply is not None and reply.intent == "answer" and reply.value is not None:
            return self._accept(survey, state, reply.value, raw=text)
        if state.reprompted:
            # one re-prompt only: a second would nag; the raw text stays for the coordinator
            return Turn(state, InboxOutcome.NOT_UNDERSTOOD)
        say = Say(MessageKind.REPROMPT, question=state.step, options=options)
        return Turn(replace(state, reprompted=True), InboxOutcome.REPROMPTED, (say,))

    def _accept(self, survey: Survey, state: State, value: str, raw: str) -> Turn:
        if state.step == CONSENT:
            following = state.resume_step or FINISHED
            say: tuple[Say, ...] = (Say(MessageKind.THANKS_GREETING, consent=value),)
            if following != FINISHED:
                say += self.prompt(survey, following)
            return Turn(State(following), InboxOutcome.CONSENT, say, consent=value)
        following = survey.after(state.step)
        say = self.prompt(survey, following)
        return Turn(State(following), InboxOutcome.ANSWERED, say, answers=((state.step, value),))

    def _greeting_words(
        self, survey: Survey, state: State, text: str, language: str | None
    ) -> Turn:
        # "yes"/"maybe" here means "I might send one", not a greeting of its own
        reply = parse_reply(text, ("yes", "maybe", "no"), language)
        if reply.intent == "answer" and reply.value == "no":
            return Turn(State(FINISHED), InboxOutcome.DECLINED_GREETING, (Say(MessageKind.THANKS),))
        if reply.intent == "answer" or not text.strip():
            return Turn(state, InboxOutcome.WAITING_FOR_PHOTO)
        return Turn(
            State(FINISHED),
            InboxOutcome.GREETING,
            (Say(MessageKind.THANKS),),
            greeting_words=text.strip(),
        )

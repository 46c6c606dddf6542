"""The surveys and their questions, loaded from `surveys.toml` (data, not code)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEFINITIONS = Path(__file__).with_name("surveys.toml")
GREETING = "greeting"
CONSENT = "consent"
FINISHED = "finished"
# what a question takes: one of its options, a whole number, or free words
CHOICE = "choice"
NUMBER = "number"
TEXT = "text"
QUESTION_TYPES = (CHOICE, NUMBER, TEXT)


@dataclass(frozen=True)
class Question:
    name: str
    options: tuple[str, ...]
    type: str = CHOICE


@dataclass(frozen=True)
class Survey:
    name: str
    days_after_match: int
    steps: tuple[str, ...]
    questions: dict[str, Question]

    @property
    def question_names(self) -> tuple[str, ...]:
        return tuple(step for step in self.steps if step in self.questions)

    def after(self, step: str) -> str:
        """The step that follows `step`, or FINISHED."""
        index = self.steps.index(step)
        return self.steps[index + 1] if index + 1 < len(self.steps) else FINISHED


@dataclass(frozen=True)
class SurveyBook:
    surveys: dict[str, Survey]
    consent: Question

    def days(self) -> dict[str, int]:
        return {name: s.days_after_match for name, s in self.surveys.items()}

    def all_questions(self) -> set[str]:
        return {q for s in self.surveys.values() for q in s.question_names}

    def question(self, name: str) -> Question | None:
        """A question of any survey (or consent) by name."""
        if name == CONSENT:
            return self.consent
        for survey in self.surveys.values():
            if name in survey.questions:
                return survey.questions[name]
        return None


class SurveyDefinitionError(ValueError):
    pass


def parse(text: str) -> SurveyBook:
    data = tomllib.loads(text)
    questions: dict[str, Question] = {}
    for name, spec in data.get("questions", {}).items():
        kind = str(spec.get("type", CHOICE))
        if kind not in QUESTION_TYPES:
            raise SurveyDefinitionError(f"question {name}: type must be one of {QUESTION_TYPES}")
        options = tuple(spec.get("options", ()))
        if (kind == CHOICE) != bool(options):
            raise SurveyDefinitionError(f"question {name}: options go with type choice, only")
        questions[name] = Question(name, options, kind)
    if CONSENT not in questions:
        raise SurveyDefinitionError("[questions.consent] is missing")
    surveys: dict[str, Survey] = {}
    for name, spec in data.get("surveys", {}).items():
        steps = tuple(spec["steps"])
        for step in steps:
            if step != GREETING and step not in questions:
                raise SurveyDefinitionError(f"survey {name}: step {step!r} is not a question")
            if step in (CONSENT, FINISHED):
                raise SurveyDefinitionError(f"survey {name}: {step!r} cannot be a step")
        if len(set(steps)) != len(steps) or not steps:
            raise SurveyDefinitionError(f"survey {name}: steps must be distinct and not empty")
        surveys[name] = Survey(
            name=name,
            days_after_match=int(spec["days_after_match"]),
            steps=steps,
            questions={s: questions[s] for s in steps if s in questions},
        )
    return SurveyBook(surveys=surveys, consent=questions[CONSENT])


@cache
def default_book() -> SurveyBook:
    return parse(DEFINITIONS.read_text(encoding="utf-8"))

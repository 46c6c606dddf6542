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


@dataclass(frozen=True)
class Question:
    name: str
    options: tuple[str, ...]


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


class SurveyDefinitionError(ValueError):
    pass


def parse(text: str) -> SurveyBook:
    data = tomllib.loads(text)
    questions = {
        name: Question(name, tuple(spec["options"]))
        for name, spec in data.get("questions", {}).items()
    }
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

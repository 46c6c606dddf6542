"""The funder report's tables, in Swedish or English: codes in words (`ar` is "arabiska",
`established` an "established resident"), a percentage beside each count, dates as dates.

The English titles and column names are the report's contract with the tools that read its CSV;
only the cells that used to be codes read as words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from messages.code_names import (
    channel_name,
    coordinator_language,
    gender_name,
    kind_name,
    language_name,
    option_name,
    question_name,
    role_name,
    survey_name,
)
from store.models import Programme
from store.outcomes import FunderFigures, FunderRow


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[list[object]]
    # (label column, value columns) to draw as bars, where a picture says it faster
    chart: tuple[int, tuple[int, ...]] | None = None


# the report's words; the English ones are the CSV's contract (titles and column names)
WORDS = {
    "en": {
        "Report": "Report",
        "programme": "programme",
        "from": "from",
        "to": "to",
        "Matches by kind": "Matches by kind",
        "kind": "kind",
        "matches": "matches",
        "target": "target",
        "% of target": "% of target",
        "Participants by role and gender": "Participants by role and gender",
        "role": "role",
        "gender": "gender",
        "participants": "participants",
        "% of participants": "% of participants",
        "Women among newcomers": "Women among newcomers",
        "newcomers": "newcomers",
        "women": "women",
        "share of women %": "share of women %",
        "target %": "target %",
        "Follow-up, all": "Follow-up, all",
        "Follow-up by language": "Follow-up by language",
        "Follow-up by channel": "Follow-up by channel",
        "language": "language",
        "channel": "channel",
        "followed up": "followed up",
        "answered": "answered",
        "met again": "met again",
        "will meet again": "will meet again",
        "photos received": "photos received",
        "photos consented": "photos consented",
        "answered %": "answered % of followed up",
        "met again %": "met again % of answered",
        "will meet again %": "will meet again % of answered",
        "Answers by question": "Answers by question",
        "survey": "survey",
        "question": "question",
        "answer": "answer",
        "count": "count",
        "% of answers": "% of answers",
        "% of asked": "% of asked",
    },
    "sv": {
        "Report": "Rapport",
        "programme": "verksamhet",
        "from": "från",
        "to": "till",
        "Matches by kind": "Matchningar per typ",
        "kind": "typ",
        "matches": "matchningar",
        "target": "mål",
        "% of target": "% av målet",
        "Participants by role and gender": "Deltagare per roll och kön",
        "role": "roll",
        "gender": "kön",
        "participants": "deltagare",
        "% of participants": "% av deltagarna",
        "Women among newcomers": "Kvinnor bland nyanlända",
        "newcomers": "nyanlända",
        "women": "kvinnor",
        "share of women %": "andel kvinnor %",
        "target %": "mål %",
        "Follow-up, all": "Uppföljning, alla",
        "Follow-up by language": "Uppföljning per språk",
        "Follow-up by channel": "Uppföljning per kanal",
        "language": "språk",
        "channel": "kanal",
        "followed up": "följts upp",
        "answered": "svarat",
        "met again": "träffats igen",
        "will meet again": "ska träffas igen",
        "photos received": "foton",
        "photos consented": "foton med samtycke",
        "answered %": "svarat % av uppföljda",
        "met again %": "träffats igen % av svarande",
        "will meet again %": "ska träffas igen % av svarande",
        "Answers by question": "Svar per fråga",
        "survey": "uppföljning",
        "question": "fråga",
        "answer": "svar",
        "count": "antal",
        "% of answers": "% av svaren",
        "% of asked": "% av tillfrågade",
    },
}
OUTCOME_KEYS = (
    "followed up",
    "answered",
    "met again",
    "will meet again",
    "photos received",
    "photos consented",
    "answered %",
    "met again %",
    "will meet again %",
)
# the English outcome columns, as the CSV has always named them (and a tool may read them)
OUTCOME_COLUMNS = tuple(WORDS["en"][key] for key in OUTCOME_KEYS)


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _outcome(row: FunderRow) -> list[object]:
    return [
        *row.values(),
        percent(row.answered, row.followed_up),
        percent(row.met_again, row.answered),
        percent(row.will_meet_again, row.answered),
    ]


def answer_rows(
    figures: FunderFigures, order: Sequence[str] = (), language: str = "en"
) -> list[list[object]]:
    """Every survey's answers, by question: how many gave each, as a share of those who
    answered the question and of those the survey asked (in %)."""
    rank = {question: i for i, question in enumerate(order)}
    rows: list[list[object]] = []
    keys = sorted(figures.answers, key=lambda k: (k[0], rank.get(k[1], len(rank)), k[1]))
    for survey, question in keys:
        counts = figures.answers[(survey, question)]
        answered = sum(counts.values())
        asked = figures.asked_by_survey.get(survey, 0)
        for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            rows.append(
                [
                    survey_name(language, survey),
                    question_name(language, question),
                    option_name(language, value),
                    n,
                    percent(n, answered),
                    percent(n, asked),
                ]
            )
    return rows


def tables(
    programme: Programme,
    figures: FunderFigures,
    first: date,
    last: date,
    order: Sequence[str] = (),
    language: str = "en",
) -> list[Table]:
    """The general funder report in `language` (sv or en; anything else reads Swedish)."""
    language = coordinator_language(language)
    w = WORDS[language]
    outcome_columns = tuple(w[key] for key in OUTCOME_KEYS)
    people = sum(figures.participants.values())

    def outcome_rows(
        groups: dict[str, FunderRow], name: Callable[[str, str], str]
    ) -> list[list[object]]:
        return [[name(language, code), *_outcome(row)] for code, row in groups.items()]

    kinds: list[list[object]] = []
    for kind, target in (
        ("individual", programme.target_individual),
        ("family", programme.target_family),
    ):
        count = figures.matches.get(kind, 0)
        kinds.append([kind_name(language, kind), count, target, percent(count, target)])
    return [
        Table(w["Report"], (w["programme"], w["from"], w["to"]), [[programme.name, first, last]]),
        Table(
            w["Matches by kind"],
            (w["kind"], w["matches"], w["target"], w["% of target"]),
            kinds,
            chart=(0, (1, 2)),
        ),
        Table(
            w["Participants by role and gender"],
            (w["role"], w["gender"], w["participants"], w["% of participants"]),
            [
                [role_name(language, role), gender_name(language, gender), n, percent(n, people)]
                for (role, gender), n in figures.participants.items()
            ],
        ),
        Table(
            w["Women among newcomers"],
            (w["newcomers"], w["women"], w["share of women %"], w["target %"]),
            [
                [
                    figures.newcomers,
                    figures.women_newcomers,
                    percent(figures.women_newcomers, figures.newcomers),
                    programme.target_women_percent,
                ]
            ],
        ),
        Table(w["Follow-up, all"], outcome_columns, [_outcome(figures.total)]),
        Table(
            w["Follow-up by language"],
            (w["language"], *outcome_columns),
            outcome_rows(figures.by_language, language_name),
            chart=(0, (1, 2, 3)),
        ),
        Table(
            w["Follow-up by channel"],
            (w["channel"], *outcome_columns),
            outcome_rows(figures.by_channel, channel_name),
            chart=(0, (1, 2, 3)),
        ),
        Table(
            w["Answers by question"],
            (
                w["survey"],
                w["question"],
                w["answer"],
                w["count"],
                w["% of answers"],
                w["% of asked"],
            ),
            answer_rows(figures, order, language),
        ),
    ]


# the county board's form (Länsstyrelsen), in Swedish: the evaluation's outcomes, by question,
# with the words of the form; a question of any other survey is listed after them by its name
LANSSTYRELSEN_OUTCOMES: dict[str, str] = {
    "met_again": "Har träffats igen (efter tre veckor)",
    "met_once_more": "Har träffats minst en gång till",
    "practised_swedish": "Har övat svenska",
    "understand_sweden": "Förstår livet i Sverige bättre",
    "job_or_internship": "Jobb eller praktik genom fikakompisen",
    "activities_outside": "Aktiviteter utanför hemmet",
    "new_people": "Nya kontakter genom fikakompisen",
}
# the questions whose "yes" means they met again, counted per person and per pair
MET_AGAIN = ("met_again", "met_once_more")
SWEDISH_ANSWERS = {"yes": "Ja", "no": "Nej", "maybe": "Kanske", "a_little": "Lite"}
KIND_NAMES = {"individual": "Individ", "family": "Familj"}


def lansstyrelsen_tables(
    programme: Programme,
    figures: FunderFigures,
    first: date,
    last: date,
    order: Sequence[str] = (),
) -> list[Table]:
    """The funder's final report in the county board's layout, in Swedish."""
    people = sum(figures.genders.values())
    women = figures.genders.get("woman", 0)
    total = figures.total
    kinds: list[list[object]] = []
    for kind, target in (
        ("family", programme.target_family),
        ("individual", programme.target_individual),
    ):
        count = figures.matches.get(kind, 0)
        kinds.append([KIND_NAMES[kind], count, target, percent(count, target)])
    met: list[list[object]] = []
    for question in MET_AGAIN:
        for (survey, asked), matches in figures.by_match.items():
            if asked != question:
                continue
            counts = figures.answers.get((survey, asked), {})
            answered = sum(counts.values())
            pairs_yes = sum(1 for values in matches.values() if "yes" in values)
            met.append(
                [
                    LANSSTYRELSEN_OUTCOMES.get(question, question),
                    counts.get("yes", 0),
                    answered,
                    percent(counts.get("yes", 0), answered),
                    pairs_yes,
                    len(matches),
                    percent(pairs_yes, len(matches)),
                ]
            )
    rank = {q: i for i, q in enumerate([*LANSSTYRELSEN_OUTCOMES, *order])}
    outcomes: list[list[object]] = []
    for survey, question in sorted(
        figures.answers, key=lambda k: (rank.get(k[1], len(rank)), k[1], k[0])
    ):
        counts = figures.answers[(survey, question)]
        answered = sum(counts.values())
        for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            outcomes.append(
                [
                    LANSSTYRELSEN_OUTCOMES.get(question, question),
                    SWEDISH_ANSWERS.get(value, value),
                    n,
                    answered,
                    percent(n, answered),
                ]
            )
    return [
        Table(
            "Slutrapport till Länsstyrelsen",
            ("Verksamhet", "Från", "Till"),
            [[programme.name, first, last]],
        ),
        Table(
            "Matchningar per typ mot mål",
            ("Typ", "Matchningar", "Mål", "Andel av målet %"),
            kinds,
            chart=(0, (1, 2)),
        ),
        Table(
            "Andel kvinnor mot mål",
            ("Deltagare", "Kvinnor", "Andel kvinnor %", "Mål %"),
            [[people, women, percent(women, people), programme.target_women_percent]],
        ),
        Table(
            "Uppföljning",
            ("Följts upp", "Svarat", "Svarsfrekvens %"),
            [[total.followed_up, total.answered, percent(total.answered, total.followed_up)]],
        ),
        Table(
            "Träffats igen, per person och per par",
            (
                "Fråga",
                "Personer ja",
                "Personer som svarat",
                "Andel personer %",
                "Par ja",
                "Par som svarat",
                "Andel par %",
            ),
            met,
        ),
        Table(
            "Utvärderingens resultat",
            ("Fråga", "Svar", "Antal", "Svarat", "Andel %"),
            outcomes,
        ),
    ]

"""`fikafollow calls` (who to phone, by language) and `call record` (what a call brought)."""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, datetime
from typing import TextIO

from bot.dialogue import VALUE_CHARS, read_number
from bot.surveys import CHOICE, CONSENT, NUMBER
from fikafollow.app import App
from fikafollow.commands.options import Subcommands, add_programme, parse_now
from fikafollow.errors import UsageError
from store.calls import CallError, by_language, call_list, record_call
from store.reporting import spreadsheet_safe

CSV_HEADER = ("language", "first_name", "phone", "participant_id", "match_id", "unanswered")


def register(sub: Subcommands) -> None:
    calls = sub.add_parser("calls", help="who to phone, grouped by language")
    add_programme(calls)
    calls.add_argument("--format", choices=("text", "csv"), default="text")
    calls.set_defaults(handler=cmd_calls)

    call = sub.add_parser("call", help="record what a phone call brought")
    actions = call.add_subparsers(dest="call_command", required=True, metavar="ACTION")
    record = actions.add_parser("record", help="record a call's answers (channel phone)")
    add_programme(record)
    record.add_argument("--participant", required=True, help="the participant's id")
    record.add_argument("--match", required=True, help="the match's id")
    record.add_argument("--met-again", choices=("yes", "no"))
    record.add_argument("--will-meet-again", choices=("yes", "maybe", "no"))
    record.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="QUESTION=VALUE",
        help="an answer to any survey's question (bot/surveys.toml), "
        "e.g. practised_swedish=a_little; repeatable",
    )
    record.add_argument("--note", default="", help="what was said, in a few words")
    record.add_argument("--now", help="when the call was, ISO-8601 (default: now)")
    record.set_defaults(handler=cmd_record)


async def cmd_calls(app: App, args: argparse.Namespace, out: TextIO) -> int:
    await app.start()
    programme = await app.programme(args.programme, datetime.now(UTC))
    async with app.sessions() as session:
        rows = await call_list(session, programme.id, app.survey_questions())
    if args.format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for r in rows:
            values = (r.language, r.first_name, r.phone, r.participant_id, r.match_id)
            writer.writerow([spreadsheet_safe(v) for v in (*values, " ".join(r.unanswered))])
        return 0
    if not rows:
        out.write("nobody to call\n")
    for language, group in by_language(rows).items():
        out.write(f"== {language} ({len(group)})\n")
        for r in group:
            out.write(
                f"{r.first_name}\t{r.phone or r.email}\tparticipant {r.participant_id}\t"
                f"match {r.match_id}\tunanswered: {', '.join(r.unanswered)}"
                + (f"\t{r.reason}" if r.reason else "")
                + "\n"
            )
    return 0


def _answers(args: argparse.Namespace, app: App) -> dict[str, str]:
    """The answers the options give, checked against the surveys' questions."""
    given = (("met_again", args.met_again), ("will_meet_again", args.will_meet_again))
    answers = {question: value for question, value in given if value is not None}
    for pair in args.answer:
        question, sep, value = pair.partition("=")
        question, value = question.strip(), value.strip()
        if not sep or not question or not value:
            raise UsageError(f"--answer {pair!r}: write QUESTION=VALUE, e.g. met_once_more=yes")
        asked = app.book.question(question)
        if asked is None or question == CONSENT:
            known = ", ".join(app.questions())
            raise UsageError(f"--answer: no survey asks {question!r}; known: {known}")
        if asked.type == NUMBER and read_number(value) != value:
            raise UsageError(f"--answer {question}: {value!r} is not a whole number")
        if asked.type == CHOICE and value not in asked.options:
            choices = ", ".join(asked.options)
            raise UsageError(f"--answer {question}: {value!r} is not one of {choices}")
        answers[question] = value[:VALUE_CHARS]
    if not answers:
        raise UsageError("give --met-again, --will-meet-again and/or --answer QUESTION=VALUE")
    return answers


async def cmd_record(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = parse_now(args.now, app.settings)
    answers = _answers(args, app)
    surveys = {
        name: {q: survey.questions[q].options for q in survey.question_names}
        for name, survey in app.book.surveys.items()
    }
    await app.start()
    programme = await app.programme(args.programme, now)
    try:
        async with app.sessions.begin() as session:
            n = await record_call(
                session,
                programme.id,
                args.participant,
                args.match,
                answers,
                args.note,
                now,
                surveys=surveys,
            )
    except CallError as exc:
        raise UsageError(str(exc)) from None
    out.write(f"{n} answer(s) recorded from the call\n")
    return 0

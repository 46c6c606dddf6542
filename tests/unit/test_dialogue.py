"""The dialogue, pure: given a step and what came in, what is recorded and what is said."""

from __future__ import annotations

import pytest

from bot.dialogue import Dialogue, Incoming, State
from bot.surveys import SurveyDefinitionError, default_book, parse

BOOK = default_book()
SURVEY = BOOK.surveys["three_weeks"]
DIALOGUE = Dialogue(BOOK)


def test_start_asks_met_again_first_with_its_two_options() -> None:
    turn = DIALOGUE.start(SURVEY)
    assert turn.state.step == "met_again"
    assert [(s.kind, s.question, s.options, s.first) for s in turn.say] == [
        ("question", "met_again", ("yes", "no"), True)
    ]


def test_an_answer_moves_to_will_meet_again_with_three_options() -> None:
    turn = DIALOGUE.respond(SURVEY, State("met_again"), Incoming("ja"))
    assert turn.answers == (("met_again", "yes"),)
    assert turn.state.step == "will_meet_again"
    assert turn.say[0].options == ("yes", "maybe", "no")


def test_after_the_last_question_the_fikahalsning_is_invited() -> None:
    turn = DIALOGUE.respond(SURVEY, State("will_meet_again"), Incoming("2"))
    assert turn.answers == (("will_meet_again", "maybe"),)
    assert turn.state.step == "greeting"
    assert [s.kind for s in turn.say] == ["greeting_invite"]
    assert turn.answered_all


def test_unreadable_text_gets_one_reprompt_then_silence() -> None:
    first = DIALOGUE.respond(SURVEY, State("met_again"), Incoming("hmm vad menar du?"))
    assert first.outcome == "reprompted"
    assert [s.kind for s in first.say] == ["reprompt"]
    assert first.state.reprompted
    second = DIALOGUE.respond(SURVEY, first.state, Incoming("???"))
    assert second.outcome == "not_understood"
    assert second.say == ()
    third = DIALOGUE.respond(SURVEY, second.state, Incoming("nej"))
    assert third.answers == (("met_again", "no"),)
    assert not third.state.reprompted


def test_a_button_for_the_current_question_answers_it() -> None:
    turn = DIALOGUE.respond(SURVEY, State("met_again"), Incoming(button="met_again=no"))
    assert turn.answers == (("met_again", "no"),)


def test_a_second_tap_on_an_old_button_changes_nothing() -> None:
    state = State("will_meet_again")
    turn = DIALOGUE.respond(SURVEY, state, Incoming(button="met_again=yes"))
    assert turn.outcome == "stale_button"
    assert turn.state == state and turn.answers == () and turn.say == ()


def test_a_forged_button_value_changes_nothing() -> None:
    turn = DIALOGUE.respond(SURVEY, State("met_again"), Incoming(button="met_again=maybe"))
    assert turn.outcome == "stale_button"


def test_a_photo_brings_the_consent_question_and_then_the_pending_question() -> None:
    turn = DIALOGUE.respond(SURVEY, State("will_meet_again"), Incoming("vår fika", photos=1))
    assert turn.greeting_words == "vår fika" and turn.greeting_photos == 1
    assert turn.state == State("consent", resume_step="will_meet_again")
    assert [s.kind for s in turn.say] == ["consent"]
    after = DIALOGUE.respond(SURVEY, turn.state, Incoming("1"))
    assert after.consent == "yes"
    assert after.state == State("will_meet_again")
    assert [s.kind for s in after.say] == ["thanks_greeting", "question"]


def test_consent_no_is_recorded_and_thanked() -> None:
    turn = DIALOGUE.respond(SURVEY, State("consent"), Incoming("نه"))
    assert turn.consent == "no"
    assert turn.state.step == "finished"
    assert turn.say[0].consent == "no"


def test_more_photos_while_consent_is_asked_do_not_ask_again() -> None:
    turn = DIALOGUE.respond(SURVEY, State("consent"), Incoming(photos=2))
    assert turn.greeting_photos == 2 and turn.say == ()


def test_words_at_the_invitation_become_a_words_only_fikahalsning() -> None:
    turn = DIALOGUE.respond(SURVEY, State("greeting"), Incoming("Vi gick på loppis ihop."))
    assert turn.greeting_words == "Vi gick på loppis ihop."
    assert turn.state.step == "finished"


def test_no_at_the_invitation_declines_kindly() -> None:
    turn = DIALOGUE.respond(SURVEY, State("greeting"), Incoming("nej tack"))
    assert turn.outcome == "declined_greeting"
    assert turn.greeting_words is None
    assert [s.kind for s in turn.say] == ["thanks"]


def test_stop_is_an_opt_out_at_any_step() -> None:
    for step in ("met_again", "greeting", "consent", "finished"):
        turn = DIALOGUE.respond(SURVEY, State(step), Incoming("STOPP"))
        assert turn.opt == "out" and turn.state == State(step)


def test_a_later_survey_needs_only_data() -> None:
    book = parse(
        """
        [surveys.three_months]
        days_after_match = 90
        steps = ["practised_swedish", "job_lead", "greeting"]
        [questions.practised_swedish]
        options = ["yes", "no"]
        [questions.job_lead]
        options = ["yes", "no"]
        [questions.consent]
        options = ["yes", "no"]
        """
    )
    dialogue = Dialogue(book)
    survey = book.surveys["three_months"]
    start = dialogue.start(survey)
    assert start.say[0].question == "practised_swedish"
    turn = dialogue.respond(survey, start.state, Incoming("ja"))
    assert turn.answers == (("practised_swedish", "yes"),)
    assert turn.say[0].question == "job_lead"


def test_a_survey_naming_an_unknown_question_is_refused() -> None:
    definition = (
        '[surveys.x]\ndays_after_match = 1\nsteps = ["nope"]\n'
        '[questions.consent]\noptions = ["yes", "no"]\n'
    )
    with pytest.raises(SurveyDefinitionError, match="nope"):
        parse(definition)


NUMBER_AND_TEXT = parse(
    """
    [surveys.count]
    days_after_match = 30
    steps = ["times_met", "in_your_words"]
    [questions.times_met]
    type = "number"
    [questions.in_your_words]
    type = "text"
    [questions.consent]
    options = ["yes", "no"]
    """
)


@pytest.mark.parametrize(
    ("text", "value"), [("3", "3"), ("about 4 times", "4"), ("٣ مرات", "3"), ("۱۲", "12")]
)
def test_a_number_question_takes_one_whole_number(text: str, value: str) -> None:
    dialogue = Dialogue(NUMBER_AND_TEXT)
    survey = NUMBER_AND_TEXT.surveys["count"]
    start = dialogue.start(survey)
    assert start.say[0].options == ()
    turn = dialogue.respond(survey, start.state, Incoming(text))
    assert turn.answers == (("times_met", value),)
    assert turn.say[0].question == "in_your_words"


@pytest.mark.parametrize("text", ["many", "2 or 3", ""])
def test_a_number_question_asks_again_without_one_number(text: str) -> None:
    dialogue = Dialogue(NUMBER_AND_TEXT)
    survey = NUMBER_AND_TEXT.surveys["count"]
    turn = dialogue.respond(survey, dialogue.start(survey).state, Incoming(text))
    assert turn.answers == () and turn.state.reprompted


def test_a_free_text_question_takes_the_words() -> None:
    dialogue = Dialogue(NUMBER_AND_TEXT)
    survey = NUMBER_AND_TEXT.surveys["count"]
    state = State("in_your_words")
    turn = dialogue.respond(survey, state, Incoming("Vi går på loppis ihop"))
    # the value is short; the whole message is kept as the answer's raw text
    assert turn.answers == (("in_your_words", "Vi går på loppis iho"),)
    assert turn.answered_all


def test_the_three_month_evaluation_asks_its_six_questions_in_order() -> None:
    survey = BOOK.surveys["three_months"]
    assert survey.days_after_match == 90
    state = DIALOGUE.start(survey).state
    asked = [state.step]
    for _ in range(5):
        turn = DIALOGUE.respond(survey, state, Incoming("1"))
        state = turn.state
        asked.append(state.step)
    assert asked == list(survey.steps)
    turn = DIALOGUE.respond(survey, State("practised_swedish"), Incoming("2"))
    assert turn.answers == (("practised_swedish", "a_little"),)


CONSENT_ONLY = '[questions.consent]\noptions = ["yes", "no"]\n'


def test_options_go_only_with_choice_questions() -> None:
    with pytest.raises(SurveyDefinitionError, match="options"):
        parse('[questions.n]\ntype = "number"\noptions = ["1"]\n' + CONSENT_ONLY)
    with pytest.raises(SurveyDefinitionError, match="type"):
        parse('[questions.n]\ntype = "date"\n' + CONSENT_ONLY)

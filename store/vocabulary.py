"""The words the tables hold and the code compares: statuses, message kinds, outcomes, channels.

Each is defined here once. The members are `StrEnum`s, so they are stored as the plain strings
they always were and compare equal to them; a typo in a member name is a type error, where a typo
in a bare string was a silent bug.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

# every channel a participant can be reached on, in the order of the ladder: a participant's
# preferred channel first, then these (bot/reach.py)
CHANNELS: tuple[str, ...] = ("telegram", "sms", "email")


class FollowUpStatus(StrEnum):
    """Where one follow-up stands.

    scheduled → claimed (a dispatch pass took it; for the length of its transaction) → active
    (asking) → done (every question answered; a fikahälsning is still welcome). An active one
    ends as expired (no answer in time: the call list) or opted_out (the participant asked for
    quiet); one that finds no channel to ask on is unreachable.
    """

    SCHEDULED = "scheduled"
    CLAIMED = "claimed"
    ACTIVE = "active"
    DONE = "done"
    EXPIRED = "expired"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"


# a follow-up that still takes answers: asking, or finished but open to a late photo or a
# changed answer
OPEN_FOLLOWUP: tuple[FollowUpStatus, ...] = (FollowUpStatus.ACTIVE, FollowUpStatus.DONE)


class ChaseStage(IntEnum):
    """How far an unanswered active follow-up has been chased (`FollowUp.chase_stage`)."""

    ASKED = 0
    REMINDED = 1  # the question again, on the same channel
    MOVED = 2  # the question again, on the next channel of the ladder


class OutboxStatus(StrEnum):
    """Where one outgoing message stands.

    pending → sending (claimed by a sender, with a lease) → sent (the provider accepted it), or
    back to pending to be retried later, or failed (for good, or out of attempts). Pending
    messages of a participant who opted out or unsubscribed are cancelled; a claim whose lease
    ran out is due again.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


# how a failed message's last_error begins when temporary errors outlasted its retries (an
# outage), not a provider's refusal: `outbox retry` queues these again and the digest lists them
OUT_OF_ATTEMPTS = "out of attempts"
# the statuses a sender may claim (pending and due, or sending with a lease run out); the outbox's
# partial index ix_outbox_open holds only these rows, so a claim never walks the sent ones
CLAIMABLE_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.SENDING)


class MessageKind(StrEnum):
    """What an outgoing message says; each has its templates in messages/templates/<channel>/."""

    QUESTION = "question"
    REPROMPT = "reprompt"
    REMINDER = "reminder"
    GREETING_INVITE = "greeting_invite"
    CONSENT = "consent"
    THANKS_GREETING = "thanks_greeting"
    THANKS = "thanks"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    PHOTO_REJECTED = "photo_rejected"
    TELEGRAM_LINKED = "telegram_linked"
    LINK_UNKNOWN = "link_unknown"
    ANSWERED_FOR = "answered_for"


# messages that ask something: one that cannot be delivered is asked again on the next channel
PROMPTS: frozenset[MessageKind] = frozenset(
    {
        MessageKind.QUESTION,
        MessageKind.REPROMPT,
        MessageKind.REMINDER,
        MessageKind.CONSENT,
        MessageKind.GREETING_INVITE,
    }
)


class InboxOutcome(StrEnum):
    """What became of one inbound event (`InboxEvent.outcome`), as the dialogue or the
    conversation decided it."""

    STARTED = "started"  # the dialogue's first turn: nothing came in
    ANSWERED = "answered"
    REPROMPTED = "reprompted"
    NOT_UNDERSTOOD = "not_understood"
    STALE_BUTTON = "stale_button"
    AFTER_FINISH = "after_finish"
    GREETING = "greeting"
    WAITING_FOR_PHOTO = "waiting_for_photo"
    DECLINED_GREETING = "declined_greeting"
    CONSENT = "consent"
    PHOTO_REJECTED = "photo_rejected"
    ANSWER_CHANGED = "answer_changed"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    UNKNOWN_SENDER = "unknown_sender"
    NO_OPEN_FOLLOWUP = "no_open_followup"
    LINKED = "linked"
    LINK_UNKNOWN = "link_unknown"
    LATE_ANSWER = "late_answer"  # an answer after the follow-up expired: recorded, marked late
    # an e-mail of ours came back: failed for good (the address is dead), only delayed, or
    # naming no message of ours; never a note, never an answer
    BOUNCED = "bounced"
    DELAYED = "delayed"
    BOUNCE_UNMATCHED = "bounce_unmatched"
    # not stored: a retried webhook, or what a channel drops before the conversation sees it
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    AUTO_REPLY = "auto_reply"


# what came in but became no answer and no greeting: kept as a note for a coordinator to read
NOTE_OUTCOMES: frozenset[InboxOutcome] = frozenset(
    {
        InboxOutcome.NOT_UNDERSTOOD,
        InboxOutcome.REPROMPTED,
        InboxOutcome.AFTER_FINISH,
        InboxOutcome.NO_OPEN_FOLLOWUP,
        InboxOutcome.UNKNOWN_SENDER,
        InboxOutcome.STALE_BUTTON,
    }
)


class RowProblem(StrEnum):
    """What is wrong with a match file, one of its rows, or the API's body (`RowError.code`).

    `ROW_PROBLEM_TEXT` says each in English, with its parameters in braces: the words of the
    CLI and the API. The coordinators' web app says the same through its sv/en catalogue, whose
    msgids are these English texts.
    """

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL_CHARACTER = "control_character"
    NOT_A_DATE = "not_a_date"
    NOT_ONE_OF = "not_one_of"
    NOT_ONE_OF_OR_EMPTY = "not_one_of_or_empty"
    PHONE_UNREADABLE = "phone_unreadable"
    PHONE_INVALID = "phone_invalid"
    EMAIL_INVALID = "email_invalid"
    SMS_WITHOUT_PHONE = "sms_without_phone"
    EMAIL_WITHOUT_ADDRESS = "email_without_address"
    MATCH_DIFFERS = "match_differs"
    PERSON_DIFFERS = "person_differs"
    PERSON_TWICE = "person_twice"
    MATCH_TOO_SMALL = "match_too_small"
    MISSING_COLUMNS = "missing_columns"
    NO_ROWS = "no_rows"
    NO_MATCHES = "no_matches"
    NOT_TEXT = "not_text"
    COLUMN_TWICE = "column_twice"
    CELL_TOO_LONG = "cell_too_long"
    NOT_CSV = "not_csv"
    NOT_XLSX = "not_xlsx"
    FILE_TOO_LARGE = "file_too_large"
    TOO_MANY_FIELDS = "too_many_fields"
    IN_FUTURE = "in_future"
    TOO_OLD = "too_old"
    BAD_CHILDREN_AGES = "bad_children_ages"
    MALFORMED = "malformed"  # the API's body by its schema: `detail` is pydantic's English


ROW_PROBLEM_TEXT: dict[RowProblem, str] = {
    RowProblem.EMPTY: "{column} is empty",
    RowProblem.TOO_LONG: "{column} is longer than {limit} characters",
    RowProblem.CONTROL_CHARACTER: "{column} contains a control character",
    RowProblem.NOT_A_DATE: "matched_on {value} is not a date like 2026-05-14 or 14/5/2026",
    RowProblem.NOT_ONE_OF: "{column} {value} is not one of {allowed}",
    RowProblem.NOT_ONE_OF_OR_EMPTY: "{column} {value} is not one of {allowed} or empty",
    RowProblem.PHONE_UNREADABLE: "phone is not a phone number",
    RowProblem.PHONE_INVALID: "phone is not a valid number (check the digits and the country code)",
    RowProblem.EMAIL_INVALID: "email is not valid: {detail}",
    RowProblem.SMS_WITHOUT_PHONE: "channel is sms but phone is empty",
    RowProblem.EMAIL_WITHOUT_ADDRESS: "channel is email but email is empty",
    RowProblem.MATCH_DIFFERS: "match {match} has another date or kind at {at}",
    RowProblem.PERSON_DIFFERS: "participant {participant} has other details at {at}",
    RowProblem.PERSON_TWICE: "participant {participant} is twice in {match}",
    RowProblem.MATCH_TOO_SMALL: "match {match} has only one participant",
    RowProblem.MISSING_COLUMNS: "missing columns: {columns}",
    RowProblem.NO_ROWS: "has no rows",
    RowProblem.NO_MATCHES: "has no matches",
    RowProblem.NOT_TEXT: "is not a text file in a known encoding; save it as CSV",
    RowProblem.COLUMN_TWICE: "names a column twice: {columns}",
    RowProblem.CELL_TOO_LONG: "has a cell longer than {limit} characters",
    RowProblem.NOT_CSV: "cannot be read as CSV ({detail})",
    RowProblem.NOT_XLSX: "is not a readable .xlsx workbook",
    RowProblem.FILE_TOO_LARGE: "is larger than {limit} MB",
    RowProblem.TOO_MANY_FIELDS: "has more fields than the header",
    RowProblem.IN_FUTURE: "matched_on {date} is in the future",
    RowProblem.TOO_OLD: (
        "matched_on {date} is more than {days} days ago ({hint} to import it anyway)"
    ),
    RowProblem.BAD_CHILDREN_AGES: (
        "{column} must be whole years from 0 to {limit}, separated by commas or semicolons,"
        " like 3, 7"
    ),
    RowProblem.MALFORMED: "{detail}",
}


class Unreachable(StrEnum):
    """Why no message reaches a person on a channel: the call list's reason for one who is
    unreachable, kept as a code and worded in the reader's language (messages/code_names.py):
    the web app and the digest in the coordinator's, the command line in English.

    A provider's refusal is read from the failed message's last error (store/calls.py maps
    the channels' phrases to these); a number the import found to be a fixed line is LANDLINE.
    """

    LANDLINE = "landline"
    INVALID_NUMBER = "invalid_number"
    NUMBER_UNREACHABLE = "number_unreachable"
    SMS_STOPPED = "sms_stopped"  # texted STOP to the provider, past us
    SMS_BLOCKED = "sms_blocked"  # blocked or filtered on the carrier's side
    BOT_BLOCKED = "bot_blocked"
    CHAT_NOT_FOUND = "chat_not_found"
    NO_MAILBOX = "no_mailbox"
    NO_MAIL_DOMAIN = "no_mail_domain"
    ADDRESS_INVALID = "address_invalid"
    MAILBOX_UNAVAILABLE = "mailbox_unavailable"  # disabled, full, or not taking mail now
    MAIL_REFUSED = "mail_refused"
    FAILED = "failed"  # a refusal whose words we do not know
    NO_CHANNEL = "no_channel"  # nothing to ask on at all (no address on any channel)

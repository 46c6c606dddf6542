"""Errors a command turns into one line on standard error and exit code 2: something the person
at the terminal can put right (an option, a name). Anything else keeps its traceback.

Two more end a command with one line, defined where they arise: `store.database.DatabaseUnreachable`
(exit 1) and `store.migrate.SchemaBehind` (exit 2); `fikafollow.config.ConfigError` is exit 2.
"""

from __future__ import annotations


class CommandError(Exception):
    """A command cannot do what it was asked; the message says why, in one line."""

    exit_code = 2


class UsageError(CommandError):
    """A wrong or missing option value."""


class UnknownProgramme(CommandError):
    """No programme has that id."""

    def __init__(self, programme_id: str) -> None:
        super().__init__(f"no programme {programme_id!r}")
        self.programme_id = programme_id


class UnknownCoordinator(CommandError):
    """The programme has no coordinator with that e-mail address."""

    def __init__(self, email: str, programme_id: str) -> None:
        super().__init__(f"no coordinator {email} in programme {programme_id}")


class UnknownParticipant(CommandError):
    """The programme has no participant with that id."""

    def __init__(self, external_id: str, programme_id: str) -> None:
        super().__init__(f"no participant {external_id!r} in programme {programme_id}")


class NotConfigured(CommandError):
    """The command needs a channel or server that the settings do not name."""

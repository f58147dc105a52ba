"""One error root for loglens; the CLI is the only place that turns these into exit codes."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (empty when it has none): one line for a report."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


class LoglensError(Exception):
    """Base class of every error loglens raises on purpose."""


class InputError(LoglensError):
    """The user's input cannot be used: nothing to read, bad option value, unknown output type.

    ``warnings`` are the input warnings gathered before the error (what was seen and why it
    could not be read), for the caller to show beside it.
    """

    def __init__(self, message: str, *, warnings: list[str] | None = None) -> None:
        super().__init__(message)
        self.warnings = list(warnings or [])

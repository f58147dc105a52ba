"""One error root for loglens; the CLI is the only place that turns these into exit codes."""


class LoglensError(Exception):
    """Base class of every error loglens raises on purpose."""


class InputError(LoglensError):
    """The user's input cannot be used: nothing to read, bad option value, unknown output type."""

"""Streaming parsers: each source format into Polars frames with the schema in ``parsers.schema``.

This package knows formats, not diagnoses; ``loglens`` builds on it, never the reverse.
"""

from parsers.discover import find_waagent_logs
from parsers.reader import SourceAccount
from parsers.timezones import TimezoneError, VmTimezone
from parsers.waagent import ParseResult, read_waagent

__all__ = ["ParseResult", "SourceAccount", "TimezoneError", "VmTimezone", "find_waagent_logs", "read_waagent"]

"""Streaming parsers: each source format into Polars frames with the schema in ``parsers.schema``.

This package knows formats, not diagnoses; ``loglens`` builds on it, never the reverse.
"""

from parsers.load import LoadResult, load_sources
from parsers.reader import ParseResult, Source, SourceAccount
from parsers.timezones import TimezoneError, VmTimezone
from parsers.waagent_stream import read_waagent

__all__ = [
    "LoadResult",
    "ParseResult",
    "Source",
    "SourceAccount",
    "TimezoneError",
    "VmTimezone",
    "load_sources",
    "read_waagent",
]

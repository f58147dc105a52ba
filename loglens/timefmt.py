"""The one place timestamps become text: ISO 8601 for documents, a short UTC form for people."""

from __future__ import annotations

from datetime import datetime


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds and a `Z` (the JSON document's form), or None."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def human(moment: datetime | None) -> str | None:
    """`2025-06-11 04:12:09 UTC` (reports and facts), or None."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else None


#: How `minute` writes a time (also for `dt.strftime` over many times at once).
MINUTE = "%Y-%m-%d %H:%M"


def minute(moment: datetime) -> str:
    """`2025-06-11 04:12` (finding summaries; the caller says UTC once)."""
    return moment.strftime(MINUTE)


def stamp(moment: datetime | None) -> str:
    """`2025-06-11T04:12:09Z ` before an evidence line, or nothing when the line has no time."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ ") if moment else ""

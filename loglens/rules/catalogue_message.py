"""A problem message the catalogue knows and no specialised rule reads, reported as it is.

What it detects:
    Records carrying a catalogue message (`catalogue/entries/`) whose category is a finding
    category and which no other rule declares among the messages it reads: an extension's own
    "unsupported distribution" text, a handler's download failure, a disk that is full, a
    package tool's lock. One finding per message and extension, with the count and time span,
    the fields the message states (versions, exit codes, paths, errors), and the message's own
    meaning and fix from its catalogue entry.

Why it matters:
    The specialised rules pair lines, measure durations and decide what caused what; but what the
    agent and the extensions can say is far wider than what any rule was written for. A message
    the catalogue knows is evidence in its own right, wherever it appears: it must not be reported
    as an unexplained error, nor the VM called healthy around it.

Example:
    error:   Long running operation failed with error: 'VM 'xplattestvm29' has not reported status for VM agent or extensions.

Known benign causes:
    Entries that are harmless alone carry `benign_unless`: below that many occurrences they are
    reported as info.

Remediation:
    The catalogue entry's remediation, shown with each finding.

References:
    https://github.com/Azure/WALinuxAgent/wiki/Known-Issues
"""

from __future__ import annotations

import polars as pl

import catalogue
from loglens.context import Context
from loglens.findings import Hit, Rule, covers
from loglens.knowledge import CATEGORY_NAMES
from loglens.rules._common import HIT_COLUMNS, span_text, version_of

RULE = Rule(
    id="catalogue-message",
    category="command-failure",
    severity="warning",
    title="A known problem message",
    # Its findings' words are the catalogue entries', which grow with every mined generation.
    status="preview",
    severity_note="each finding takes its message's category and severity (`catalogue/entries/`), info below its `benign_unless` count",
    reads=("every-message", "declared"),
)
#: Fields worth naming in a summary, in the order they are named.
_SAID = ("operation", "exit_code", "error_code", "distro", "version", "path", "endpoint", "status", "error")


def _unclaimed(declared: tuple[str, ...]) -> list[str]:
    """Ids of finding-category entries that none of the ``declared`` messages of the other rules covers."""

    entries = catalogue.load().entries
    return [e.id for e in entries if e.category in CATEGORY_NAMES and not any(covers(m, e.id) for m in declared)]


def detect(context: Context) -> list[Hit]:
    by_id = catalogue.load().by_id
    unclaimed = _unclaimed(context.declared)
    # A line that also carries a problem message another rule reads is that rule's to explain:
    # one incident, one finding.
    reported = set(unclaimed)
    claimed = tuple(e.id for e in catalogue.load().entries if e.category != "context" and e.id not in reported)
    diagnosed = context.records_carrying(claimed)
    # Only the unclaimed messages' frame is built: on a noisy log the claimed ones (WireServer
    # blips) are hundreds of thousands of rows of every record column and catalogue field.
    rows = context.messages_of(tuple(unclaimed)).filter(~pl.col("record").is_in(diagnosed.implode()))
    hits = []
    for (message_id, extension), group in rows.group_by(["message_id", "extension"], maintain_order=True):
        entry = by_id[message_id]
        records = group.unique("record", keep="first", maintain_order=True)
        quiet = entry.benign_unless is not None and records.height < entry.benign_unless
        said = _stated(records)
        span = span_text(records)
        times = f"{records.height} times" if records.height > 1 else "once"
        summary = f"{entry.meaning.split('. ')[0].rstrip('.')}" + (f" ({said})" if said else "")
        summary += f"; seen {times}" + (f", {span}" if span else "")
        hits.append(
            Hit(
                summary,
                records.select(HIT_COLUMNS),
                severity="info" if quiet else entry.severity,
                extension=extension,
                version=version_of(records),
                category=entry.category,
                title=f"Known message: {message_id}",
                explanation=entry.meaning,
                remediation=entry.remediation,
            )
        )
    return hits


def _stated(records: pl.DataFrame) -> str:
    """`exit_code 51, distro rhel 9.0`: the first value of each field the messages state."""
    parts = []
    for name in _SAID:
        values = records.get_column(name).drop_nulls()
        if values.len():
            parts.append(f"{name.replace('_', ' ')} {values[0][:120]}")
    return ", ".join(parts)

"""Parsing only the records a stream keeps: the others leave their time, level and extension.

An analysis keeps few of a big log's records (those some rule may read) and of the rest only
counts them per minute, level and extension (`loglens.summaries`). Folding and finishing every
record only to let most go cost most of a chunk's time and memory, so a stream can name the
records it wants whole (`Selection`) and get the rest as `SUMMARY_COLUMNS` only, read off their
headers (`parsers.waagent.parse_chunk`).

The choice is made on each physical line, before the lines are folded into records, so it must
be a superset of what the consumer keeps on the finished records: a record is chosen when any of
its lines matches `Selection.pattern` anywhere (a pattern anchored at the message start, `^`,
loses its anchor here: the header comes before the message in the line) or its level is one of
`Selection.levels`. Agent `Event:` records are always chosen: their extension is read from the
event, not the header. A chunk with lines the parse treats specially (unparsed, wrapped by
another program) is parsed whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import polars as pl

from parsers import schema
from parsers.timezones import VmTimezone
from parsers.waagent_format import FORMS
from parsers.waagent_stamps import utc

#: What a stream keeps of a record it did not parse in full: enough for the summaries' spans and
#: timeline (`parsers.schema.WAAGENT_COLUMNS` names and types).
SUMMARY_COLUMNS = ("source_path", "timestamp", "level", "extension", "extension_version")
#: Always chosen: an event names its extension in its text (`parsers.event_fields`).
_EVENT = "Event: "


@dataclass(frozen=True)
class Selection:
    """The records a stream wants parsed in full.

    Attributes:
        pattern: a regular expression; a record with a line that matches it is chosen.
        levels: a record at one of these levels is chosen.
        after_bytes: chunks that begin within this many bytes of the stream's start are parsed
            whole (a small input is held whole by its consumer).
    """

    pattern: str
    levels: tuple[str, ...]
    after_bytes: int = 0

    @cached_property
    def line_pattern(self) -> str:
        """`pattern` tried anywhere in a line (anchors at the start dropped), or an event; worked
        out once, not per chunk (the keep pattern is 29,000 characters)."""
        return f"(?:{unanchored(self.pattern)})|{_EVENT}"


@dataclass(frozen=True)
class SelectedRecords:
    """One chunk parsed through a `Selection`.

    Attributes:
        records: the chosen records, every `WAAGENT_COLUMNS` column, and `row`: the record's
            number in the chunk (from 0, counting every record, chosen or not).
        others: the other records' `SUMMARY_COLUMNS`, in chunk order.
        rows: every record of the chunk.
    """

    records: pl.DataFrame
    others: pl.DataFrame
    rows: int

    @classmethod
    def whole(cls, records: pl.DataFrame) -> SelectedRecords:
        """Every record of a chunk parsed in full (numbered here)."""
        return cls(records.with_row_index("row"), _no_summaries(), records.height)

    @property
    def complete(self) -> bool:
        """True when every record of the chunk is in `records`."""
        return self.others.height == 0

    def summary_rows(self) -> pl.DataFrame:
        """`SUMMARY_COLUMNS` of every record of the chunk (chosen ones first)."""
        if self.complete:
            return self.records.select(SUMMARY_COLUMNS)
        return pl.concat([self.records.select(SUMMARY_COLUMNS), self.others])

    def timestamps(self) -> pl.Series:
        """Every record's time (chosen ones first)."""
        return pl.concat([self.records.get_column("timestamp"), self.others.get_column("timestamp")])


def unanchored(pattern: str) -> str:
    """``pattern`` with its start anchors (`^`) dropped, so that it matches more, never less.

    A `^` that is escaped or inside a character class (a negated class, `[^ ]`) is not an anchor
    and stays; classes may nest, as the regex syntax Polars uses allows.
    """
    out, at, depth = [], 0, 0
    while at < len(pattern):
        char = pattern[at]
        if char == "\\":
            out.append(pattern[at : at + 2])
            at += 2
            continue
        if char == "[":
            depth += 1
            out.append(char)
            at += 1
            # A class's first `^` negates it, and a `]` right after the opening is a literal.
            for literal in ("^", "]"):
                if pattern.startswith(literal, at):
                    out.append(literal)
                    at += 1
            continue
        if char == "]" and depth:
            depth -= 1
        elif char == "^" and not depth:
            at += 1
            continue
        out.append(char)
        at += 1
    return "".join(out)


def chosen(lines: pl.DataFrame, owner: pl.Series, levels: pl.Series, selection: Selection) -> pl.Series:
    """Per record (in order), whether it is chosen.

    Args:
        lines: the chunk's lines (`text`), every one a record start or its continuation.
        owner: each line's record (numbered from 0, in line order).
        levels: each line's level (null on continuations).
    """
    hit = lines.select(pl.col("text").str.contains(selection.line_pattern)).to_series()
    hit = hit | levels.is_in(selection.levels).fill_null(False)
    records = 0 if owner.is_empty() else int(owner[-1]) + 1
    return pl.repeat(False, records, eager=True).scatter(owner.filter(hit), True)


def summary_of(starts: pl.DataFrame, table: pl.DataFrame, source_path: str, zone: VmTimezone) -> pl.DataFrame:
    """`SUMMARY_COLUMNS` of records from their start lines (`header`, and `wall_clock` stamped), as
    the whole parse gives them: header fields from the header ``table``, times made UTC."""
    header = starts["header"]
    frame = pl.DataFrame(
        {
            "source_path": pl.repeat(source_path, starts.height, dtype=pl.String, eager=True),
            "timestamp": utc(starts["wall_clock"], table["form"].gather(header) == _ISO, zone),
            "level": table["level"].gather(header),
            "extension": table["prefix_ext"].gather(header),
            "extension_version": table["extension_version"].gather(header),
        }
    )
    return schema.conform(frame, _SUMMARY_SCHEMA)


_SUMMARY_SCHEMA = tuple(c for c in schema.WAAGENT_COLUMNS if c.name in SUMMARY_COLUMNS)
_ISO = FORMS.index("agent-iso")


@cache
def _no_summaries() -> pl.DataFrame:
    return schema.empty_frame(_SUMMARY_SCHEMA)

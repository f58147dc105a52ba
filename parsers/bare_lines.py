"""Agent lines posted without their timestamps.

Two shapes: the 2.0 agent's `ERROR:Exception: ...` (every line of a traceback its own `ERROR:`
line), and 2.1-2.2 legacy lines whose stamp the poster cut off, `INFO [Microsoft.OSTCExtensions.
LinuxDiagnostic-2.3.9027] Use version: 2.3.9027` (a level word, then the legacy header's process
or extension prefix, or an `Event:`). Such a chunk has no timestamped header at all (or, for the
stripped shape, not before these lines), so the main grammar finds nothing; here each such line
starts a record (level, process, extension and version kept, no time); a 2.0 record takes the
lines after it, a stripped one none. Only such chunks come here, so a normal log's `ERROR:` lines
inside command output are never split off.
"""

from __future__ import annotations

import polars as pl
import regex

from parsers import schema
from parsers.event_fields import event_columns
from parsers.folding import ELISIONS, fold
from parsers.waagent_format import EXT_PREFIX, LEVELS

#: `ERROR:<message>` and the other levels the 2.0 agent glued to its messages.
BARE = r"^(?:VERBOSE|INFO|WARNING|ERROR):"
#: A legacy agent line without its stamp: level, then `Daemon`, `ExtHandler`, `[ext-ver]` or `Event:`.
STRIPPED = rf"^(?:{LEVELS}) (?:Daemon |ExtHandler |{regex.sub(r'[?]P<[a-z]+>', '?:', EXT_PREFIX)} |Event: )"
#: Its header, cut off the message (`Event:` stays: it is the message).
_STRIPPED_HEADER = rf"^(?P<level>{LEVELS}) (?:(?P<process>Daemon|ExtHandler) |{EXT_PREFIX} )?"


def parse_bare(lines: pl.DataFrame, source_path: str) -> tuple[pl.DataFrame, tuple[int, int, int]] | None:
    """Records of a chunk of bare `LEVEL:` lines (columns `line_no`, `text`); None when it has none.

    Returns:
        The records (`WAAGENT_COLUMNS`) and the counts (records, continuations, unparsed).
    """
    text = lines.get_column("text")
    is_bare, is_stripped = text.str.contains(BARE), text.str.contains(STRIPPED)
    is_start = is_bare | is_stripped
    if not is_start.any():
        return None
    # Only a 2.0 `LEVEL:` record takes the lines after it (its traceback); after a stripped legacy
    # line a poster's other text follows (`waagent -version` output, a prompt): it stays unparsed.
    after_bare = pl.select(pl.when(is_start).then(is_bare).forward_fill().fill_null(False)).to_series()
    takes = ~is_start & after_bare & ~text.is_in(ELISIONS)
    starts = lines.filter(is_start)
    continuations = lines.filter(takes)
    orphans = lines.filter(~is_start & ~takes)
    header = pl.col("text").str.extract_groups(_STRIPPED_HEADER)
    records = fold(starts, continuations, "text").with_columns(
        level=pl.coalesce(pl.col("text").str.extract(r"^(\w+):", 1), header.struct.field("level")),
        process=header.struct.field("process"),
        prefix_ext=header.struct.field("ext"),
        extension_version=header.struct.field("ver"),
        message=pl.col("text").str.replace(BARE, "").str.replace(_STRIPPED_HEADER, ""),
        line_format=pl.when(pl.col("text").str.contains(BARE)).then(pl.lit("agent-bare")).otherwise(pl.lit("agent-legacy")),
    )
    records = records.with_columns(**event_columns(records))
    unparsed = orphans.select(line_first="line_no", line_last="line_no", message="text", line_format=pl.lit("unparsed"))
    frame = pl.concat([schema.conform(f, schema.WAAGENT_COLUMNS) for f in (records, unparsed)]).sort("line_first")
    frame = frame.with_columns(source_path=pl.lit(source_path), timestamp_local_assumed=pl.lit(False))
    return frame, (starts.height, continuations.height, orphans.height)

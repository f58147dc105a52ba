"""Agent lines posted without their timestamps: `ERROR:Exception: ...` (agent 2.0 text).

People paste the 2.0 agent's output with the time cut off, every line of a traceback its own
`ERROR:` line. Such a chunk has no timestamped header at all, so the main grammar finds nothing;
here each `LEVEL:` line starts a record (level kept, no time) and any other line continues it.
Only chunks without a single timestamped header come here, so a normal log's `ERROR:` lines
inside command output are never split off.
"""

from __future__ import annotations

import polars as pl

from parsers import schema
from parsers.folding import fold

#: `ERROR:<message>` and the other levels the 2.0 agent glued to its messages.
BARE = r"^(?:VERBOSE|INFO|WARNING|ERROR):"


def parse_bare(lines: pl.DataFrame, source_path: str) -> tuple[pl.DataFrame, tuple[int, int, int]] | None:
    """Records of a chunk of bare `LEVEL:` lines (columns `line_no`, `text`); None when it has none.

    Returns:
        The records (`WAAGENT_COLUMNS`) and the counts (records, continuations, unparsed).
    """
    text = lines.get_column("text")
    is_start = text.str.contains(BARE)
    if not is_start.any():
        return None
    started = is_start.cum_sum() > 0
    starts = lines.filter(is_start)
    continuations = lines.filter(~is_start & started)
    orphans = lines.filter(~started)
    records = fold(starts, continuations, "text").with_columns(
        level=pl.col("text").str.extract(r"^(\w+):", 1),
        message=pl.col("text").str.replace(BARE, ""),
        line_format=pl.lit("agent-bare"),
    )
    unparsed = orphans.select(line_first="line_no", line_last="line_no", message="text", line_format=pl.lit("unparsed"))
    frame = pl.concat([schema.conform(f, schema.WAAGENT_COLUMNS) for f in (records, unparsed)]).sort("line_first")
    frame = frame.with_columns(source_path=pl.lit(source_path), timestamp_local_assumed=pl.lit(False))
    return frame, (starts.height, continuations.height, orphans.height)

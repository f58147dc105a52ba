"""One view over every log-like frame, so a rule can search all sources with one expression.

`records(frames)` stacks the common columns of the waagent, extension log, status and instance
view frames, with the source kind. `CommandExecution.log` is left out when waagent.log is
present: it is a copy of the agent's extension-scoped lines, and would count every event twice.
"""

from __future__ import annotations

import polars as pl

from parsers.schema import COMMON_COLUMNS

#: Frames whose rows are log records or status snapshots, and the kind each becomes.
RECORD_FRAMES = {
    "waagent": "waagent",
    "command_execution": "command_execution",
    "extension_logs": "extension_log",
    "status": "status",
    "instance_view": "instance_view",
    "control_plane": "control_plane",
}
COMMON = [c.name for c in COMMON_COLUMNS]


def columns(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Some columns of a big frame without copying them.

    An eager `select` of a many-chunk frame rechunks, which copies every string column (about
    0.8x the input for a waagent frame); building the frame from the columns themselves does not.
    """
    return pl.DataFrame([frame.get_column(name) for name in names])


def records(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Common columns of every record frame plus `kind` (which frame) and `record` (row number).

    Args:
        frames: the named frames of a load result.

    Returns:
        One frame, in frame order then row order; `record` numbers its rows from 0.
    """
    parts = []
    for name, kind in RECORD_FRAMES.items():
        frame = frames.get(name)
        if frame is None or frame.height == 0:
            continue
        if name == "command_execution" and frames.get("waagent") is not None and frames["waagent"].height:
            continue
        parts.append(columns(frame, COMMON).with_columns(kind=pl.lit(kind)))
    if not parts:
        schema = {**{c.name: c.dtype for c in COMMON_COLUMNS}, "kind": pl.String}
        return pl.DataFrame(schema=schema).with_row_index("record")
    return pl.concat(parts, how="vertical").with_row_index("record")

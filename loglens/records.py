"""One view over every log-like frame, so a rule can search all sources with one expression.

`record_parts(frames, rows)` gives the common columns of the waagent, extension log, status and
instance view frames, with the source kind and a record number, part by part; the context stacks
them. `CommandExecution.log` is left out when waagent.log is present: it is a copy of the agent's
extension-scoped lines, and would count every event twice.
"""

from __future__ import annotations

import polars as pl

from parsers.schema import COMMON_COLUMNS

#: Frames whose rows are log records or status snapshots, and the kind each becomes.
#: Frame -> record kind, in record-number order: `waagent` first, so a streamed row number is its
#: record number (`context.build_contexts` relies on it).
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


def empty_view() -> pl.DataFrame:
    """The record view with no rows: `record`, the common columns and `kind`."""
    return pl.DataFrame(schema={"record": pl.UInt32, **{c.name: c.dtype for c in COMMON_COLUMNS}, "kind": pl.String})


def record_parts(frames: dict[str, pl.DataFrame], waagent_rows: int) -> dict[str, pl.DataFrame]:
    """Kind -> that frame's part of the record view (non-empty parts only), `record` numbering the
    rows of the whole load from 0 in `RECORD_FRAMES` order.

    Args:
        frames: the named frames of a load; its `waagent` frame holds the rows the pipeline kept
            (`loglens.pipeline`) out of ``waagent_rows``, each with its row number in a `row`
            column: that number is its `record`, and the frames after it are numbered as if
            every agent row were there.
    """
    parts, first = {}, 0
    for name, kind in RECORD_FRAMES.items():
        frame = frames.get(name)
        if frame is None:
            continue
        if name == "command_execution" and (waagent_rows or frames["waagent"].height):
            continue
        agent = name == "waagent"
        if frame.height:
            if agent:
                number = frame.get_column("row").cast(pl.UInt32) + first
            else:
                number = pl.int_range(first, first + frame.height, dtype=pl.UInt32, eager=True)
            part = columns(frame, COMMON).with_columns(kind=pl.lit(kind))
            parts[kind] = part.insert_column(0, number.alias("record"))
        first += waagent_rows if agent else frame.height
    return parts

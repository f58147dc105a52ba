"""Operation lines paired into operations a part at a time (`loglens.operations.measure`).

An operation's ends are the nearest lines after its start: the next end line of its extension
(`Command:`, the error `Event:`, or the extension's next start), the next goal-state end and the
next all-done line of its file (`loglens.operations`). The nearest line after a start among all the
lines is the earliest of the nearest in each part of them, so the lines can be paired a part (a
chunk of the stream) at a time: each part's starts become operations, and its lines end sooner
the operations (its own, and those of the parts before) whose ends they come before. Of lines at
the same time the one read first wins, and an end line over a next start, as one stable sort of
all the lines did.

Which operations a part's lines can end sooner is told by time spans per key (`_touches`): in a log
read oldest first, a part's lines reach only its own operations and those the part before left
open. So the measurement never holds more lines than one part's, nor joins all operations at once
(on a 2 GB log the four whole selections and their joins were the analysis' second memory peak).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import polars as pl

from loglens.knowledge import BACKGROUND_ENABLE, handler_of

_AGENT_KINDS = ["waagent", "command_execution"]
#: Per kind of best line: its columns (the first is its time), the keys it pairs by, and whether a
#: line at the start's own time may end it (only the all-done line, as operations were always paired).
_BEST = {
    "end": ("end_time", "end_record", "end_failed", "end_closing"),
    "goal": ("goal_time", "goal_record"),
    "done": ("all_done_time",),
}
_KEYS = {"end": ["ext_code"], "goal": ["source_code"], "done": ["source_code"]}
_EXACT = {"end": False, "goal": False, "done": True}
#: Per kind and key: the earliest and latest time (None: open-ended).
Spans = dict[str, dict[tuple, tuple]]


def pair(count: int, read: Callable[[int], pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The operations of ``count`` parts of operation lines (`loglens.operations.lines`, in reading
    order; ``read(i)`` gives part i), a frame per part that holds starts, each sorted by `started`,
    with their best end, goal-state and all-done lines (`_BEST`; all-done for background enables
    only, the only ones it ends). Each part is read once, and again only when the starts of a later
    part may be ended by its lines (a clock set back, files out of order)."""
    operations: list[pl.DataFrame] = []
    reach: list[Spans] = []
    seen: list[Spans] = []  # per part read, its lines' spans
    for at in range(count):
        starts, near = _selections(read(at))
        spans = _spans(near)
        # The lines read before this part that may end its starts sooner, in reading order.
        opened = _reach(starts)
        for before in range(at):
            if kinds := _touches(opened, seen[before]):
                starts = _nearer(starts, _selections(read(before), starts=False)[1], kinds)
        operations.append(starts)
        reach.append(_reach(starts))
        seen.append(spans)
        # This part's lines, for its own operations and those of the parts before.
        for held in range(at + 1):
            if kinds := _touches(reach[held], spans):
                operations[held] = _nearer(operations[held], near, kinds)
                reach[held] = _reach(operations[held])
    # Handed out one at a time, each let go here as it goes.
    operations.reverse()
    while operations:
        frame = operations.pop()
        if frame.height:
            yield frame


def _selections(lines: pl.DataFrame, *, starts: bool = True) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """The starts of ``lines`` as operations not yet ended (with ``starts``), and per kind of best
    line the lines that may end one, sorted by time (stable: of lines at the same time, the first read)."""
    codes = {"ext_code": pl.col("extension").to_physical(), "source_code": pl.col("source_path").to_physical()}
    lines = lines.with_columns(**codes)
    agent = pl.col("kind").is_in(_AGENT_KINDS)
    extension = agent & pl.col("extension").is_not_null()
    is_start = extension & pl.col("is_start")
    end_columns = {"end_record": "record", "end_time": "timestamp"}
    # The next start of an extension ends its operation too; of lines at the same time, an end line first.
    ends = pl.concat(
        [
            lines.filter(extension & pl.col("is_end")).select(
                "ext_code", "end_failed", end_closing=pl.lit(False), **end_columns
            ),
            lines.filter(is_start).select(
                "ext_code", end_failed=pl.lit(False), end_closing=pl.lit(True), **end_columns
            ),
        ]
    )
    near = {
        "end": ends,
        "goal": lines.filter(agent & pl.col("is_goal_done")).select(
            "source_code", goal_record="record", goal_time="timestamp"
        ),
        "done": lines.filter("is_all_done").select("source_code", all_done_time="timestamp"),
    }
    near = {kind: frame.sort(_BEST[kind][0], maintain_order=True) for kind, frame in near.items()}
    if not starts:
        return pl.DataFrame(), near
    extension_name = pl.col("extension").cast(pl.String)
    found = lines.filter(is_start).select(
        *_START_COLUMNS,
        *codes,
        started="timestamp",
        background=handler_of(extension_name).is_in(BACKGROUND_ENABLE) & (pl.col("operation") == "Enable"),
    )
    unended = found.sort("started", maintain_order=True).with_columns(
        pl.lit(None, near[kind].schema[name]).alias(name) for kind, names in _BEST.items() for name in names
    )
    return unended, near


#: A start's columns an operation keeps.
_START_COLUMNS = ("record", "source_path", "line_first", "extension", "extension_version", "operation", "message")


def _spans(near: dict[str, pl.DataFrame]) -> Spans:
    """Per kind and key, the first and last time of a part's lines."""
    out = {}
    for kind, frame in near.items():
        time = pl.col(_BEST[kind][0])
        spans = frame.group_by(_KEYS[kind]).agg(first=time.min(), last=time.max())
        out[kind] = {tuple(row[:-2]): row[-2:] for row in spans.iter_rows()}
    return out


def _reach(operations: pl.DataFrame) -> Spans:
    """Per kind and key, the earliest start and the latest best line of ``operations`` (None when one
    has none yet): a part's lines outside it cannot end any of them sooner."""
    out = {}
    for kind, columns in _BEST.items():
        rows = operations.filter("background") if kind == "done" else operations
        best = pl.col(columns[0])
        spans = rows.group_by(_KEYS[kind]).agg(
            first=pl.col("started").min(), last=pl.when(best.null_count() == 0).then(best.max())
        )
        out[kind] = {tuple(row[:-2]): row[-2:] for row in spans.iter_rows()}
    return out


def _touches(reach: Spans, spans: Spans) -> tuple[str, ...]:
    """The kinds of best line that lines of ``spans`` may make sooner for an operation of ``reach``
    (conservative: a line at a start's own time, or at its best line's, counts)."""
    return tuple(kind for kind, of_kind in spans.items() if _overlap(reach[kind], of_kind))


def _overlap(reach: dict[tuple, tuple], spans: dict[tuple, tuple]) -> bool:
    for key, (first, last) in spans.items():
        if key in reach:
            start, best = reach[key]
            if last >= start and (best is None or first <= best):
                return True
    return False


def _nearer(operations: pl.DataFrame, near: dict[str, pl.DataFrame], kinds: tuple[str, ...]) -> pl.DataFrame:
    """``operations`` with their best lines of ``kinds`` replaced by ``near``'s nearest after the
    start, where sooner."""
    for kind in kinds:
        frame, columns = near[kind], _BEST[kind]
        if frame.height == 0:
            continue
        found = (
            operations.select("started", *_KEYS[kind])
            .join_asof(
                frame,
                left_on="started",
                right_on=columns[0],
                by=_KEYS[kind],
                strategy="forward",
                allow_exact_matches=_EXACT[kind],
                check_sortedness=False,
            )
            .select(pl.col(c).alias(f"{c}_near") for c in columns)
        )
        old, new = pl.col(columns[0]), pl.col(f"{columns[0]}_near")
        sooner = new.is_not_null() & (old.is_null() | (new < old))
        if kind == "end":
            # At the same time, an end line read later still wins over a next start read before it.
            same = (new == old) & pl.col("end_closing") & ~pl.col("end_closing_near")
            sooner = sooner | same.fill_null(False)
        if kind == "done":
            sooner = sooner & pl.col("background")
        operations = (
            operations.hstack(found)
            .with_columns(pl.when(sooner).then(pl.col(f"{c}_near")).otherwise(pl.col(c)).alias(c) for c in columns)
            .drop(f"{c}_near" for c in columns)
        )
    return operations

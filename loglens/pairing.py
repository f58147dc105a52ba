"""Operation lines paired into operations a part at a time, as the agent's log streams past.

An operation's ends are the nearest lines after its start, among the lines read with it or after
it: the next end line of its extension in its VM collection (`Command:`, the error `Event:`, or
the extension's next start), the next goal-state end and the next all-done line of its file
(`loglens.operations`). The nearest line among all of them is the earliest of the nearest in each
part, so the lines can be paired a part (a chunk) at a time and let go: each part's starts become
operations, and its lines end sooner every held operation (its own and those of the parts before)
whose ends they come before. Of lines at the same time the one read first wins, and an end line
over a next start. A part whose times go back (a clock set back, the next file) is paired as runs
that do not, so a line logged before a start never ends it, however the log is cut into chunks.

Which held operations a part's lines can end sooner is told by time spans per key (`_touches`): in
a log read oldest first, only those the part before left open. So the lines are let go as they
pass and the operations held compressed: memory grows with operations, not with lines (a 2 GB
log's 2.3 million operation lines were 29 MB packed and, measured at the end, its largest joins).
Only the lines a finding may cite are kept (`Pairing.citable`): those of operations that may be
slow or are still open when their lines are paired.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from loglens.knowledge import BACKGROUND_ENABLE, WARN_SHARE, handler_of, platform_limit
from loglens.packed import PackedFrame

_AGENT_KINDS = ["waagent", "command_execution"]
#: Per kind of best line: its columns (the first is its time), the keys it pairs by, and whether a
#: line at the start's own time may end it (only the all-done line, as operations were always paired).
_BEST = {
    "end": ("end_time", "end_record", "end_failed", "end_closing"),
    "goal": ("goal_time", "goal_record"),
    "done": ("all_done_time",),
}
_KEYS = {"end": ["group_code", "ext_code"], "goal": ["source_code"], "done": ["source_code"]}
_EXACT = {"end": False, "goal": False, "done": True}
#: Per kind and key: the earliest and latest time (None: open-ended).
Spans = dict[str, dict[tuple, tuple]]


@dataclass(frozen=True)
class _Held:
    """One part's operations (sorted by `started`; packed once a newer part is held) and their reach."""

    frame: pl.DataFrame | None
    packed: PackedFrame | None
    reach: Spans

    def read(self) -> pl.DataFrame:
        return self.frame if self.frame is not None else self.packed.read()

    @property
    def height(self) -> int:
        return self.frame.height if self.frame is not None else self.packed.height

    def packed_up(self) -> _Held:
        if self.frame is None:
            return self
        packed = PackedFrame(self.frame.schema)
        packed.add(self.frame)
        return _Held(None, packed, self.reach)


class Pairing:
    """Operations paired from the operation lines added so far (`add`), and the lines a finding
    may cite (`citable`).

    Example:
        >>> Pairing().height
        0
    """

    def __init__(self, held: tuple[_Held, ...] = (), citable: PackedFrame | None = None) -> None:
        self._held = list(held)
        self.citable = citable

    def add(self, lines: pl.DataFrame) -> None:
        """Pair ``lines`` (`loglens.operations.lines`, in reading order, with `group`: the VM collection)."""
        if self.citable is None:
            self.citable = PackedFrame(lines.drop("group").schema)
        for run in _runs(lines):
            self._add_run(run)
        # The newest part may still be ended by the next lines: it stays plain, the others packed.
        self._held[:-1] = [held.packed_up() for held in self._held[:-1]]

    def plus(self, lines: pl.DataFrame) -> Pairing:
        """A new pairing: these operations and lines (shared, not copied) with ``lines`` paired too."""
        citable = None if self.citable is None else self.citable.plus(pl.DataFrame(schema=self.citable.schema))
        more = Pairing(tuple(self._held), citable)
        more.add(lines)
        return more

    def parts(self, where: pl.Expr | None = None) -> Iterator[pl.DataFrame]:
        """The paired operations (rows ``where`` says), a part at a time, each sorted by `started`."""
        for held in self._held:
            frame = held.read()
            yield frame if where is None else frame.filter(where)

    @property
    def height(self) -> int:
        """Operations paired."""
        return sum(held.height for held in self._held)

    def _add_run(self, run: pl.DataFrame) -> None:
        starts, near = _selections(run)
        spans = _spans(near)
        if starts.height:
            self._held.append(_Held(starts, None, _reach(starts)))
        changed = [len(self._held) - 1] if starts.height else []
        for at, held in enumerate(self._held):
            if kinds := _touches(held.reach, spans):
                frame = _nearer(held.read(), near, kinds)
                self._held[at] = _Held(frame, None, _reach(frame))
                changed.append(at)
        # The lines of this run that operations a finding may cite start with or are ended by.
        cited = [
            self._held[at].read().filter(_may_be_cited()).select(record=pl.concat_list(_CITED_RECORDS))
            for at in dict.fromkeys(changed)
        ]
        if cited:
            records = pl.concat(cited).get_column("record").explode().drop_nulls()
            self.citable.add(run.drop("group").filter(pl.col("record").is_in(records.implode())))


#: The records of an operation's own lines: its start, its best end line and goal-state line.
_CITED_RECORDS = ["record", "end_record", "goal_record"]


def collection_of(placed: dict[str, str]) -> pl.Expr:
    """The `group` of operation lines: the VM collection of each line's file (``placed``, as
    `LoadResult.collections` gives it), the file itself when it is not placed."""
    path = pl.col("source_path").cast(pl.String)
    return path.replace_strict(placed, default=path, return_dtype=pl.String).cast(pl.Categorical)


def _runs(lines: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """``lines`` as runs whose times do not go back (one run, in a log read in order)."""
    back = (pl.col("timestamp") < pl.col("timestamp").shift(1)).fill_null(False)
    cuts = lines.select(back.arg_true()).to_series().to_list()
    bounds = [0, *cuts, lines.height]
    for first, end in itertools.pairwise(bounds):
        if end > first:
            yield lines.slice(first, end - first)


def _may_be_cited() -> pl.Expr:
    """Operations a finding may cite: slow by what ends them so far (a sooner end can only come
    later), or not ended yet. A background enable's handler may end it sooner still."""
    failed_end = pl.when(pl.col("end_failed")).then(pl.col("end_time"))
    ended = (
        pl.when(pl.col("background"))
        .then(pl.min_horizontal("all_done_time", failed_end))
        .otherwise(pl.min_horizontal("end_time", "goal_time"))
    )
    took = ended - pl.col("started")
    return took.is_null() | (took >= pl.col("slow_after"))


def _selections(lines: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """The starts of ``lines`` as operations not yet ended, and per kind of best line the lines
    that may end one, sorted by time (stable: of lines at the same time, the first read). One
    query: run beside the stream's parsing threads, each Polars call waits its turn."""
    codes = {
        "group_code": pl.col("group").to_physical(),
        "ext_code": pl.col("extension").to_physical(),
        "source_code": pl.col("source_path").to_physical(),
    }
    query = lines.lazy().with_columns(**codes)
    agent = pl.col("kind").is_in(_AGENT_KINDS)
    extension = agent & pl.col("extension").is_not_null()
    is_start = extension & pl.col("is_start")
    end_columns = {"end_record": "record", "end_time": "timestamp"}
    # The next start of an extension ends its operation too; of lines at the same time, an end line first.
    ends = pl.concat(
        [
            query.filter(extension & pl.col("is_end")).select(
                "group_code", "ext_code", "end_failed", end_closing=pl.lit(False), **end_columns
            ),
            query.filter(is_start).select(
                "group_code", "ext_code", end_failed=pl.lit(False), end_closing=pl.lit(True), **end_columns
            ),
        ]
    )
    near = {
        "end": ends,
        "goal": query.filter(agent & pl.col("is_goal_done")).select(
            "source_code", goal_record="record", goal_time="timestamp"
        ),
        "done": query.filter("is_all_done").select("source_code", all_done_time="timestamp"),
    }
    near = {kind: frame.sort(_BEST[kind][0], maintain_order=True) for kind, frame in near.items()}
    extension_name = pl.col("extension").cast(pl.String)
    found = query.filter(is_start).select(
        *_START_COLUMNS,
        *codes,
        started="timestamp",
        background=handler_of(extension_name).is_in(BACKGROUND_ENABLE) & (pl.col("operation") == "Enable"),
        slow_after=platform_limit(extension_name) * WARN_SHARE,
    )
    unended = found.sort("started", maintain_order=True).with_columns(
        pl.lit(None, _BEST_TYPES[name]).alias(name) for names in _BEST.values() for name in names
    )
    *frames, starts = pl.collect_all([*near.values(), unended])
    return starts, dict(zip(near, frames, strict=True))


#: A start's columns an operation keeps.
_START_COLUMNS = ("record", "source_path", "line_first", "extension", "extension_version", "operation", "message")
_BEST_TYPES = {
    "end_time": pl.Datetime("us", "UTC"),
    "end_record": pl.UInt32,
    "end_failed": pl.Boolean,
    "end_closing": pl.Boolean,
    "goal_time": pl.Datetime("us", "UTC"),
    "goal_record": pl.UInt32,
    "all_done_time": pl.Datetime("us", "UTC"),
}


def _spans(near: dict[str, pl.DataFrame]) -> Spans:
    """Per kind and key, the first and last time of a part's lines."""
    queries = []
    for kind, frame in near.items():
        time = pl.col(_BEST[kind][0])
        queries.append(frame.lazy().group_by(_KEYS[kind]).agg(first=time.min(), last=time.max()))
    return _by_key(near, pl.collect_all(queries))


def _reach(operations: pl.DataFrame) -> Spans:
    """Per kind and key, the earliest start and the latest best line of ``operations`` (None when one
    has none yet): a part's lines outside it cannot end any of them sooner."""
    queries = []
    for kind, columns in _BEST.items():
        rows = operations.lazy().filter("background") if kind == "done" else operations.lazy()
        best = pl.col(columns[0])
        queries.append(
            rows.group_by(_KEYS[kind]).agg(
                first=pl.col("started").min(), last=pl.when(best.null_count() == 0).then(best.max())
            )
        )
    return _by_key(_BEST, pl.collect_all(queries))


def _by_key(kinds, frames: list[pl.DataFrame]) -> Spans:
    """Per kind (in the order of ``kinds``), its frame of keys, first and last as a dict."""
    return {
        kind: {tuple(row[:-2]): row[-2:] for row in frame.iter_rows()}
        for kind, frame in zip(kinds, frames, strict=True)
    }


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
    start, where sooner (one query)."""
    query = operations.lazy()
    for kind in kinds:
        frame, columns = near[kind], _BEST[kind]
        if frame.height == 0:
            continue
        right = frame.lazy().rename({c: f"{c}_near" for c in columns})
        query = query.join_asof(
            right,
            left_on="started",
            right_on=f"{columns[0]}_near",
            by=_KEYS[kind],
            strategy="forward",
            allow_exact_matches=_EXACT[kind],
            check_sortedness=False,
        )
        old, new = pl.col(columns[0]), pl.col(f"{columns[0]}_near")
        sooner = new.is_not_null() & (old.is_null() | (new < old))
        if kind == "end":
            # At the same time, an end line read later still wins over a next start read before it.
            same = (new == old) & pl.col("end_closing") & ~pl.col("end_closing_near")
            sooner = sooner | same.fill_null(False)
        if kind == "done":
            sooner = sooner & pl.col("background")
        query = query.with_columns(
            pl.when(sooner).then(pl.col(f"{c}_near")).otherwise(pl.col(c)).alias(c) for c in columns
        ).drop(f"{c}_near" for c in columns)
    return query.collect()

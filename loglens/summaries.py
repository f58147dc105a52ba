"""What outlives the records in a streamed analysis: when each name was seen, and records per minute.

Versions, facts and the events chart once read every record; they need only two summaries,
which chunks of records give part by part and `combine_*` merge (min, max and sums do not care
in which order the parts come):

- **spans** (`schema.SPAN_COLUMNS`): per source, extension and extension version (nulls included), the first and last
  timestamp and the number of records;
- **timeline** (`schema.TIMELINE_COLUMNS`): per source, minute and level, the number of timestamped records.

A fully loaded analysis builds them from its whole record view with the same functions, so both
ways give the same frames.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import polars as pl

from loglens.schema import SPAN_COLUMNS, TIMELINE_COLUMNS, conform
from parsers.schema import LEVELS

SPAN_KEYS = ["source_path", "extension", "extension_version"]
TIMELINE_KEYS = ["source_path", "minute", "level"]


def spans(records: pl.DataFrame) -> pl.DataFrame:
    """`SPAN_KEYS`, `first_seen`, `last_seen` (null when no record had a time) and `records`."""
    return records.group_by(SPAN_KEYS).agg(
        first_seen=pl.col("timestamp").min(), last_seen=pl.col("timestamp").max(), records=pl.len()
    )


def timeline(records: pl.DataFrame) -> pl.DataFrame:
    """`TIMELINE_KEYS` and `count`: timestamped records per source, minute and level."""
    return (
        records.filter(pl.col("timestamp").is_not_null())
        .group_by(pl.col("source_path"), pl.col("timestamp").dt.truncate("1m").alias("minute"), pl.col("level"))
        .agg(count=pl.len())
        .with_columns(pl.col("source_path").cast(pl.Categorical))
    )


def combine_spans(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """One spans frame (`SPAN_COLUMNS`) from several, sorted so that equal inputs give equal frames."""
    combined = (
        pl.concat(parts)
        .group_by(SPAN_KEYS)
        .agg(pl.col("first_seen").min(), pl.col("last_seen").max(), pl.col("records").sum())
        .sort(SPAN_KEYS, nulls_last=True)
    )
    return conform(combined, SPAN_COLUMNS)


def combine_timeline(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """One timeline frame (`TIMELINE_COLUMNS`) from several, sorted by minute, source and level
    (nulls last)."""
    frame = pl.concat(parts)
    # Sorted on one integer that orders as the three keys do, and runs of equal keys (a minute cut
    # by a chunk boundary) summed by a running total, with no hash table. A noisy 2 GB log's 1.2
    # million rows in 66 parts: grouped on the keys (the path a string then) 0.9 s and +250 MB,
    # grouped on the integer 0.3 s and +200 MB, this way 0.17 s and +110 MB; and parts already in
    # order (`Piled`'s runs) are not sorted again: 0.08 s and +77 MB. The path is a categorical,
    # whose codes follow first sight: its dense rank orders it by text.
    places = frame.select(pl.col("source_path").n_unique()).item() + 2
    source = pl.col("source_path").rank("dense").cast(pl.UInt64).fill_null(places - 1)
    level = pl.col("level").to_physical().cast(pl.UInt64).fill_null(len(LEVELS))
    epoch = pl.col("minute").dt.epoch("s") // 60
    first, last = frame.select(epoch.min().alias("first"), epoch.max().alias("last")).row(0)
    minute = (epoch - (first or 0)).cast(pl.UInt64).fill_null((last or 0) - (first or 0) + 1)
    frame = frame.with_columns(((minute * places + source) * (len(LEVELS) + 1) + level).alias("_key"))
    if not frame.get_column("_key").is_sorted():
        frame = frame.sort("_key")
    # Equal keys are neighbours now: each run of them becomes its last row, counting the run.
    key = pl.col("_key")
    if frame.select((key == key.shift(1)).any()).item():
        total = pl.col("count").cast(pl.UInt64).cum_sum()
        frame = frame.with_columns(total.alias("_total")).filter((key != key.shift(-1)).fill_null(True))
        frame = frame.with_columns(count=pl.col("_total") - pl.col("_total").shift(1).fill_null(0)).drop("_total")
    return conform(frame.drop("_key"), TIMELINE_COLUMNS)


class Piled:
    """Parts of one summary as a stream's chunks give them, combined as they pile up: every
    ``fanouts[0]`` new parts into a run, every ``fanouts[1]`` runs into one, and so on; so they stay
    few whatever the size, and no combine while the stream runs is of everything.

    Combined all at once every 64 chunks, a noisy 2 GB log's timeline (1.2 million rows at its
    64th chunk) cost a +110-200 MB transient while two chunks were parsing: the stream's peak.

    `add` may be called from any thread; `settle` and `combined` from one (the stream's reader).
    """

    def __init__(
        self, combine: Callable[[list[pl.DataFrame]], pl.DataFrame], empty: pl.DataFrame, fanouts: tuple[int, ...]
    ) -> None:
        self._combine = combine
        self._empty = empty
        self._fanouts = fanouts
        self._fresh: list[pl.DataFrame] = []
        # Older levels hold the bigger runs; each level's runs are in the order they were made.
        self._levels: list[list[pl.DataFrame]] = [[] for _ in fanouts]
        self._lock = threading.Lock()

    def add(self, part: pl.DataFrame) -> None:
        """One chunk's part."""
        with self._lock:
            self._fresh.append(part)

    def settle(self) -> None:
        """Combine the parts and runs that have piled up to their level's fanout."""
        with self._lock:
            if len(self._fresh) < self._fanouts[0]:
                return
            fresh, self._fresh = self._fresh, []
        self._levels[0].append(self._combine(fresh))
        for level, fanout in enumerate(self._fanouts[1:]):
            if len(self._levels[level]) >= fanout:
                self._levels[level + 1].append(self._combine(self._levels[level]))
                self._levels[level] = []

    def combined(self) -> pl.DataFrame:
        """Every part added, combined into one (kept as the only run: asked again, it costs nothing)."""
        with self._lock:
            fresh, self._fresh = self._fresh, []
        runs = [run for level in reversed(self._levels) for run in level]
        one = runs[0] if len(runs) == 1 and not fresh else self._combine(runs + fresh or [self._empty])
        self._levels = [[] for _ in self._fanouts]
        self._levels[-1].append(one)
        return one


def of_paths(frame: pl.DataFrame, paths: list[str]) -> pl.DataFrame:
    """The rows of some sources (one collection's)."""
    return frame.filter(pl.col("source_path").is_in(paths))

"""The context of one VM collection: its parser frames plus every derived frame, each built once.

Rules read a `Context` (and the types in `loglens.findings`), never the engine; reports read the
same contexts through `loglens.engine.Analysis`. Derived frames are cached properties, so a frame
no rule or report asks for is never computed, and one that several ask for is computed once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from loglens import facts, operations, versions
from loglens.knowledge import BANNER
from loglens.records import records as record_view
from parsers import LoadResult, SourceAccount

#: Levels whose records every rule and the "other errors" list may need.
PROBLEM_LEVELS = ["ERROR", "WARNING", "CRITICAL"]


@dataclass
class Context:
    """What a rule's `detect` sees, for one VM collection.

    Attributes:
        collection: the collection's name (`LoadResult.collections`).
        frames: its parser frames.
        all_records: its whole record view (`loglens.records`).
        records: the record view narrowed to records some rule's triggers match, errors and
            warnings, and every status and instance-view row.
        accounts: its sources' line accounting.
    """

    collection: str
    frames: dict[str, pl.DataFrame]
    all_records: pl.DataFrame
    records: pl.DataFrame
    accounts: list[SourceAccount] = field(default_factory=list)

    @cached_property
    def log_ends(self) -> pl.DataFrame:
        """Per source path, its last record time, from the parsers' accounting (no pass over records)."""
        return pl.DataFrame(
            [(a.path, a.last_time) for a in self.accounts if a.last_time is not None],
            schema={"source_path": pl.String, "log_end": pl.Datetime("us", "UTC")},
            orient="row",
        )

    @cached_property
    def operations(self) -> pl.DataFrame:
        """The `operations` derived frame of this collection."""
        measured = operations.measure(self.frames, self.records, self.log_ends)
        return measured.select(pl.lit(self.collection, pl.String).alias("collection"), pl.all())

    @cached_property
    def versions(self) -> pl.DataFrame:
        """The `versions` derived frame of this collection."""
        spans = versions.versions(self.all_records)
        return spans.select(pl.lit(self.collection, pl.String).alias("collection"), pl.all())

    @cached_property
    def facts(self) -> pl.DataFrame:
        """The `facts` derived frame of this collection (one row)."""
        return facts.vm_facts(self.collection, self.frames, self.all_records, self.records)

    def search(
        self, pattern: str, *, kinds: tuple[str, ...] | None = None, words: tuple[str, ...] = ()
    ) -> pl.DataFrame:
        """Records whose message matches ``pattern`` (Rust regex), optionally from some kinds only.

        ``words``: literal words (ASCII case-insensitive) of which every match contains one. They
        are found with one Aho-Corasick pass first, so an expensive pattern runs on few rows.
        """
        frame = self.records if kinds is None else self.records.filter(pl.col("kind").is_in(kinds))
        if words:
            frame = frame.filter(pl.col("message").str.contains_any(list(words), ascii_case_insensitive=True))
        return frame.filter(pl.col("message").str.contains(pattern))


def build_contexts(load: LoadResult, triggers: list[str]) -> tuple[pl.DataFrame, list[Context]]:
    """The load's record view (built once) and one context per collection, in load order.

    Args:
        load: what the parsers read.
        triggers: the patterns of the rules that will run; records none of them matches are
            left out of each context's narrowed `records` (errors and warnings stay).
    """
    records = record_view(load.frames)
    # The operation and banner lines are always kept: the timeline and the facts read them whatever rules run.
    narrowed = _narrow(records, [*triggers, operations.TRIGGERS, BANNER])
    parts = load.by_collection()
    if len(parts) == 1:
        ((name, part),) = parts.items()
        return records, [Context(name, part.frames, records, narrowed, list(part.accounts))]
    contexts = []
    for name, part in parts.items():
        mine = pl.col("source_path").is_in([a.path for a in part.accounts])
        contexts.append(Context(name, part.frames, records.filter(mine), narrowed.filter(mine), list(part.accounts)))
    return records, contexts


def _narrow(records: pl.DataFrame, triggers: list[str]) -> pl.DataFrame:
    """One pass of every trigger over all records (a DFA), then the rows rules may need."""
    pattern = "|".join(f"(?:{t})" for t in triggers)
    keep = (
        pl.col("message").str.contains(pattern)
        | pl.col("level").is_in(PROBLEM_LEVELS)
        | pl.col("kind").is_in(["status", "instance_view"])
    ).fill_null(False)
    # A regex pass runs on one core; two halves in two threads use both (Polars releases the GIL).
    half = (records.height + 1) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        masks = list(
            pool.map(lambda part: part.select(keep).to_series(), (records.slice(0, half), records.slice(half)))
        )
    return records.filter(pl.concat(masks))

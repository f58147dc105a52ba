"""Which records a load keeps for the rules, and which of them are notable.

A big log is read as a stream (`loglens.pipeline`): each chunk keeps only the records some rule
may read (`Keep`, one pass of the catalogue's anchors), and the routine lines between two notable
ones are thinned (`loglens.routine`). The records of the other sources are narrowed the same way
after the load (`narrow`), and the kept records' catalogue messages found once (`tag_kept`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import polars as pl

import catalogue
from catalogue.match import Found, anchor_pattern, found_in
from loglens import operations, routine
from loglens.findings import Rule, covers
from loglens.knowledge import BANNER, PROBLEM_LEVELS


@dataclass(frozen=True)
class Keep:
    """Which records a load keeps for the rules.

    A record is kept when it holds an anchor of a catalogue message some rule may read (`ids`:
    every problem or benign message, and the context messages the rules declare), found in one
    pass; errors and warnings, operation and banner lines (the timeline and facts read them
    whatever rules run) are kept whatever they say. The full patterns run later, once, over the
    kept records (`tag_kept`): run per chunk, their fixed cost per entry made the stream 2 s slower.
    """

    expression: pl.Expr
    ids: tuple[str, ...]
    #: What `expression` looks for in a message (besides a problem level).
    pattern: str
    #: Of the kept records, those some rule reads for themselves: a problem level, or an anchor of a
    #: message that is not the steady chatter of a healthy agent (`ORDINARY`). The routine operation
    #: lines between two of them are thinned (`loglens.routine.thin_routine`).
    notable: pl.Expr
    #: Notable records that may tell of the WireServer connection alone (`routine.ConnectionLines`).
    connection: pl.Expr


#: The catalogue messages of a healthy agent's steady chatter: every goal state's operation lines,
#: heartbeats, the handler's launch, and mentions of names. Lines of these alone are not `Keep.notable`.
ORDINARY = (
    "mention.",
    "ext.command-start",
    "ext.goal-state-converged",
    "wire.goal-state-processed",
    "agent.heartbeat",
    "agent.banner-goal-state-agent",
    "agent-update.launched",
    "agent-update.launch-succeeded",
)


def keep_for(rules: list[Rule], *, always: pl.Expr | None = None) -> Keep:
    """What a run of ``rules`` keeps (`Keep`); ``always`` adds records kept whatever they say."""
    ids = kept_messages(tuple(m for rule in rules for m in rule.messages))
    # The operation and banner lines are always kept: the timeline and the facts read them whatever
    # rules run. One regex with the anchors in it: 0.13 s on 60 MB of agent log, where the same
    # words as a second pass (or an Aho-Corasick `contains_any`) made it 0.19 s.
    words = [operations.TRIGGERS, BANNER]
    pattern = "|".join([*(f"(?:{w})" for w in words), anchor_pattern(catalogue.load(), ids)])
    problem = pl.col("level").is_in(PROBLEM_LEVELS)
    kept = pl.col("message").str.contains(pattern) | problem
    if always is not None:
        kept = kept | always
    telling = tuple(i for i in ids if not any(covers(o, i) for o in ORDINARY))
    notable = problem | pl.col("message").str.contains(anchor_pattern(catalogue.load(), telling))
    connection = notable & pl.col("message").str.contains(anchor_pattern(catalogue.load(), routine.CONNECTION))
    return Keep(kept.fill_null(False), ids, pattern, notable.fill_null(False), connection.fill_null(False))


def tag_kept(records: pl.DataFrame, ids: tuple[str, ...]) -> Found:
    """The catalogue messages (of ``ids``) of the kept ``records`` (`catalogue.match.Found`, by `record`)."""
    # The pass runs on one core per call; two halves in two threads use both (Polars releases the GIL).
    half = (records.height + 1) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        halves = (records.slice(0, half), records.slice(half))
        parts = pool.map(lambda part: found_in(part, "record", ids=ids), halves)
        return Found.concat(list(parts))


@cache
def kept_messages(declared: tuple[str, ...]) -> tuple[str, ...]:
    """Catalogue ids whose records the rules may read: every entry but the `context` ones no rule
    declares (``declared``: the rules' `messages`; mentions and facts alone would keep every agent line)."""
    return tuple(
        e.id for e in catalogue.load().entries if e.category != "context" or any(covers(m, e.id) for m in declared)
    )


def narrow(records: pl.DataFrame, keep: Keep) -> pl.DataFrame:
    """One pass of ``keep`` over all records."""
    # A regex pass runs on one core; two halves in two threads use both (Polars releases the GIL).
    half = (records.height + 1) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        masks = list(
            pool.map(
                lambda part: part.select(keep.expression).to_series(), (records.slice(0, half), records.slice(half))
            )
        )
    return records.filter(pl.concat(masks))

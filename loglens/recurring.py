"""Recurring incidents summarised: repeated episodes of one kind become one finding.

A VM whose WireServer connection blips every hour gives a rule thousands of hits, each a correct
finding and together unreadable. Findings of one rule, collection, severity, title and extension
whose summaries say the same thing but for times and numbers (`loglens.templates`) are episodes
of one incident: past `RECURRING_AT` of them they become one finding with how many there were,
from when to when, how long each lasted (median, longest) and their rhythm when there is one.
Severity is untouched (a recovered blip and an outage that never recovered are different
findings). The most telling episodes (the first, the last, the longest) keep their evidence; every
episode stays listed in the finding's `episodes` column. Work is frame work over all findings.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from loglens.findings import MAX_EVIDENCE
from loglens.schema import EPISODE as _EPISODE
from loglens.templates import template

#: Episodes of one kind that make it a recurring incident.
RECURRING_AT = 3
#: A duration as summaries write it.
_DURATION = r"\b\d+(?:\.\d+)? ?(?:ms|s|secs?|seconds?|min|minutes?|h|hours?|days?)\b"
#: What makes findings episodes of one incident (with their summaries' template).
_KIND = ["collection", "rule", "severity", "category", "title", "extension"]


def summarise(table: pl.DataFrame, evidence: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``table`` with each recurring incident's findings merged into its first, and ``evidence``
    with the merged findings' rows: those of its first, last and longest episodes."""
    keyed = table.with_columns(
        # Durations too are values (`after 2 min`, `after 69 s`).
        _pattern=template(pl.col("summary").str.replace_all(_DURATION, "<duration>")),
        episodes=pl.lit([], pl.List(_EPISODE)),
    )
    kind = [*_KIND, "_pattern"]
    sizes = keyed.group_by(kind).agg(pl.len().alias("_episodes"), pl.col("finding").min().alias("_into"))
    keyed = keyed.join(sizes, on=kind, how="left", nulls_equal=True)
    recurring = keyed.filter(pl.col("_episodes") >= RECURRING_AT)
    if recurring.is_empty():
        return table.with_columns(episodes=pl.lit([], pl.List(_EPISODE))), evidence
    single = keyed.filter(pl.col("_episodes") < RECURRING_AT).drop("_pattern", "_episodes", "_into")
    merged = _merged(recurring)
    return (
        pl.concat([single, merged.select(single.columns)]).sort("finding"),
        _evidence(evidence, recurring),
    )


def _merged(recurring: pl.DataFrame) -> pl.DataFrame:
    """One row per incident: the first episode's row, with the incident's span, count, records,
    episodes and summary."""
    ordered = recurring.sort("_into", "first_seen", "finding", nulls_last=True)
    episode = pl.struct("first_seen", "last_seen", "count")
    rows = ordered.group_by("_into", maintain_order=True).agg(
        pl.all().exclude("first_seen", "last_seen", "count", "records", "episodes").first(),
        first_seen=pl.col("first_seen").min(),
        last_seen=pl.col("last_seen").max(),
        count=pl.col("count").sum(),
        records=pl.col("records").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
        episodes=episode.cast(_EPISODE),
        _first_summary=pl.col("summary").first(),
    )
    # What the summaries say of the episodes, per incident in frame work (thousands of episodes).
    facts = rows.select("_into", "title", "_first_summary").join(
        _episode_facts(ordered), on="_into", maintain_order="left"
    )
    summaries = [_summary(row) for row in facts.iter_rows(named=True)]
    return rows.with_columns(finding=pl.col("_into"), summary=pl.Series(summaries, dtype=pl.String)).drop(
        "_first_summary"
    )


def _episode_facts(ordered: pl.DataFrame) -> pl.DataFrame:
    """Per incident: its episodes, the first start and the last end of the timed ones, their
    lengths' median and longest, and the quartiles and median of the gaps between their starts
    (sorted lists picked at `len // 4`, `len // 2`, `3 * len // 4`, as `_rhythm` reads them)."""
    started = pl.col("first_seen").is_not_null()
    length = (pl.col("last_seen") - pl.col("first_seen")).filter(started & pl.col("last_seen").is_not_null()).sort()
    gaps = pl.col("first_seen").filter(started).sort().diff().drop_nulls().sort()
    facts = ordered.group_by("_into", maintain_order=True).agg(
        episodes=pl.len(),
        first=pl.col("first_seen").filter(started).min(),
        last=pl.coalesce("last_seen", "first_seen").filter(started).max(),
        lengths=length,
        gaps=gaps,
    )
    return facts.select(
        "_into",
        "episodes",
        "first",
        "last",
        median_length=_picked("lengths", 1, 2),
        longest=pl.col("lengths").list.last(),
        gap_count=pl.col("gaps").list.len(),
        gap_low=_picked("gaps", 1, 4),
        gap_median=_picked("gaps", 1, 2),
        gap_high=_picked("gaps", 3, 4),
    )


def _picked(name: str, numerator: int, denominator: int) -> pl.Expr:
    """The item of list column ``name`` at `len * numerator // denominator` (null when empty)."""
    items = pl.col(name)
    return items.list.get(items.list.len() * numerator // denominator, null_on_oob=True)


def _summary(row: dict) -> str:
    """`WireServer ...: 731 episodes over 30 days (from ... to ... UTC), about hourly; each lasted 2 min
    (median), the longest 4 min. The first: <its summary>` (``row``: an incident's `_episode_facts`)."""
    text = f"{row['title']}: {row['episodes']:,} episodes"
    if row["first"] is not None:
        first, last = row["first"], row["last"]
        text += f" over {_duration(last - first)} ({first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC)"
        rhythm = _rhythm(row["gap_count"], row["gap_low"], row["gap_median"], row["gap_high"])
        if rhythm:
            text += f", {rhythm}"
    if row["longest"] is not None:
        text += f"; each lasted {_duration(row['median_length'])} (median), the longest {_duration(row['longest'])}"
    return f"{text}. The first: {row['_first_summary']}"


def _rhythm(count: int, low: timedelta, median: timedelta, high: timedelta) -> str | None:
    """`about hourly`, `about daily`, `about every 15 min`, or None when the ``count`` gaps between
    episodes (their quartiles ``low`` and ``high``, and ``median``) vary too much."""
    if count < RECURRING_AT - 1:
        return None
    if median <= timedelta(0) or low < median * 0.75 or high > median * 1.25:
        return None
    for name, period in (("hourly", timedelta(hours=1)), ("daily", timedelta(days=1)), ("weekly", timedelta(days=7))):
        if period * 0.85 <= median <= period * 1.15:
            return f"about {name}"
    return f"about every {_duration(median)}"


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _evidence(evidence: pl.DataFrame, recurring: pl.DataFrame) -> pl.DataFrame:
    """Evidence of the merged findings: the first, last and longest episodes', under the incident."""
    length = pl.col("last_seen") - pl.col("first_seen")
    ranked = recurring.select(
        "finding",
        "_into",
        first=pl.col("first_seen").rank("ordinal").over("_into") == 1,
        last=pl.col("first_seen").rank("ordinal", descending=True).over("_into") == 1,
        longest=length.rank("ordinal", descending=True).over("_into") == 1,
    )
    telling = ranked.filter(pl.col("first") | pl.col("last") | pl.col("longest")).select("finding", "_into")
    members = recurring.select("finding")
    kept = evidence.join(members, on="finding", how="anti")
    moved = (
        evidence.join(telling, on="finding")
        .sort("_into", "timestamp", "finding", "rank", nulls_last=True)
        .with_columns(finding=pl.col("_into"))
        .drop("_into")
        .group_by("finding", maintain_order=True)
        .head(MAX_EVIDENCE)
        .with_columns(rank=pl.int_range(pl.len(), dtype=pl.UInt32).over("finding"))
        .select(evidence.columns)
    )
    return pl.concat([kept, moved])

"""Folding continuation lines into the record they continue (shared by the text-log parsers)."""

from __future__ import annotations

import polars as pl


def fold(starts: pl.DataFrame, continuations: pl.DataFrame, column: str) -> pl.DataFrame:
    """Append each continuation line to ``column`` of the last record start at or before it.

    Args:
        starts: record-start lines with `line_no` (sorted) and ``column``.
        continuations: continuation lines with `line_no` and `text`.
        column: the text column of ``starts`` that grows (message or raw text).

    Returns:
        ``starts`` with ``column`` extended (lines joined with `\\n`) and `line_first`/`line_last` set.
        Records are mostly one line, so only the few with continuations are touched.
    """
    starts = starts.with_columns(line_first=pl.col("line_no"), line_last=pl.col("line_no"))
    if continuations.height == 0:
        return starts
    owner = starts["line_no"].search_sorted(continuations["line_no"], side="right") - 1
    folded = (
        continuations.with_columns(owner=owner)
        .group_by("owner", maintain_order=True)
        .agg(tail=pl.col("text").str.join("\n"), last=pl.col("line_no").max())
    )
    tail = pl.repeat(None, starts.height, dtype=pl.String, eager=True).scatter(folded["owner"], folded["tail"])
    return starts.with_columns(
        pl.concat_str([pl.col(column), tail], separator="\n", ignore_nulls=True).alias(column),
        line_last=starts["line_no"].scatter(folded["owner"], folded["last"]),
    )

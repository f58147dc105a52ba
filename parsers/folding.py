"""Folding continuation lines into the record they continue (shared by the text-log parsers)."""

from __future__ import annotations

import polars as pl


#: A poster's elision line (`...`): it stands for lines left out, so it is its own unparsed row,
#: never part of a record.
ELISIONS = ["...", "\u2026", "[...]", "[\u2026]"]


def fold(starts: pl.DataFrame, continuations: pl.DataFrame, column: str) -> pl.DataFrame:
    """Append each continuation line to ``column`` of the last record start at or before it.

    Args:
        starts: record-start lines with `line_no` (sorted) and ``column``.
        continuations: continuation lines with `line_no` and `text`, and optionally `owner`, the
            row of ``starts`` each continues (found by binary search when absent).
        column: the text column of ``starts`` that grows (message or raw text).

    Returns:
        ``starts`` with ``column`` extended (lines joined with `\\n`) and `line_first`/`line_last` set.
        Records are mostly one line, so only the few with continuations are rebuilt.
    """
    starts = starts.with_columns(line_first=pl.col("line_no"), line_last=pl.col("line_no"))
    if continuations.height == 0:
        return starts
    # Continuations follow their owner, so owners are sorted; joining lists is far cheaper
    # than a per-group string aggregation.
    if "owner" not in continuations.columns:
        owner = starts["line_no"].search_sorted(continuations["line_no"], side="right") - 1
        continuations = continuations.with_columns(owner=owner)
    folded = (
        continuations.with_columns(pl.col("owner").set_sorted())
        .group_by("owner", maintain_order=True)
        .agg(tail=pl.col("text"), last=pl.col("line_no").last())
    )
    owners = folded["owner"]
    grown = folded.select(
        pl.concat_str(
            [starts[column].gather(owners), pl.col("tail").list.join("\n")], separator="\n", ignore_nulls=True
        )
    ).to_series()
    # Only records with continuations change; scatter them into copies of the columns.
    return starts.with_columns(
        starts[column].clone().scatter(owners, grown).alias(column),
        line_last=starts["line_no"].clone().scatter(owners, folded["last"]),
    )

"""Summaries combined from parts (`loglens.summaries`): what chunks give part by part adds up."""

from datetime import UTC, datetime, timedelta

import polars as pl

from loglens import summaries
from loglens.schema import TIMELINE_COLUMNS, conform
from parsers.schema import Level


def _timeline_part(source: str, first_minute: int, minutes: int, levels: list[str | None]) -> pl.DataFrame:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        (source, start + timedelta(minutes=first_minute + m), level, 1 + m % 4)
        for m in range(minutes)
        for level in levels
    ]
    frame = pl.DataFrame(rows, schema=["source_path", "minute", "level", "count"], orient="row")
    return frame.with_columns(pl.col("level").cast(Level), pl.col("count").cast(pl.UInt32))


def test_combined_timeline_sums_overlapping_parts_in_key_order():
    """Parts that overlap (a minute cut by a chunk boundary, a rotated log beside the live one, a
    record with no level) are summed per source, minute and level, and sorted by them, nulls last."""
    parts = [
        _timeline_part("/var/log/waagent.log", 0, 50, ["INFO", "ERROR"]),
        _timeline_part("/var/log/waagent.log", 49, 30, ["INFO", None]),
        _timeline_part("/var/log/waagent.log.1", 10, 20, ["WARNING", "INFO"]),
        _timeline_part("/var/log/azure/ext/extension.log", 60, 5, [None]),
    ]
    combined = summaries.combine_timeline(parts)
    expected = conform(
        pl.concat(parts)
        .group_by(summaries.TIMELINE_KEYS)
        .agg(pl.col("count").sum())
        .sort("minute", "source_path", "level", nulls_last=True),
        TIMELINE_COLUMNS,
    )
    assert combined.equals(expected)
    assert combined.height == 50 * 2 + 30 * 2 - 1 + 20 * 2 + 5
    assert summaries.combine_timeline([combined]).equals(combined)
    assert summaries.combine_timeline([parts[0].clear()]).schema == combined.schema

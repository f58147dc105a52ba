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


def test_timeline_paths_are_categorical_and_still_ordered_by_their_text():
    """A year of minutes per source is held with the path as a categorical (4 bytes a row); the
    categories' codes follow the order paths were first seen (here the reverse of their text), and
    the combined timeline is still sorted by the text."""
    paths = ["/var/log/zz-seen-first.log", "/var/log/mm-seen-second.log", "/var/log/aa-seen-last.log"]
    records = pl.DataFrame(
        {
            "source_path": paths,
            "timestamp": [datetime(2026, 3, 1, 12, 0, tzinfo=UTC)] * 3,
            "level": ["INFO"] * 3,
        }
    ).with_columns(pl.col("level").cast(Level))
    parts = [summaries.timeline(records[i : i + 1]) for i in range(3)]
    assert all(part.schema["source_path"] == pl.Categorical() for part in parts)
    combined = summaries.combine_timeline(parts)
    assert combined.schema["source_path"] == pl.Categorical()
    assert combined["source_path"].cast(pl.String).to_list() == sorted(paths)
    assert combined["source_path"].to_physical().to_list() != sorted(combined["source_path"].to_physical().to_list())

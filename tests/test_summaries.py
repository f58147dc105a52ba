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


def test_piled_parts_combine_as_all_at_once_and_stay_few():
    """Parts combined as they pile up (runs of 2, runs of runs of 3) give the frame one combine of
    every part gives, in and out of order, and hold a few runs, not every part."""
    parts = [_timeline_part("/var/log/waagent.log", 7 * i, 10, ["INFO", "ERROR"]) for i in range(20)]
    parts.insert(5, _timeline_part("/var/log/waagent.log.1", 0, 30, ["WARNING"]))
    # As `summaries.timeline` gives them.
    parts = [part.with_columns(pl.col("source_path").cast(pl.Categorical)) for part in parts]
    empty = parts[0].clear()
    piled = summaries.Piled(summaries.combine_timeline, empty, (2, 3))
    for part in parts:
        piled.add(part)
        piled.settle()
        assert len(piled._fresh) + sum(len(level) for level in piled._levels) <= 2 + 3 + 3
    whole = summaries.combine_timeline(parts)
    assert piled.combined().equals(whole)
    assert piled.combined().equals(whole)  # asked again: the same run


def test_piled_parts_are_combined_even_when_one_or_none():
    """One part is combined too (a chunk's part is not in key order); none gives the typed empty frame."""
    part = _timeline_part("/var/log/waagent.log", 0, 5, ["INFO"]).reverse()
    part = part.with_columns(pl.col("source_path").cast(pl.Categorical))
    one = summaries.Piled(summaries.combine_timeline, part.clear(), (8, 64))
    one.add(part)
    assert one.combined().equals(summaries.combine_timeline([part]))
    assert not one.combined().equals(part)
    none = summaries.Piled(summaries.combine_timeline, part.clear(), (8, 64))
    assert none.combined().schema == summaries.combine_timeline([part]).schema
    assert none.combined().height == 0

"""Frames held compressed (`loglens.packed`): what is read back is what was added."""

from datetime import UTC, datetime

import polars as pl
import pytest

from loglens.packed import PACKED_FROM_ROWS, PackedFrame, owned


def _lines(rows: int, offset: int = 0) -> pl.DataFrame:
    """Operation-line-like rows: repeating categoricals, an enum, UTC times, flags and some nulls."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "record": pl.Series(range(offset, offset + rows), dtype=pl.UInt32),
            "source_path": pl.Series(["/var/log/waagent.log"] * rows, dtype=pl.Categorical),
            "timestamp": pl.Series([start.replace(microsecond=i % 1_000_000) for i in range(rows)]),
            "level": pl.Series(
                ["INFO", "ERROR"] * (rows // 2) + ["INFO"] * (rows % 2), dtype=pl.Enum(["INFO", "ERROR"])
            ),
            "extension": pl.Series(
                [None if i % 3 else f"Microsoft.Azure.Ext{i % 7}" for i in range(rows)], dtype=pl.Categorical
            ),
            "is_start": pl.Series([i % 4 == 0 for i in range(rows)]),
        }
    )


def test_packed_parts_read_back_equal_and_smaller():
    frame = _lines(PACKED_FROM_ROWS * 3)
    packed = PackedFrame(frame.schema)
    packed.add(frame.slice(0, PACKED_FROM_ROWS * 2))
    packed.add(frame.slice(PACKED_FROM_ROWS * 2))
    assert packed.height == frame.height
    assert packed.read().equals(frame)
    assert packed.read().schema == frame.schema
    assert packed.nbytes < frame.estimated_size() / 2


def test_small_parts_stay_plain_and_mix_with_packed_ones():
    big, small = _lines(PACKED_FROM_ROWS), _lines(10, offset=PACKED_FROM_ROWS)
    packed = PackedFrame(big.schema)
    packed.add(big)
    packed.add(small)
    packed.add(small.clear())  # an empty part adds nothing
    assert packed.read().equals(pl.concat([big, small]))
    assert packed.height == big.height + small.height


def test_small_parts_are_packed_together_once_they_add_up():
    frame = _lines(PACKED_FROM_ROWS * 2)
    quarter = PACKED_FROM_ROWS // 4
    packed = PackedFrame(frame.schema)
    for offset in range(0, frame.height, quarter):
        packed.add(frame.slice(offset, quarter))
        # Never more plain parts at the end than it takes to make one packed part.
        assert packed.part_count <= offset // PACKED_FROM_ROWS + 4
    assert packed.part_count == 2
    assert packed.read().equals(frame)
    assert packed.nbytes < frame.estimated_size() / 2


def test_columns_and_rows_asked_for_only_even_when_the_filter_reads_other_columns():
    frame = _lines(PACKED_FROM_ROWS * 2)
    packed = PackedFrame(frame.schema)
    packed.add(frame)
    starts = packed.read(["record"], where=pl.col("is_start") & pl.col("extension").is_not_null())
    expected = frame.filter(pl.col("is_start") & pl.col("extension").is_not_null()).select("record")
    assert starts.equals(expected) and starts.columns == ["record"]
    parts = list(packed.parts(["record", "level"]))
    assert [p.columns for p in parts] == [["record", "level"]]


def test_a_filtered_view_shares_the_parts_and_leaves_the_original_whole():
    frame = _lines(PACKED_FROM_ROWS * 2)
    packed = PackedFrame(frame.schema)
    packed.add(frame)
    errors = packed.filtered(pl.col("level") == "ERROR")
    assert errors.height == frame.filter(pl.col("level") == "ERROR").height
    assert errors.read(where=pl.col("is_start")).equals(frame.filter((pl.col("level") == "ERROR") & pl.col("is_start")))
    more = errors.plus(_lines(3, offset=10**6))  # levels INFO, ERROR, INFO
    assert more.height == errors.height + 1  # the view's filter holds for the added part too
    assert errors.height == frame.filter(pl.col("level") == "ERROR").height
    assert packed.height == frame.height


def test_empty_and_mismatched_parts():
    schema = _lines(2).schema
    packed = PackedFrame(schema)
    assert packed.height == 0
    assert packed.read().schema == schema and packed.read().height == 0
    assert packed.read(["record"]).columns == ["record"]
    with pytest.raises(ValueError, match="schema"):
        packed.add(pl.DataFrame({"record": [1]}))


def test_owned_copies_strings_and_leaves_the_rest():
    """`owned` changes no value or type."""
    big = pl.DataFrame(
        {
            "message": [f"line {i} " + "x" * 40 for i in range(20_000)],
            "source_path": ["/var/log/waagent.log"] * 20_000,
            "record": pl.Series(range(20_000), dtype=pl.UInt32),
            "level": pl.Series(["INFO"] * 20_000, dtype=pl.Enum(["INFO", "ERROR"])),
        }
    )
    few = big.filter(pl.col("record").is_in([3, 19_999]))
    mine = owned(few)
    assert mine.equals(few)
    assert mine.schema == few.schema
    assert mine["message"].to_list() == ["line 3 " + "x" * 40, "line 19999 " + "x" * 40]
    assert owned(big.clear()).schema == big.schema

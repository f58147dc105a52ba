"""The one pass's result: repeated texts matched once yet given to every row, and the sparse
`Found` giving the same wide frame as the fields matched row by row."""

from __future__ import annotations

import polars as pl

from catalogue import FIELDS
from catalogue.match import ID, found_in, hits

_FETCH = (
    "Error fetching the goal state: [ProtocolError] [HTTP Failed] GET http://168.63.129.16/machine/ "
    "-- IOError timed out -- 6 attempts made"
)
_LINES = [
    _FETCH,
    "Goal state fetched without any problem",
    "Unable to lock /var/lib/dpkg/lock-frontend, is another process using it?",
    _FETCH,
    None,
    "Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2211 (unattended-upgr)",
]


def _frame(lines: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"record": pl.Series(range(len(lines)), dtype=pl.UInt32), "message": pl.Series(lines, dtype=pl.String)}
    )


def _one_by_one(lines: list[str | None]) -> pl.DataFrame:
    """The hits of each line found on its own (no repeats to share), renumbered."""
    parts = [hits(_frame([line]), "record").with_columns(record=pl.lit(i, pl.UInt32)) for i, line in enumerate(lines)]
    return pl.concat(parts).sort("record", ID)


def test_repeated_texts_get_the_messages_of_each_row():
    together = hits(_frame(_LINES), "record")
    assert together.equals(_one_by_one(_LINES))
    by_row = together.group_by("record").agg(pl.col(ID)).sort("record")
    rows = dict(zip(by_row["record"].to_list(), by_row[ID].to_list(), strict=True))
    assert sorted(rows[0]) == sorted(rows[3]) and rows[0]
    assert 4 not in rows  # a null message carries nothing


def test_found_gives_the_wide_frame_of_any_subset():
    found = found_in(_frame(_LINES), "record")
    wide = found.wide()
    assert wide.columns == ["record", ID, *FIELDS]
    assert wide.equals(hits(_frame(_LINES), "record"))
    # A field some message states is read; one no message states is null.
    stated = found.fields["field"].unique().to_list()
    assert stated and wide.select(pl.col(stated).is_not_null().any()).row(0) == tuple([True] * len(stated))
    lock = pl.col(ID).str.starts_with("pkg.") | pl.col(ID).str.contains("lock")
    subset = found.filter(lock).wide()
    assert subset.height and subset.equals(wide.filter(lock))
    empty = found.filter(pl.lit(False)).wide()
    assert empty.height == 0 and empty.columns == wide.columns

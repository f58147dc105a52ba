"""Parsing only the records a stream wants (`parsers.selection`): the chosen records are exactly
what a whole parse gives for them, the others keep their summary columns, and the choice is a
superset of the pattern's matches on finished records (continuation lines, anchored patterns,
levels, events)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from parsers.chunks import RawChunk
from parsers.selection import SUMMARY_COLUMNS, SelectedRecords, Selection, unanchored
from parsers.timezones import VmTimezone
from parsers.waagent import parse_raw_chunk
from parsers.waagent_stream import iter_waagent

REPO = Path(__file__).resolve().parents[2]

CHUNK = b"""\
2024-05-03T14:07:06.006518Z INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.9.1.1 is running as the goal state agent
2024-05-03T14:07:07.000001Z INFO ExtHandler ExtHandler Downloading agent manifest
2024-05-03T14:07:08.000001Z WARNING ExtHandler ExtHandler Fetch failed: [HttpError] GET http://168.63.129.16/machine/ -- IOError timed out
2024-05-03T14:07:09.000001Z INFO ExtHandler [Microsoft.Azure.Extensions.CustomScript-2.1.10] Command: bin/custom-script-shim enable
[stdout]
hello
[stderr]

2024-05-03T14:07:10.000001Z INFO ExtHandler ExtHandler Installing packages; output follows:
E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 (apt-get)
2024-05-03T14:07:11.000001Z INFO ExtHandler ExtHandler Event: name=Microsoft.Azure.Extensions.CustomScript, op=Enable, message=ok, duration=12
2024-05-03T14:07:12.000001Z INFO ExtHandler ExtHandler Agent is still running the Command: loop
2024-05-03T14:07:13.000001Z INFO ExtHandler [Microsoft.Azure.Extensions.CustomScript-2.1.10] Target handler state: enabled
"""
#: `^Command: ` is widened to match anywhere in a line; the lock message sits on a continuation line.
SELECTION = Selection(r"^Command: |Could not get lock", ("ERROR", "WARNING"))


def _parse(data: bytes, selection: Selection | None, zone: str | None = None):
    records, counts, _ = parse_raw_chunk(
        RawChunk(None, 0, len(data), data), "waagent.log", VmTimezone.parse(zone), selection=selection
    )
    return records, counts


def _matches_whole(data: bytes, selection: Selection, zone: str | None = None) -> SelectedRecords:
    """The selected parse of ``data``, checked against the whole parse of it."""
    whole, whole_counts = _parse(data, None, zone)
    selected, counts = _parse(data, selection, zone)
    assert isinstance(selected, SelectedRecords)
    assert counts == whole_counts and selected.rows == whole.height
    rows = selected.records["row"]
    assert_frame_equal(selected.records.drop("row"), whole[rows])
    others = whole.with_row_index("row").filter(~pl.col("row").is_in(rows.implode())).select(SUMMARY_COLUMNS)
    assert_frame_equal(selected.others, others)
    return selected


def test_the_chosen_records_are_parsed_as_a_whole_parse_gives_them():
    selected = _matches_whole(CHUNK, SELECTION)
    messages = selected.records["message"].to_list()
    assert [m.split("\n")[0][:30] for m in messages] == [
        "Fetch failed: [HttpError] GET ",  # a problem level
        "Command: bin/custom-script-shi",  # the pattern, its anchor dropped
        "Installing packages; output fo",  # the pattern on a continuation line
        "Event: name=Microsoft.Azure.Ex",  # an event names its extension
        "Agent is still running the Com",  # widened: more is chosen, never less
    ]
    assert selected.records["row"].to_list() == [2, 3, 4, 5, 6]
    assert selected.others["extension"].to_list() == [None, None, "Microsoft.Azure.Extensions.CustomScript"]


def test_the_records_left_out_keep_their_time_level_and_extension():
    selected = _matches_whole(CHUNK, SELECTION)
    assert selected.others.columns == list(SUMMARY_COLUMNS)
    assert selected.others["level"].cast(pl.String).to_list() == ["INFO"] * 3
    assert selected.others["timestamp"].dt.second().to_list() == [6, 7, 13]


@pytest.mark.parametrize("zone", [None, "+02:00"])
@pytest.mark.parametrize(
    "log", ["sample_logs/vm-legacy/var/log/waagent.log", "sample_logs/vm-modern/var/log/waagent.log"]
)
def test_a_real_log_parsed_through_a_selection_matches_its_whole_parse(log, zone):
    # Legacy lines are local time (made UTC with the zone), modern ones ISO UTC.
    selected = _matches_whole((REPO / log).read_bytes(), Selection(r"^\[|extension|Event: ", ("ERROR",)), zone)
    assert 0 < selected.records.height < selected.rows


def test_a_chunk_with_unparsed_lines_is_parsed_whole():
    data = b"not an agent line\n" + CHUNK
    records, _ = _parse(data, SELECTION)
    whole, _ = _parse(data, None)
    assert isinstance(records, pl.DataFrame)
    assert_frame_equal(records, whole)


def test_a_chunk_nothing_chooses_gives_only_summaries():
    selected = _matches_whole(CHUNK, Selection("nothing like this", ()))
    assert selected.records.height == 1  # the event, always chosen
    assert selected.others.height == selected.rows - 1


@pytest.mark.parametrize(
    ("pattern", "widened"),
    [
        (r"^(?:Command: |Event: name=)|^All done", r"(?:Command: |Event: name=)|All done"),
        (r"^[^ ]+ failed", r"[^ ]+ failed"),  # a negated class is not an anchor
        (r"\^x|^y", r"\^x|y"),  # nor is an escaped caret
        (r"[]^]z|[[:alpha:]^]|^w", r"[]^]z|[[:alpha:]^]|w"),  # nor one inside a class, nested or not
        (r"(?i-u:\[http failed\]|op=)", r"(?i-u:\[http failed\]|op=)"),
    ],
)
def test_start_anchors_are_dropped_and_nothing_else(pattern, widened):
    assert unanchored(pattern) == widened


def test_a_stream_with_a_selection_and_no_transform_is_refused():
    with pytest.raises(ValueError, match="needs a transform"):
        next(iter_waagent([REPO / "sample_logs/vm-modern/var/log/waagent.log"], [], selection=SELECTION))

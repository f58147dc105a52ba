"""Operations paired a part of the lines at a time (`loglens.pairing`) are those of all the lines
paired at once, whatever the parts and their order: a clock set back, a VM's two files, a
background enable ended by the agent's all-done line, and an end line and the extension's next
start logged in the same microsecond in different parts."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from loglens import operations
from loglens.packed import PackedFrame
from loglens.pipeline import analyze_loaded
from loglens.schema import OPERATION_COLUMNS
from parsers import load_sources

AMA = "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2"
CSE = "Microsoft.Azure.Extensions.CustomScript-2.1.10"


def _line(when: datetime, text: str) -> str:
    return f"{when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')} INFO ExtHandler {text}"


def _goal_states(start: datetime, count: int, *, set_back_at: int | None = None) -> list[str]:
    """``count`` goal states 40 minutes apart: an AMA enable (every 7th slow), a CustomScript enable
    ended by the all-done line, and the goal state's end; the clock goes back 3 hours at ``set_back_at``."""
    lines = []
    for n in range(count):
        when = (
            start
            + timedelta(minutes=40 * n)
            - (timedelta(hours=3) if set_back_at and n >= set_back_at else timedelta())
        )
        took = timedelta(minutes=30 if n % 7 == 3 else 0, seconds=2)
        lines += [
            _line(when, f"[{AMA}] Enable extension: [./shim.sh -enable]"),
            _line(when + took, f"[{AMA}] Command: ./shim.sh -enable\n[stdout]\nok\n[stderr]"),
            _line(when + took, f"[{CSE}] Enable extension: [bin/custom-script-shim enable]"),
            _line(
                when + took + timedelta(seconds=1),
                f"ExtHandler ProcessExtensionsGoalState completed [incarnation_{n} 900 ms]",
            ),
            _line(
                when + took + timedelta(seconds=40),
                "ExtHandler All extensions in the goal state have reached a terminal state: "
                f"[('{CSE.rsplit('-', 1)[0]}', 'success')]",
            ),
        ]
    return lines


@pytest.fixture(scope="module")
def lines(tmp_path_factory) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    """A VM's rotated log and current log (the clock set back in the current one), as their
    operation lines, with the load's frames and log ends."""
    root = tmp_path_factory.mktemp("vm")
    log = root / "var" / "log"
    log.mkdir(parents=True)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    (log / "waagent.log.1").write_text("\n".join(_goal_states(start, 60)) + "\n")
    later = start + timedelta(hours=48)
    current = _goal_states(later, 60, set_back_at=40)
    # The AMA's next start in the very microsecond of the Command: line before it.
    current.insert(3, _line(later + timedelta(seconds=2), f"[{AMA}] Enable extension: [./shim.sh -enable]"))
    (log / "waagent.log").write_text("\n".join(current) + "\n")
    analysis = analyze_loaded(load_sources([root]))
    (context,) = analysis.contexts
    return context.operation_lines.read(), context.frames, context.log_ends


def _in_parts(frame: pl.DataFrame, cuts: list[int], order: list[int]) -> PackedFrame:
    bounds = [0, *cuts, frame.height]
    pieces = [frame.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    packed = PackedFrame(frame.schema)
    for at in order:
        packed.add(pieces[at])
    return packed


def _measured(packed: PackedFrame, lines) -> pl.DataFrame:
    _, frames, log_ends = lines
    return operations.measure(packed, frames, log_ends)


def test_the_fixture_has_what_the_pairing_must_get_right(lines):
    whole = _measured(_in_parts(lines[0], [], [0]), lines)
    assert whole.height == 241
    cse = whole.filter(pl.col("extension").cast(pl.String) == CSE.rsplit("-", 1)[0])
    # CustomScript's enable runs in the background: the all-done line 40 s later ends it.
    assert (cse["took"] == timedelta(seconds=40)).all()
    assert whole.filter(pl.col("took") >= timedelta(minutes=30)).height >= 16
    # The clock set back 3 hours in the current log: its starts are not in the order they were logged.
    assert not whole.sort("record")["started"].is_sorted()


@pytest.mark.parametrize("seed", range(6))
def test_operations_paired_part_by_part_in_any_order_are_those_paired_at_once(lines, seed):
    frame = lines[0]
    whole = _measured(_in_parts(frame, [], [0]), lines)
    chance = random.Random(seed)
    cuts = sorted(chance.sample(range(1, frame.height), chance.randint(1, 30)))
    order = list(range(len(cuts) + 1))
    if seed % 2:
        chance.shuffle(order)
    parted = _measured(_in_parts(frame, cuts, order), lines)
    if seed % 2:
        # Parts read out of order give the same operations, in the order of their start times.
        parted, whole = parted.sort("started", "record"), whole.sort("started", "record")
    assert_frame_equal(parted, whole)


def test_a_part_boundary_between_an_end_line_and_the_next_start_at_the_same_time(lines):
    frame = lines[0]
    ama = pl.col("extension").cast(pl.String) == AMA.rsplit("-", 1)[0]
    same = frame.filter(ama & pl.col("is_start") & (pl.col("timestamp") == pl.col("timestamp").shift(1).over(ama)))
    assert same.height, "the fixture has a start in the microsecond of the line before it"
    at = frame.with_row_index().filter(pl.col("record") == same["record"][0])["index"][0]
    whole = _measured(_in_parts(frame, [], [0]), lines)
    for order in ([0, 1], [1, 0]):
        parted = _measured(_in_parts(frame, [int(at)], order), lines)
        assert_frame_equal(parted.sort("started", "record"), whole.sort("started", "record"))


def test_no_lines_give_no_operations(lines):
    empty = _measured(PackedFrame(lines[0].schema), lines)
    assert empty.height == 0
    assert empty.columns == [c.name for c in OPERATION_COLUMNS if c.name != "collection"]

"""Operations paired a part of the lines at a time (`loglens.pairing`), as the stream passes, are
those of all the lines paired at once, however the lines are cut into parts: a VM's rotated and
current log, a clock set back, a background enable ended by the agent's all-done line, and an end
line and the extension's next start logged in the same microsecond on either side of a cut. A line
logged before a start never ends it; VMs loaded together never end each other's operations; and
only the lines a finding may cite are held."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from loglens import api, operations, pipeline
from loglens.pairing import Pairing
from loglens.records import record_parts
from loglens.reports import figures
from loglens.schema import OPERATION_COLUMNS
from parsers import VmTimezone, load_sources

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
def vm(tmp_path_factory) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    """A VM's rotated log and current log (the clock set back 3 hours in the current one): its
    operation lines (in reading order, one collection), its frames and its logs' ends."""
    root = tmp_path_factory.mktemp("vm")
    log = root / "var" / "log"
    log.mkdir(parents=True)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    (log / "waagent.log.1").write_text("\n".join(_goal_states(start, 60)) + "\n")
    later = start + timedelta(hours=48)
    current = _goal_states(later, 60, set_back_at=40)
    # The AMA's next start in the very microsecond of the Command: line before it, and (goal state
    # 5) of the one after it.
    ama_start = f"[{AMA}] Enable extension: [./shim.sh -enable]"
    current.insert(3, _line(later + timedelta(seconds=2), ama_start))
    current.insert(27, _line(later + timedelta(minutes=200, seconds=2), ama_start))
    (log / "waagent.log").write_text("\n".join(current) + "\n")
    load = load_sources([root])
    frames = dict(load.frames)
    frames["waagent"] = frames["waagent"].with_row_index("row")
    view = record_parts(frames, frames["waagent"].height)["waagent"]
    lines = operations.lines(view).with_columns(group=pl.lit("vm", pl.Categorical))
    ends = pl.DataFrame(
        [(a.path, a.last_time) for a in load.accounts if a.last_time is not None],
        schema={"source_path": pl.String, "log_end": pl.Datetime("us", "UTC")},
        orient="row",
    )
    return lines, load.frames, ends


def _paired(lines: pl.DataFrame, cuts: list[int]) -> Pairing:
    pairing = Pairing()
    bounds = [0, *cuts, lines.height]
    for first, end in itertools.pairwise(bounds):
        pairing.add(lines.slice(first, end - first))
    return pairing


def _measured(pairing: Pairing, vm) -> pl.DataFrame:
    _, frames, ends = vm
    return operations.in_order(operations.measure(pairing.parts(), frames, ends).read())


def test_the_fixture_has_what_the_pairing_must_get_right(vm):
    whole = _measured(_paired(vm[0], []), vm)
    assert whole.height == 242
    cse = whole.filter(pl.col("extension").cast(pl.String) == CSE.rsplit("-", 1)[0])
    # CustomScript's enable runs in the background: the all-done line 40 s later ends it.
    assert (cse["took"] == timedelta(seconds=40)).all()
    # 18 slow enables, less one just before the clock goes back: a start logged after it comes
    # 20 minutes later by the clock, and ends it.
    assert whole.filter(pl.col("took") >= timedelta(minutes=30)).height == 17
    # The clock set back 3 hours in the current log: its starts are not in the order they were logged.
    assert not whole.sort("record")["started"].is_sorted()


def test_a_line_logged_before_a_start_never_ends_it(vm):
    whole = _measured(_paired(vm[0], []), vm)
    # Every operation ends at a line logged after its start (a greater record), or is still running.
    ended = whole.filter(~pl.col("ongoing"))
    closer = pl.when(pl.col("end_time") == pl.col("finished")).then("end_record").otherwise("goal_record")
    background = pl.col("extension").cast(pl.String).str.contains("CustomScript")
    assert (ended.filter(~background).select(closer > pl.col("record")).to_series()).all()


@pytest.mark.parametrize("seed", range(6))
def test_operations_paired_part_by_part_are_those_paired_at_once(vm, seed):
    lines = vm[0]
    whole = _measured(_paired(lines, []), vm)
    chance = random.Random(seed)
    cuts = sorted(chance.sample(range(1, lines.height), chance.randint(1, 40)))
    assert_frame_equal(_measured(_paired(lines, cuts), vm), whole)


def test_a_cut_between_lines_of_the_same_microsecond(vm):
    lines = vm[0]
    ama = pl.col("extension").cast(pl.String) == AMA.rsplit("-", 1)[0]
    same = lines.with_row_index().filter(ama & (pl.col("timestamp") == pl.col("timestamp").shift(1).over(ama)))
    # A start after an end line, and an end line after a start, at the same time.
    assert same["is_start"].to_list() == [True, False]
    whole = _measured(_paired(lines, []), vm)
    for at in same["index"]:
        assert_frame_equal(_measured(_paired(lines, [at]), vm), whole)


def test_vms_loaded_together_do_not_end_each_others_operations(vm):
    lines = vm[0]
    # The same lines as a second VM's, read after the first's: each VM's operations as when alone.
    other = lines.with_columns(group=pl.lit("other", pl.Categorical), record=pl.col("record") + 1_000_000)
    pairing = _paired(pl.concat([lines, other]), [lines.height])
    both = _measured(pairing, vm)
    alone = _measured(_paired(lines, []), vm)
    assert both.height == 2 * alone.height
    assert_frame_equal(both.filter(pl.col("record") < 1_000_000), alone)


def test_only_the_lines_a_finding_may_cite_are_held(vm):
    pairing = _paired(vm[0], [vm[0].height // 3, 2 * vm[0].height // 3])
    measured = _measured(pairing, vm)
    held = set(pairing.citable.read()["record"].to_list())
    slow = measured.filter(pl.col("took") >= timedelta(minutes=30))
    assert set(slow["record"].to_list()) <= held and set(slow["end_record"].to_list()) <= held
    assert len(held) < vm[0].height / 10


def test_no_lines_give_no_operations(vm):
    empty = _measured(Pairing(), vm)
    assert empty.height == 0
    assert empty.columns == [c.name for c in OPERATION_COLUMNS if c.name != "collection"]


def test_the_chart_picks_its_operations_a_part_at_a_time_as_from_them_all(tmp_path):
    """The timeline chart shows, of too many operations, those that failed or run on, then the
    longest: picked from each compressed part, the same as from the whole frame."""
    log = tmp_path / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    lines = _goal_states(start, 200)
    # An enable that never ends; the slow ones' times tie.
    lines += [_line(start + timedelta(days=9), f"[{AMA}] Enable extension: [./shim.sh -enable]")]
    log.write_text("\n".join(lines) + "\n")
    analysis = pipeline.analyze_paths(
        [tmp_path], tz=VmTimezone.parse(None), progress=None, check_lines=api.require_lines, chunk_bytes=16 * 1024
    )
    assert analysis.contexts[0].measured.part_count > 5
    whole = analysis.operations
    notable = (pl.col("outcome") != "succeeded").cast(pl.Int8)
    expected = (
        whole.sort([notable, "took"], descending=[True, True], maintain_order=True)
        .head(60)
        .sort("started", maintain_order=True)
    )
    picked = figures._most_telling(analysis, 60)
    assert_frame_equal(picked, expected)
    assert picked.filter(pl.col("outcome") == "still running").height == 1

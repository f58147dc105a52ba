"""The routine lines a healthy agent repeats every goal state are thinned out of the kept
records (`loglens.routine.thin_routine`), while every one of them is still measured as an
operation (`operation_lines`): the same findings, evidence, operations and report with and without
the thinning, on the generated logs of both benchmark profiles, every sample and a hand-made log
whose slow operation and recovery sit inside long healthy runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from benchmarks.generate import generate
from loglens import api, pipeline, routine
from loglens.engine import Analysis
from loglens.keep import kept_messages
from parsers import VmTimezone

from tests.test_streamed_analysis import SAMPLES, _differences

AMA = "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2"
FAILURE = (
    "ERROR ExtHandler ExtHandler Error fetching the goal state: [ProtocolError] [Wireserver Exception] "
    "[HttpError] [HTTP Failed] GET http://168.63.129.16/machine/ -- IOError timed out -- 6 attempts made"
)


def _analysed(paths: list[Path]) -> Analysis:
    return pipeline.analyze_paths(
        paths, tz=VmTimezone.parse(None), progress=None, check_lines=api.require_lines, chunk_bytes=64 * 1024
    )


@pytest.fixture(autouse=True)
def streamed_past_the_whole_rows(monkeypatch):
    """Thin from the first row: a stream thins only past `WHOLE_ROWS_HELD` (below, it is held whole)."""
    monkeypatch.setattr(pipeline, "WHOLE_ROWS_HELD", 0)


def _both(paths: list[Path], monkeypatch) -> tuple[Analysis, Analysis]:
    """The analysis, and the same with every routine line kept (as before the thinning)."""
    thinned = _analysed(paths)
    with monkeypatch.context() as patch:
        patch.setattr(routine, "thin_routine", lambda: pl.col("kept"))
        whole = _analysed(paths)
    return thinned, whole


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _goal_state(when: datetime, incarnation: int, took: timedelta = timedelta(seconds=2)) -> list[str]:
    end = when + took
    return [
        f"{_stamp(when)} INFO ExtHandler [{AMA}] Enable extension: [./shim.sh -enable]",
        f"{_stamp(end)} INFO ExtHandler [{AMA}] Command: ./shim.sh -enable",
        f"{_stamp(end)} INFO ExtHandler ExtHandler ProcessExtensionsGoalState completed [incarnation_{incarnation} 2100 ms]",
        f"{_stamp(end)} INFO ExtHandler ExtHandler All extensions in the goal state have reached a terminal state: "
        "[('Microsoft.Azure.Monitor.AzureMonitorLinuxAgent', 'success')]",
    ]


def _written(tmp_path: Path, lines: list[str]) -> Path:
    """``lines`` as a VM's `/var/log/waagent.log` under ``tmp_path``."""
    log = tmp_path / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text("\n".join(lines) + "\n")
    return log


@pytest.fixture
def healthy_runs(tmp_path) -> Path:
    """400 healthy goal states every 5 minutes; the 100th enable takes 25 minutes (past the 20-minute
    limit) in the middle of a run, and a WireServer failure sits between goal states 300 and 301."""
    lines = []
    start = datetime(2025, 6, 1, tzinfo=UTC)
    for n in range(400):
        when = start + timedelta(minutes=5 * n) + (timedelta(minutes=25) if n > 100 else timedelta())
        lines += _goal_state(when, n, timedelta(minutes=25) if n == 100 else timedelta(seconds=2))
        if n == 300:
            lines.append(f"{_stamp(when + timedelta(minutes=1))} {FAILURE}")
    return _written(tmp_path, lines)


def test_routine_lines_are_thinned_but_every_operation_is_measured(healthy_runs, monkeypatch):
    thinned, whole = _both([healthy_runs], monkeypatch)
    assert _differences(whole, thinned) == []
    assert thinned.operations.height == 400
    kept = thinned.load.frames["waagent"]
    assert kept.height < whole.load.frames["waagent"].height / 20


def test_a_slow_operation_inside_a_healthy_run_keeps_its_start_and_end_as_evidence(healthy_runs):
    analysis = _analysed([healthy_runs])
    slow = [f for f in analysis.findings if f.rule == "extension-provisioning-timeout"]
    assert len(slow) == 1 and "25 min" in slow[0].summary
    # Goal state 100 is lines 401-404: its enable and its `Command:` are the evidence.
    assert [line.line for line in slow[0].evidence] == [401, 402]


def test_the_first_success_after_a_failure_is_kept(healthy_runs):
    kept = set(_analysed([healthy_runs]).load.frames["waagent"]["line_first"].to_list())
    # The failure is line 1205 (after goal state 300); goal state 301's lines follow it: its
    # completion (1208) is the recovery the WireServer rule reads. A WireServer failure ends no
    # other run: that goal state's enable, command and all-done line (1206, 1207, 1209) go.
    assert {1205, 1208} <= kept
    assert not {1206, 1207, 1209} & kept


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """A 3 MB log of each benchmark profile (quiet: incidents among long healthy runs; noisy: an
    hourly WireServer blip, a daily lock wait)."""
    root = tmp_path_factory.mktemp("profiles")
    logs = {}
    for profile in ("quiet", "noisy"):
        logs[profile] = root / profile / "waagent.log"
        logs[profile].parent.mkdir()
        generate(logs[profile], 3, incident_every=60, profile=profile)
        (logs[profile].parent / "waagent.log.manifest.json").unlink()
    return logs


@pytest.mark.parametrize("profile", ["quiet", "noisy"])
def test_thinning_changes_no_result_on_the_generated_logs(generated, profile, monkeypatch):
    thinned, whole = _both([generated[profile]], monkeypatch)
    assert thinned.findings.table.height >= 6
    assert _differences(whole, thinned) == []
    assert thinned.load.frames["waagent"].height < whole.load.frames["waagent"].height


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_thinning_changes_no_result_on_each_sample(sample, monkeypatch):
    thinned, whole = _both([sample], monkeypatch)
    assert _differences(whole, thinned) == []


#: An extension's manifest fetch timing out: a `wire.` message that is not the WireServer connection.
MANIFEST_FAILURE = (
    "WARNING ExtHandler ExtHandler Failed to fetch manifest from https://example.blob.core.windows.net/"
    "Microsoft.Azure.Extensions_CustomScript_uscentral_manifest.xml. Error: [HttpError] [HTTP Failed] GET "
    "https://example.blob.core.windows.net/ -- IOError timed out -- 6 attempts made"
)


@pytest.fixture
def hourly_blips(tmp_path) -> Path:
    """Two days of goal states every 5 minutes and heartbeats every 30, a WireServer failure every
    hour that the next goal state recovers from, and one manifest fetch failure (before goal state 200)."""
    lines = []
    start = datetime(2025, 6, 1, tzinfo=UTC)
    for n in range(12 * 48):
        when = start + timedelta(minutes=5 * n)
        if n % 6 == 0:
            heartbeat = (
                f"{_stamp(when)} INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.9.1.1 is running as the "
                f"goal state agent [DEBUG HeartbeatCounter: {n // 6};HeartbeatId: 5B3C;DroppedPackets: 0;"
                "UpdateGSErrors: 0;AutoUpdate: 1]"
            )
            lines.append(heartbeat)
        if n % 12 == 11:
            lines.append(f"{_stamp(when - timedelta(minutes=1))} {FAILURE}")
        if n == 200:
            lines.append(f"{_stamp(when - timedelta(seconds=30))} {MANIFEST_FAILURE}")
        lines += _goal_state(when, n)
    return _written(tmp_path, lines)


def test_a_wireserver_blip_ends_only_the_run_of_goal_state_completions(hourly_blips, monkeypatch):
    thinned, whole = _both([hourly_blips], monkeypatch)
    assert _differences(whole, thinned) == []
    blips = [f for f in thinned.findings if f.rule == "wireserver-unreachable"]
    assert blips and sum(f.count for f in blips) == 48
    with monkeypatch.context() as patch:
        # As before: every notable line, the blips too, ended every run of routine lines.
        patch.setattr(routine, "CONNECTION", ())
        every_run_ended = _analysed([hourly_blips])
    assert _differences(every_run_ended, thinned) == []
    kept = thinned.load.frames["waagent"]
    assert kept.height < every_run_ended.load.frames["waagent"].height / 2
    # Each failure, and the completion after it that ends its streak, are kept.
    lines = hourly_blips.read_text().splitlines()
    failures = {n for n, line in enumerate(lines, 1) if "Error fetching the goal state" in line}
    completions = {n + 3 for n in failures}  # the next goal state's completion: enable, command, completion
    assert all("ProcessExtensionsGoalState completed" in lines[n - 1] for n in completions)
    assert failures | completions <= set(kept["line_first"].to_list())


def test_a_wire_message_that_is_not_the_connection_still_ends_every_run(hourly_blips):
    kept = set(_analysed([hourly_blips]).load.frames["waagent"]["line_first"].to_list())
    lines = hourly_blips.read_text().splitlines()
    failure = next(n for n, line in enumerate(lines, 1) if "Failed to fetch manifest" in line)
    assert "Enable extension" in lines[failure]
    # The enable after it is kept, as after any notable line.
    assert {failure, failure + 1} <= kept


def test_connection_verdicts_are_taken_once_per_distinct_text(monkeypatch):
    calls = []
    real = routine.found_in

    def counted(frame, *args, **kwargs):
        calls.append(frame.height)
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(routine, "found_in", counted)
    lines = routine.ConnectionLines(kept_messages(("wire.", "net.", "firewall.")))
    rows = pl.DataFrame(
        {
            "row": [0, 1, 2, 3],
            "message": [
                FAILURE.split("ExtHandler ExtHandler ")[1],
                MANIFEST_FAILURE.split("ExtHandler ExtHandler ")[1],
                "x",
                "y",
            ],
            "connection": [True, True, False, True],
        }
    )
    assert lines(rows).to_list() == [True, False, False, False]
    assert lines(rows.reverse()).to_list() == [False, False, False, True]
    assert calls == [3]  # three candidate texts, verified together once

"""Operation measurement across sources: background enables and multi-config handlers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from loglens.pipeline import analyze_loaded as analyze
from parsers import load_sources

REPO = Path(__file__).resolve().parents[1]
HANDLER = "Microsoft.CPlat.Core.RunCommandHandlerLinux"


def _outcomes(analysis) -> dict[str, tuple[timedelta, str]]:
    return {row[0]: (row[1], row[2]) for row in analysis.operations.select("extension", "took", "outcome").rows()}


def test_run_command_v2_enable_ends_at_its_handler_log_failure():
    outcomes = _outcomes(analyze(load_sources([REPO / "sample_logs" / "vm-rhel-logcollector.zip"])))
    took, outcome = outcomes[f"{HANDLER}.RC0001"]
    assert outcome == "failed"
    assert timedelta(minutes=10) <= took < timedelta(minutes=10, seconds=2)


def _status(path: Path, when: str, status: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "version": "1.0",
        "timestampUTC": when,
        "status": {
            "operation": "Enable",
            "status": status,
            "code": 0 if status == "success" else 1,
            "formattedMessage": {"lang": "en-US", "message": f"run command {status}"},
        },
    }
    path.write_text(json.dumps([entry]))


def test_each_multi_config_extension_is_ended_by_its_own_status(tmp_path):
    log = tmp_path / "var/log/waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        f"2025-08-05T09:00:00.000000Z INFO ExtHandler [{HANDLER}.RC0001-1.3.28] Enable extension [bin/run-command-shim enable]\n"
        f"2025-08-05T09:00:01.000000Z INFO ExtHandler [{HANDLER}.RC0002-1.3.28] Enable extension [bin/run-command-shim enable]\n"
        "2025-08-05T09:45:00.000000Z INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.15.0.1 is running as the goal state agent\n"
    )
    status_dir = tmp_path / f"var/lib/waagent/{HANDLER}-1.3.28/status"
    _status(status_dir / "RC0001.0.status", "2025-08-05T09:01:00Z", "success")
    _status(status_dir / "RC0002.0.status", "2025-08-05T09:30:01Z", "error")
    analysis = analyze(load_sources([tmp_path]))
    outcomes = _outcomes(analysis)
    assert outcomes[f"{HANDLER}.RC0001"] == (timedelta(minutes=1), "succeeded")
    assert outcomes[f"{HANDLER}.RC0002"] == (timedelta(minutes=30), "failed")
    slow = [f for f in analysis.findings if f.rule == "extension-provisioning-timeout"]
    assert [f.extension for f in slow] == [f"{HANDLER}.RC0002"]


def _agent_log(path: Path, lines: list[tuple[int, str]]) -> Path:
    """A 2.2-era waagent.log (no `Command:` lines: the goal state ends an operation), one line per
    (minutes after 10:00, text)."""
    start = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    text = "".join(
        f"{(start + timedelta(minutes=m)).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} INFO ExtHandler {line}\n"
        for m, line in lines
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_goal_state_line_that_ends_a_slow_operation_keeps_its_text(tmp_path):
    ext = "[Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.28.11]"
    log = _agent_log(
        tmp_path / "var" / "log" / "waagent.log",
        [
            (0, "ProcessExtensionsGoalState completed [incarnation_1 900 ms]"),
            (2, "ProcessExtensionsGoalState completed [incarnation_2 800 ms]"),
            (3, f"{ext} Enable extension [bin/enable]"),
            (40, "ProcessExtensionsGoalState completed [incarnation_3 2220000 ms]"),
            (41, "ProcessExtensionsGoalState completed [incarnation_4 700 ms]"),
        ],
    )
    analysis = analyze(load_sources([log]))
    ((context,),) = [analysis.contexts]
    texts = dict(context.operation_lines.read().select("line_first", pl.col("message").cast(pl.String)).iter_rows())
    # Of the operation lines, only those a finding may cite are held: the slow enable (line 3) and
    # the goal-state line that ended it, with its text (line 4); the quiet goal states are let go.
    assert sorted(texts) == [3, 4]
    assert "incarnation_3" in texts[4]
    (op,) = analysis.operations.rows(named=True)
    assert op["took"] == timedelta(minutes=37) and op["goal_record"] is not None
    (finding,) = analysis.findings.table.filter(pl.col("rule") == "extension-provisioning-timeout").rows(named=True)
    evidence = analysis.findings.evidence.filter(pl.col("finding") == finding["finding"])["text"].to_list()
    assert any("incarnation_3" in text for text in evidence)


def test_a_slow_background_enable_cites_its_handler_end_not_the_goal_state_after_it(tmp_path):
    ext = "[Microsoft.Azure.Extensions.CustomScript-2.1.10]"
    _agent_log(
        tmp_path / "var" / "log" / "waagent.log",
        [
            (0, "ProcessExtensionsGoalState completed [incarnation_1 900 ms]"),
            (1, f"{ext} Enable extension [bin/custom-script-shim enable]"),
            (1, f"{ext} Command: bin/custom-script-shim enable\n[stdout]\nforked\n[stderr]"),
            (2, "ProcessExtensionsGoalState completed [incarnation_2 800 ms]"),
            (3, "ProcessExtensionsGoalState completed [incarnation_3 800 ms]"),
        ],
    )
    handler = tmp_path / "var" / "log" / "azure" / "Microsoft.Azure.Extensions.CustomScript" / "handler.log"
    handler.parent.mkdir(parents=True)
    handler.write_text(
        "time=2024-03-01T10:01:30Z version=v2.1.10 operation=enable seq=0 event=start\n"
        "time=2024-03-01T11:20:00Z version=v2.1.10 operation=enable seq=0 event=enabled\n"
    )
    analysis = analyze(load_sources([tmp_path]))
    (op,) = analysis.operations.filter(pl.col("operation") == "Enable").rows(named=True)
    assert op["took"] > timedelta(minutes=78) and op["handler_line"] == 2
    (finding,) = analysis.findings.table.filter(pl.col("rule") == "extension-provisioning-timeout").rows(named=True)
    evidence = analysis.findings.evidence.filter(pl.col("finding") == finding["finding"])
    # The start line and the handler's end, and no goal-state line (its text left out, it would be empty).
    assert (evidence["text"].fill_null("") != "").all()
    assert (
        evidence["text"].str.contains("Enable extension").any() and evidence["text"].str.contains("event=enabled").any()
    )
    assert evidence.height == 2

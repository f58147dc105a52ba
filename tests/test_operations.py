"""Operation measurement across sources: background enables and multi-config handlers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

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

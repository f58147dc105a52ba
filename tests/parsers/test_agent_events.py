"""The agent's telemetry event files (`/var/lib/waagent/events/*.tld`) as extension log rows.

The fixtures under tests/fixtures/formats/var/lib/waagent/events/ are built from the agent's own
field names (`azurelinuxagent/common/event.py`, `telemetryevent.py`): a failed extension
operation as a 2.12 agent saves it (`.waagent.tld`, time in `OpcodeName`), and a 2.2 agent's own
event (`.tld`, no `OpcodeName`: its time is the file's name).
"""

from __future__ import annotations

import json
import shutil

from parsers import load_sources
from tests.test_output_safety import REPO, loglens

EVENTS = REPO / "tests/fixtures/formats/var/lib/waagent/events"
EXTENSION_EVENTS = REPO / "tests/fixtures/formats/var/log/azure/Microsoft.Azure.Monitor.AzureMonitorLinuxAgent/events"
EXTENSION_EVENT = EXTENSION_EVENTS / "1741947633123.json"
FAILED = EVENTS / "1741947633123456.waagent.tld"


def _event(event_id: int, **parameters) -> str:
    return json.dumps(
        {
            "eventId": event_id,
            "providerId": "69B669B9-4AF8-4C50-BDC4-6006FA76E975",
            "parameters": [{"name": k, "value": v} for k, v in parameters.items()],
        }
    )


def test_event_files_become_extension_log_rows():
    result = load_sources([EVENTS])
    assert [(a.kind, a.balanced, a.recognised_by) for a in result.accounts] == [("agent_event", True, "name")] * 2
    rows = result.frames["extension_logs"].select(
        "extension", "extension_version", "level", "operation", "log_format", "timestamp", "message"
    )
    failed, agent = rows.rows(named=True)
    assert (failed["extension"], failed["extension_version"], failed["level"], failed["operation"]) == (
        "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent",
        "1.33.2",
        "ERROR",
        "Install",
    )
    assert failed["log_format"] == "event" and failed["timestamp"].isoformat() == "2025-03-14T10:20:33.123456+00:00"
    assert failed["message"].startswith("Install failed with exit code 56")
    # The agent's own operation names no extension; with no `OpcodeName` its time is the file's name.
    assert (agent["extension"], agent["level"], agent["operation"]) == (None, "INFO", "Enable")
    assert agent["timestamp"].isoformat() == "2025-03-14T10:20:40+00:00"


def test_a_log_event_is_a_row_and_a_metric_is_accounted_but_not_a_row(tmp_path):
    folder = tmp_path / "var/lib/waagent/events"
    folder.mkdir(parents=True)
    (folder / "1741947700000000.waagent.tld").write_text(
        _event(
            7,
            EventName="Log",
            CapabilityUsed="WARNING",
            Context1="Cgroup quota exceeded",
            Context2="2025-03-14T10:21:40.000000Z",
            Context3="",
        )
    )
    (folder / "1741947800000000.waagent.tld").write_text(
        _event(4, Category="Memory", Counter="Total Memory Usage", Instance="", Value=12.5)
    )
    (folder / "1741947900000000.waagent.tld").write_text('{"eventId": 1}')
    result = load_sources([tmp_path])
    assert all(a.balanced for a in result.accounts)
    counts = [(a.skipped, a.unparsed, bool(a.warnings)) for a in result.accounts]
    assert counts == [(0, 0, False), (1, 0, False), (0, 1, True)]
    assert result.frames["extension_logs"].select("level", "message").rows() == [("WARNING", "Cgroup quota exceeded")]


def test_an_event_file_under_another_name_is_known_by_its_content(tmp_path):
    path = tmp_path / "event-from-customer.json"
    shutil.copy(FAILED, path)
    result = load_sources([path])
    assert [(a.kind, a.recognised_by) for a in result.accounts] == [("agent_event", "content")]


def _findings(path, tmp_path) -> list[tuple]:
    out = tmp_path / f"{path.name}.json"
    run = loglens("analyze", str(path), "--json", str(out), "-q", cwd=REPO)
    assert run.returncode == 0, run.stderr
    document = json.loads(out.read_text())
    return sorted((f["rule"], f["severity"], f["extension"], f["title"]) for f in document["findings"])


def test_a_failed_event_gives_the_finding_the_equivalent_extension_event_gives(tmp_path):
    """`loglens analyze` as a subprocess: the agent's event file and the extension's own event
    file for the same failure give the same findings."""
    agent_file, extension_file = tmp_path / "agent", tmp_path / "extension"
    agent_file.mkdir(), extension_file.mkdir()
    found = _findings(FAILED, agent_file)
    assert found == _findings(EXTENSION_EVENT, extension_file)
    assert ("package-manager-lock", "error", "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent") in [f[:3] for f in found]

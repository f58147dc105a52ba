"""Extension telemetry events (`/var/log/azure/<ext>/events/*.json`) as extension log rows."""

from __future__ import annotations

import json

from parsers import load_sources

EVENT = {
    "Version": "1.33.2",
    "Timestamp": "2025-03-14T10:20:33.123456Z",
    "TaskName": "Install",
    "EventLevel": "Error",
    "Message": "Install failed with exit code 56 because the package manager on the VM is currently locked",
    "EventPid": "4212",
    "EventTid": "4212",
    "OperationId": "2f0a8a1e-3f3e-4d0a-9b5c-6c1e8f5a7b21",
}


def test_event_files_become_extension_log_rows(tmp_path):
    folder = tmp_path / "var/log/azure/Microsoft.Azure.Monitor.AzureMonitorLinuxAgent/events"
    folder.mkdir(parents=True)
    (folder / "1741947633123.json").write_text(json.dumps([EVENT, {**EVENT, "EventLevel": "Informational"}]))
    result = load_sources([tmp_path])
    (account,) = result.accounts
    assert account.kind == "extension_event" and account.balanced
    rows = result.frames["extension_logs"].select("extension", "level", "operation", "log_format", "timestamp").rows()
    assert [r[:4] for r in rows] == [
        ("Microsoft.Azure.Monitor.AzureMonitorLinuxAgent", "ERROR", "Install", "event"),
        ("Microsoft.Azure.Monitor.AzureMonitorLinuxAgent", "INFO", "Install", "event"),
    ]
    assert rows[0][4].isoformat() == "2025-03-14T10:20:33.123456+00:00"


def test_an_event_file_under_another_name_is_known_by_its_content(tmp_path):
    path = tmp_path / "events-from-customer.json"
    path.write_text(json.dumps([EVENT]))
    assert [a.kind for a in load_sources([path]).accounts] == ["extension_event"]

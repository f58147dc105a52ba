"""The agent's copies of the goal state (ExtensionsConfig XML, VmSettings JSON) and the handler's
manifest and environment files: what the platform asked for, without ever reading settings."""

from __future__ import annotations

import shutil
from pathlib import Path

from loglens import api
from parsers import load_sources

TREE = Path(__file__).resolve().parents[1] / "fixtures" / "goal-state"
#: Planted in the fixture's protected settings, public settings and status blob URL.
SECRETS = ("TOPSECRETPROT", "TOPSECRETSIG", "TOPSECRETBLOB", "MIIBsAYJKoZIhvcNAQcDoIIBoTCCAZ0CAQAxggFpTOPSECRET")


def test_requested_extensions_from_extensions_config_and_vm_settings():
    result = load_sources([TREE])
    rows = result.frames["goal_state"].select("goal_state", "extension", "extension_version", "state", "auto_upgrade")
    assert sorted(rows.rows()) == [
        (
            "a33f6f53-43d6-4625-b322-1a39651a00c9",
            "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent",
            "1.33.2",
            "enabled",
            True,
        ),
        ("incarnation 5", "Microsoft.Azure.Extensions.CustomScript", "2.1.10", "enabled", True),
    ]
    assert all(a.balanced for a in result.accounts)


def test_handler_manifest_and_environment():
    frame = load_sources([TREE]).frames["handler_manifests"].sort("file")
    assert frame.select("file", "update_mode", "log_folder").rows() == [
        ("environment", None, "/var/log/azure/custom-script"),
        ("manifest", "UpdateWithoutInstall", None),
    ]


def test_no_setting_or_sas_reaches_any_frame_or_export(tmp_path):
    result = load_sources([TREE])
    for name, frame in result.frames.items():
        text = frame.write_csv() if frame.height else ""
        assert not any(s in text for s in SECRETS), name
    api.export(result, tmp_path / "frames")
    blob = b"".join(p.read_bytes() for p in (tmp_path / "frames").glob("*.parquet"))
    assert not any(s.encode() in blob for s in SECRETS)


def test_key_and_provisioning_files_are_never_read(tmp_path):
    tree = tmp_path / "vm"
    shutil.copytree(TREE, tree)
    (tree / "var/lib/waagent/ovf-env.xml").write_text(
        "<Environment>waagent Microsoft.Azure <UserPassword>TOPSECRETPW</UserPassword></Environment>\n"
    )
    (tree / "var/lib/waagent/4037FBF5F1F3014F99B5D6C7799E9B20E6871CB3.prv").write_text("waagent TOPSECRETKEY\n")
    result = load_sources([tree])
    assert not any(a.path.endswith(("ovf-env.xml", ".prv")) for a in result.accounts)
    assert {Path(p).name for p in result.ignored} >= {"ovf-env.xml", "4037FBF5F1F3014F99B5D6C7799E9B20E6871CB3.prv"}


def test_facts_say_what_the_goal_state_asks_for():
    facts = api.analyze(load_sources([TREE])).facts["extensions"][0].to_list()
    assert {
        "name": "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent",
        "version": None,
        "status": None,
        "requested": "1.33.2",
    } in facts

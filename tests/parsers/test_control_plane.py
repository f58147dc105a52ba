"""Control-plane error JSON (ARM deployments, CLI output) as records, from real posts in tests/corpus."""

from __future__ import annotations

from pathlib import Path

from parsers import load_sources

CASES = Path(__file__).resolve().parents[1] / "corpus" / "cases"


def _case(prefix: str) -> Path:
    return next(CASES.glob(f"{prefix}-*"))


def test_arm_error_json_becomes_one_record_per_message():
    # https://github.com/microsoft/PartsUnlimitedMRP/issues/134: compact one-line ARM error JSON.
    result = load_sources([_case("028")])
    (account,) = result.accounts
    assert account.kind == "control_plane" and account.balanced
    frame = result.frames["control_plane"]
    timeout = frame.filter(frame["error_code"] == "VMExtensionProvisioningTimeout")
    assert timeout.height == 1
    assert timeout["name"][0] == "mrpsetup"
    assert timeout["message"][0].startswith("Provisioning of VM extension 'mrpsetup' has timed out.")


def test_json_nested_in_a_message_string_is_decoded_with_its_output_sections(tmp_path):
    # The shape ARM gives an extension failure: the inner error is JSON inside `details[].message`,
    # and the extension's output inside that has its newlines escaped once more.
    inner = (
        '{"status": "Failed", "error": {"code": "ResourceDeploymentFailure", "details": [{"code": '
        '"VMExtensionProvisioningError", "message": "VM has reported a failure when processing extension '
        "'cse-agent-0'. Error message: \\\\\\\"Enable failed: failed to execute command: command terminated with "
        'exit status=41\\\\n[stdout]\\\\nhello\\\\n[stderr]\\\\nboom\\\\\\"."}]}}'
    )
    document = '{"error": {"code": "DeploymentFailed", "details": [{"code": "Conflict", "message": %s}]}}'
    path = tmp_path / "deployment.json"
    import json

    path.write_text(document % json.dumps(inner))
    frame = load_sources([path]).frames["control_plane"]
    row = frame.filter(frame["error_code"] == "VMExtensionProvisioningError").row(0, named=True)
    assert row["name"] == "cse-agent-0" and row["exit_code"] == 41
    assert row["stdout"].strip() == "hello" and row["stderr"].startswith("boom")


def test_truncated_paste_keeps_its_text_and_says_so():
    # https://github.com/Azure/aks-engine/issues/802: the stored post ends inside the JSON.
    result = load_sources([_case("031")])
    (account,) = result.accounts
    assert account.kind == "control_plane" and account.balanced
    assert any("not complete JSON" in w for w in account.warnings)
    assert "VMExtensionProvisioningTimeout" in result.frames["control_plane"]["message"][0]


def test_status_file_under_another_name_is_read_as_a_status_file():
    # https://github.com/Azure/WALinuxAgent (case 074): a GuestConfiguration status file saved as JSON.
    result = load_sources([_case("074")])
    assert [a.kind for a in result.accounts] == ["status"]
    assert result.frames["status"]["status"].cast(str)[0] == "error"


def _warnings_for(tmp_path, text: str) -> list[str]:
    path = tmp_path / "paste.txt"
    path.write_text(text)
    result = load_sources([path])
    (account,) = result.accounts
    assert account.kind == "control_plane" and account.balanced
    return [w.removeprefix(f"{path}: ") for w in account.warnings]


def test_only_json_that_stops_early_is_called_truncated(tmp_path):
    # A bracket opening a line of text is not JSON: no word about JSON at all.
    assert _warnings_for(tmp_path, "[ExtensionOperationError] Non-zero exit code: 127, bin/install.sh\n") == []
    cut = '{"code": "VMExtensionProvisioningError", "message": "VM has reported a failure when processing extension\n'
    assert _warnings_for(tmp_path, cut) == [
        "not complete JSON: it stops at line 1 (a truncated paste?); its text is kept as one record"
    ]
    broken = '{"code": "VMExtensionProvisioningError", "message": "VM has reported a failure" "x": 1}\n'
    assert _warnings_for(tmp_path, broken) == [
        "not valid JSON (Expecting ',' delimiter at line 1 column 81); its text is kept as one record"
    ]

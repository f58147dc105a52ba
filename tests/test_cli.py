"""The CLI as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]


def loglens(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loglens", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".ndjson"])
def test_parse_sample_logs_writes_records_and_accounting(tmp_path, suffix):
    out = tmp_path / f"records{suffix}"
    run = loglens("parse", "sample_logs", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    frame = {".parquet": pl.read_parquet, ".csv": pl.read_csv, ".ndjson": pl.read_ndjson}[suffix](out)
    assert frame.height > 100
    assert "sample_logs/vm-modern/var/log/waagent.log-2025-06-10-1749513600.gz" in run.stdout
    rows = [line for line in run.stdout.splitlines() if line.strip().startswith("sample_logs/")]
    assert len(rows) > 40 and all(line.rstrip().endswith("yes") for line in rows)
    assert "sample_logs/vm-rhel-logcollector.zip!var/log/waagent.log " in run.stdout
    assert "1 file(s) not read (not a source loglens knows): sample_logs/README.md" in run.stdout
    assert f"rows written to {out}" in run.stdout


def test_accounting_numbers_add_up_in_output(tmp_path):
    run = loglens("parse", "sample_logs/vm-legacy/var/log/waagent.log", "--out", str(tmp_path / "r.parquet"))
    row = next(line for line in run.stdout.splitlines() if "waagent.log" in line)
    # Piped, the table is never cut: one row per source, cells apart by spaces.
    cells = row.split()
    lines, records, continuations, unparsed = (int(c) for c in cells[4:8])
    assert lines == records + continuations + unparsed == 66


def test_bad_inputs_warn_and_the_rest_is_parsed(tmp_path):
    (tmp_path / "waagent.log").write_bytes(b"2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler ok\n\xff\n")
    out = tmp_path / "r.ndjson"
    run = loglens("parse", str(tmp_path / "missing.log"), str(tmp_path), "--out", str(out))
    assert run.returncode == 0
    assert f"warning: {tmp_path / 'missing.log'}: no such file" in run.stderr
    assert "not valid UTF-8" in run.stderr
    assert "Traceback" not in run.stderr
    assert pl.read_ndjson(out)["line_format"].to_list() == ["agent-iso", "unparsed"]


def test_nothing_readable_is_an_input_error(tmp_path):
    run = loglens("parse", str(tmp_path / "missing.log"), "--out", str(tmp_path / "r.parquet"))
    assert run.returncode == 2
    assert "no such file" in run.stderr and "error:" in run.stderr
    assert "Traceback" not in run.stderr


def test_unknown_output_type_is_an_input_error(tmp_path):
    run = loglens("parse", "sample_logs", "--out", str(tmp_path / "r.xlsx"))
    assert run.returncode == 2
    assert "unknown output type .xlsx" in run.stderr


def test_bad_timezone_is_an_input_error(tmp_path):
    run = loglens("parse", "sample_logs", "--tz", "Mars/Olympus", "--out", str(tmp_path / "r.parquet"))
    assert run.returncode == 2
    assert "unknown time zone" in run.stderr


def test_tz_shifts_local_lines_only(tmp_path):
    utc_out, shifted_out = tmp_path / "utc.parquet", tmp_path / "shifted.parquet"
    assert loglens("parse", "sample_logs", "--out", str(utc_out)).returncode == 0
    assert loglens("parse", "sample_logs", "--tz", "-05:00", "--out", str(shifted_out)).returncode == 0
    utc, shifted = pl.read_parquet(utc_out), pl.read_parquet(shifted_out)
    delta = (shifted["timestamp"] - utc["timestamp"]).dt.total_hours()
    assert set(delta.filter(utc["timestamp_local_assumed"]).to_list()) == {5}
    assert set(delta.filter(~utc["timestamp_local_assumed"]).to_list()) == {0}


def test_secrets_are_redacted_in_exports(tmp_path):
    log = tmp_path / "waagent.log"
    log.write_text(
        "2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler Downloading "
        "https://acct.blob.core.windows.net/c/s.sh?sv=2021-08-06&sig=AbCdEf%2B123%3D&se=2025\n"
        "2025-03-02T11:05:42.220183Z ERROR ExtHandler ExtHandler Event: name=X.Y, op=Enable, message=failed\n"
        '[stderr]\n{"commandToExecute": "mysql --password=hunter2"}\n, duration=0\n'
    )
    out = tmp_path / "r.csv"
    assert loglens("parse", str(log), "--out", str(out)).returncode == 0
    text = out.read_text()
    assert "AbCdEf" not in text and "hunter2" not in text
    assert "sig=«REDACTED»" in text


def test_parse_to_directory_writes_one_parquet_per_frame(tmp_path):
    out = tmp_path / "frames"
    run = loglens("parse", "sample_logs", "--out", str(out))
    assert run.returncode == 0, run.stderr
    names = sorted(p.stem for p in out.glob("*.parquet"))
    assert names == sorted(
        [
            "waagent",
            "command_execution",
            "extension_logs",
            "status",
            "substatus",
            "handler_state",
            "control_plane",
            "goal_state",
            "handler_manifests",
            "settings",
            "instance_view",
            "vm_extensions",
            "config",
            "agent_version",
        ]
    )
    status = pl.read_parquet(out / "status.parquet")
    assert {"Contoso.Compliance.LinuxAudit", "Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux"} <= set(
        status["extension"]
    )
    settings = (out / "settings.parquet").read_bytes()
    assert b"MIIB" not in settings  # no protected-settings ciphertext in any output


def test_analyze_prints_findings_with_evidence_locations():
    run = loglens("analyze", "sample_logs/vm-modern")
    assert run.returncode == 0, run.stderr
    assert "ERROR   package-manager-lock" in run.stdout
    assert "sample_logs/vm-modern/var/log/waagent.log:14" in run.stdout
    assert "related: extension-command-failed, extension-provisioning-timeout" in run.stdout


def test_analyze_of_several_vms_names_the_vm_of_each_finding():
    run = loglens("analyze", "sample_logs/vm-legacy", "sample_logs/vm-modern")
    assert run.returncode == 0, run.stderr
    heads = [line for line in run.stdout.splitlines() if line.startswith(("ERROR ", "WARNING ", "INFO "))]
    vms = [line.split("  ", 1)[1].split("]", 1)[0].split("[", 1)[1] for line in heads]
    assert set(vms) == {"sample_logs/vm-legacy", "sample_logs/vm-modern"} and len(vms) == len(heads)
    alone = loglens("analyze", "sample_logs/vm-modern")
    assert "[sample_logs/vm-modern]" not in alone.stdout


def test_analyze_json_document_shape_on_stdout():
    run = loglens("analyze", "sample_logs/vm-modern", "--json", "-")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert set(document) == {
        "loglens_version", "inputs", "findings", "other_errors", "summary", "verdict", "vms", "unexplained",
        "rule_failures", "warnings",
    }
    # One VM: its entry reads like the run, and lists every input.
    (vm,) = document["vms"]
    assert set(vm) == {"vm", "collection", "inputs", "verdict", "summary"}
    assert vm["vm"] == "vm-modern" and vm["collection"] == "sample_logs/vm-modern"
    assert vm["verdict"] == document["verdict"] and vm["summary"] == document["summary"]
    assert vm["inputs"] == [i["path"] for i in document["inputs"]]
    assert set(document["unexplained"]) == {"error_records", "warning_records", "known_benign_records", "inputs_not_read"}
    assert set(document["inputs"][0]) == {"path", "kind", "lines", "records", "unparsed"}
    finding = document["findings"][0]
    assert set(finding) == {
        "rule",
        "category",
        "severity",
        "title",
        "summary",
        "collection",
        "extension",
        "version",
        "first_seen",
        "last_seen",
        "count",
        "evidence",
        "explanation",
        "remediation",
        "docs",
        "related",
        "episodes",
    }
    assert finding["first_seen"].endswith("Z") and set(finding["evidence"][0]) == {"path", "line", "text"}
    assert document["summary"] == {
        s: sum(f["severity"] == s for f in document["findings"]) for s in ("error", "warning", "info")
    }
    other = document["other_errors"][0]
    assert set(other) == {"template", "count", "example"} and set(other["example"]) == {"path", "line", "text"}


def test_analyze_fail_on_sets_exit_status(tmp_path):
    out = tmp_path / "report.json"
    assert loglens("analyze", "sample_logs/vm-modern", "--fail-on", "error", "--json", str(out)).returncode == 1
    assert json.loads(out.read_text())["summary"]["error"] > 0
    assert loglens("analyze", "sample_logs/vm-healthy", "--fail-on", "warning").returncode == 0
    assert loglens("analyze", "sample_logs/vm-modern").returncode == 0


def test_analyze_redacts_secrets_in_json(tmp_path):
    log = tmp_path / "var/log/waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        "2025-03-02T11:05:42.220183Z ERROR ExtHandler ExtHandler Event: name=Microsoft.Azure.Extensions.CustomScript, op=Enable, "
        "message=[ExtensionOperationError] Non-zero exit code: 127, /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/bin/x\n"
        "[stdout]\n\n[stderr]\ncurl https://acct.blob.core.windows.net/c/s.sh?sv=2021&sig=TOPSECRETSIG%3D failed; password=Hunter2\n, duration=0\n"
    )
    run = loglens("analyze", str(tmp_path), "--json", "-")
    assert run.returncode == 0, run.stderr
    assert "TOPSECRETSIG" not in run.stdout and "Hunter2" not in run.stdout
    assert "sig=«REDACTED»" in run.stdout


def test_rules_lists_and_documents_rules():
    listing = loglens("rules")
    assert listing.returncode == 0
    assert "wireserver-unreachable" in listing.stdout and "lock-contention" in listing.stdout
    one = loglens("rules", "unsupported-os")
    assert one.returncode == 0
    for section in (
        "What it detects:",
        "Why it matters:",
        "Example:",
        "Known benign causes:",
        "Remediation:",
        "References:",
    ):
        assert section in one.stdout
    assert loglens("rules", "no-such-rule").returncode == 2


def test_text_loglens_does_not_understand_is_never_called_healthy(tmp_path):
    # `loglens analyze /var/log/dpkg.log` once printed "0 error(s)" and exited 0.
    dpkg = tmp_path / "dpkg.log"
    dpkg.write_text(
        "2024-03-01 06:25:01 startup archives unpack\n2024-03-01 06:25:02 install libc6:amd64 <none> 2.35-0ubuntu3.6\n"
    )
    run = loglens("analyze", str(dpkg), "--fail-on", "warning")
    assert run.returncode == 2
    assert f"error: no agent, extension or Azure text recognised in 2 line(s) of {dpkg}" in run.stderr
    assert run.stdout == ""


def test_a_directory_without_sources_names_what_it_found(tmp_path):
    (tmp_path / "notes.txt").write_text("shopping list\nmilk\n")
    (tmp_path / "core").write_bytes(b"\x7fELF\x00\x01\x02" * 50)
    (tmp_path / "other.json").write_text('{"name": "not azure"}')
    run = loglens("analyze", str(tmp_path))
    assert run.returncode == 2
    lines = run.stderr.splitlines()
    assert lines[-1] == "error: no log lines could be read: 3 file(s) found, none with a readable line"
    assert f"warning: {tmp_path / 'core'}: not read: binary data" in lines
    assert any(line.startswith(f"warning: {tmp_path / 'notes.txt'}: not read: text with no agent") for line in lines)
    assert any(line.startswith(f"warning: {tmp_path / 'other.json'}: not read: JSON, not a shape") for line in lines)
    empty = loglens("analyze", str(tmp_path / "missing-dir-that-is-empty"))
    assert empty.returncode == 2


def test_verdict_says_how_much_text_was_not_understood(tmp_path):
    # Pasted portal text with one agent line: the finding stands, and the verdict says the rest
    # of the text was searched as plain text.
    paste = tmp_path / "case.log"
    paste.write_text(
        "Customer says the VM was fine yesterday.\n"
        "They ran an update overnight.\n"
        "Then this showed up:\n"
        "2025-01-22T07:21:09.000000Z ERROR ExtHandler ExtHandler Event: name=Contoso.Agents.Collector, op=Install, "
        "message=[ExtensionOperationError] Non-zero exit code: 127, bin/install.sh\n"
    )
    out = tmp_path / "r.md"
    run = loglens("analyze", str(paste), "--markdown", str(out), "-q")
    assert run.returncode == 0, run.stderr
    assert "3 of 4 lines (75%) were not recognised as agent, extension or Azure text" in out.read_text()


def test_a_missing_path_is_an_input_error_before_any_work():
    """A typo among several paths used to pass as a smaller input, with a healthy verdict."""
    run = loglens("analyze", "sample_logs/vm-healthy", "sample_logs/vm-helthy", "-q")
    assert run.returncode == 2
    assert run.stderr.strip() == "error: sample_logs/vm-helthy: no such file or directory"


def test_one_report_per_run_whatever_the_outputs(tmp_path, monkeypatch):
    """The model was built once per output and once more for a JSON document nobody asked for;
    now one typed report is built per run and every renderer is handed that same object."""
    from typer.testing import CliRunner

    from loglens import cli
    from loglens.reports import document, html, markdown, model, terminal
    from loglens.reports.report import Report

    built, drawn = [], []
    real = model.build
    monkeypatch.setattr(model, "build", lambda *a, **k: built.append((k, real(*a, **k))) or built[-1][1])
    for renderer in (document, html, markdown, terminal):
        original = renderer.render
        monkeypatch.setattr(renderer, "render", lambda r, *a, _o=original, **k: drawn.append(r) or _o(r, *a, **k))
    sample = str(Path(__file__).resolve().parents[1] / "sample_logs" / "vm-modern")
    outputs = ["--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"), "--markdown", str(tmp_path / "r.md")]
    run = CliRunner().invoke(cli.app, ["analyze", sample, *outputs])
    assert run.exit_code == 0, run.output
    assert len(built) == 1 and built[0][0]["neighbours"] and built[0][0]["facts"] and built[0][0]["charts"]
    assert isinstance(built[0][1], Report) and len(drawn) == 4
    assert all(r is built[0][1] for r in drawn)
    built.clear()
    drawn.clear()
    assert CliRunner().invoke(cli.app, ["analyze", sample]).exit_code == 0
    assert len(built) == 1 and not built[0][0]["neighbours"] and not built[0][0]["facts"] and not built[0][0]["charts"]
    assert drawn == [built[0][1]]
    built.clear()
    assert CliRunner().invoke(cli.app, ["analyze", sample, "--markdown", str(tmp_path / "m.md")]).exit_code == 0
    assert len(built) == 1 and built[0][0]["neighbours"] and not built[0][0]["charts"]

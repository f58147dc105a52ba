"""The canary: every planted secret form, in every source kind, and not one copy of the secret in
any output (terminal, JSON, HTML, Markdown, every `parse` export, the notebook's frames)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest

import loglens
from tests.test_redact import LEAKED_BEFORE

REPO = Path(__file__).resolve().parents[1]
CANARY = "S3CR3T"
HANDLER = "Microsoft.Azure.Extensions.CustomScript-2.1.10"
KEY_BLOCK = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAS3CR3T" + "Q" * 50 + "\n-----END RSA PRIVATE KEY-----"


def _waagent(forms: list[str]) -> str:
    lines = [f"2024-05-01T10:00:{i:02d}.000000Z ERROR ExtHandler ExtHandler failed: {f}" for i, f in enumerate(forms)]
    # The same forms inside an extension event's output sections (continuation lines).
    stderr = "\n".join(forms)
    lines.append(
        "2024-05-01T10:01:00.000000Z WARNING ExtHandler ExtHandler [PERIODIC] Event: name="
        f"{HANDLER.rsplit('-', 1)[0]}, op=Enable, message=[ExtensionOperationError] Non-zero exit code: 1, "
        f"bin/custom-script-shim enable\n[stdout]\n{stderr}\n[stderr]\n{KEY_BLOCK}\n, duration=0"
    )
    return "\n".join(lines) + "\n"


def _plant(root: Path) -> None:
    # A bare key line is a secret only as a line of its own (a PEM body); it is planted that way below.
    forms = [f for f in LEAKED_BEFORE if not f.startswith("MIIE")]
    files = {
        "var/log/waagent.log": _waagent(forms),
        "var/log/azure/Microsoft.Azure.Extensions.CustomScript/handler.log": "".join(
            f"time=2024-05-01T10:00:00Z version=v2.1.10 operation=enable seq=0 event=fail error={f}\n" for f in forms
        )
        + KEY_BLOCK
        + "\n",
        "var/log/azure/run-command-handler/handler.log": "".join(
            f"time=2024-05-01T10:00:00Z version=v1.3.2 operation=enable seq=0 event=fail msg={f}\n" for f in forms
        ),
        f"var/lib/waagent/{HANDLER}/status/0.status": json.dumps(
            [
                {
                    "status": {
                        "operation": "Enable",
                        "status": "error",
                        "code": 1,
                        "formattedMessage": {"lang": "en-US", "message": "\n".join(forms) + "\n" + KEY_BLOCK},
                    }
                }
            ]
        ),
        f"var/lib/waagent/{HANDLER}/config/0.settings": json.dumps(
            {
                "runtimeSettings": [
                    {
                        "handlerSettings": {
                            "protectedSettingsCertThumbprint": "ABC",
                            "protectedSettings": f"MIIB{CANARY}encrypted",
                            "publicSettings": {"commandToExecute": f"echo {CANARY}"},
                        }
                    }
                ]
            }
        ),
        "etc/waagent.conf": f"Provisioning.Password={CANARY}\nHttpProxy.Host=http://u:{CANARY}@proxy\nHttpProxy.Port=3128\n",
        "instance-view.json": json.dumps(
            {
                "vmAgent": {"vmAgentVersion": "2.9.1.1", "statuses": []},
                "extensions": [
                    {
                        "name": "CustomScript",
                        "type": "Microsoft.Azure.Extensions.CustomScript",
                        "typeHandlerVersion": "2.1.10",
                        "statuses": [
                            {
                                "code": "ProvisioningState/failed/1",
                                "level": "Error",
                                "displayStatus": "Provisioning failed",
                                "message": "\n".join(forms),
                            }
                        ],
                    }
                ],
            }
        ),
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # A settings file handed over by itself, under a name that says nothing.
    (root.parent / "given.txt").write_text(files[f"var/lib/waagent/{HANDLER}/config/0.settings"])


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    base = tmp_path_factory.mktemp("canary")
    vm = base / "vm"
    _plant(vm)
    with zipfile.ZipFile(base / "vm2.zip", "w") as bundle:
        for path in vm.rglob("*"):
            if path.is_file():
                bundle.write(path, path.relative_to(vm))
    return base


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "loglens", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def _strings(frame: pl.DataFrame) -> str:
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    return frame.with_columns(pl.col(lists).list.join("\n")).select(pl.col(pl.String)).write_csv()


def test_every_form_was_planted_in_text_loglens_reads(planted):
    lens = loglens.load([planted / "vm", planted / "vm2.zip", planted / "given.txt"], redact=False)
    raw = "".join(_strings(frame) for frame in lens.frames.values())
    # Without redaction the canary is there: the test below is not vacuous.
    assert raw.count(CANARY) > 3 * len(LEAKED_BEFORE)


def test_no_output_carries_a_secret(planted):
    inputs = ["vm", "vm2.zip", "given.txt"]
    analyze = _run("analyze", *inputs, "--json", "r.json", "--html", "r.html", "--markdown", "r.md", cwd=planted)
    assert analyze.returncode == 0, analyze.stderr
    leaks = {"terminal": analyze.stdout + analyze.stderr}
    for name in ("r.json", "r.html", "r.md"):
        leaks[name] = (planted / name).read_text()
    for out in ("frames", "x.csv", "x.ndjson", "x.parquet"):
        run = _run("parse", *inputs, "--out", out, cwd=planted)
        assert run.returncode == 0, run.stderr
        leaks[f"parse terminal {out}"] = run.stdout + run.stderr
    for path in [*(planted / "frames").glob("*.parquet"), planted / "x.parquet"]:
        leaks[path.name] = _strings(pl.read_parquet(path))
    leaks["x.csv"] = (planted / "x.csv").read_text()
    leaks["x.ndjson"] = (planted / "x.ndjson").read_text()
    lens = loglens.load([planted / p for p in inputs])
    for name, frame in lens.frames.items():
        leaks[f"lens.{name}"] = _strings(frame)
    leaks["lens.warnings"] = "\n".join(lens.warnings)
    leaks["findings"] = _strings(lens.findings.frame) + _strings(lens.findings.evidence)
    found = {where: text.count(CANARY) for where, text in leaks.items() if CANARY in text}
    assert not found, found

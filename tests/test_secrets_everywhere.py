"""Secrets planted in every kind of source a VM gives loglens, in the forms the hardening audit
found leaking, leave no copy in any output: terminal, JSON, Markdown, HTML, `parse --out`.

Each secret is a distinct `S3CR3T<n>` token so a leak names the form that leaked.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.test_output_safety import loglens

STAMP = "2024-05-01T10:00:{:02d}.000000Z ERROR ExtHandler ExtHandler"

#: One line per form; each an error, so it reaches the evidence, the other errors and templates.
AGENT_FORMS = (
    "az storage blob upload --account-key S3CR3T01 -f x",
    "export AZURE_STORAGE_KEY=S3CR3T02",
    "az login -u admin@contoso.com -p S3CR3T03",
    "mysql -uroot -pS3CR3T04 -h db",
    "curl -u user:S3CR3T05 https://example.com",
    "git clone https://ghp_S3CR3T06abcdefghijklmnopqrst@github.com/o/r.git",
    "AZURE_DEVOPS_EXT_PAT=S3CR3T07",
    "Download failed: https://a.blob.core.windows.net/c/b?sv=2021-08-06\\u0026sig=S3CR3T08\\u0026se=2025",
    'settings="{\\"commandToExecute\\":\\"echo hi && curl -H x S3CR3T09\\"}"',
    '{\\"adminPassword\\": \\"S3CR3T10\\"}',
    "HttpProxy.Host=http://user:p@ssS3CR3T11@proxy:3128 failed",
    "openssl pkcs12 -in x.pfx -passin pass:S3CR3T12",
    "key material " + "S3CR3T13" + "A1b2" * 19 + "ab==",
)


def _tree(root: Path) -> Path:
    vm = root / "vm"
    log = vm / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    lines = [f"{STAMP.format(i)} {form}" for i, form in enumerate(AGENT_FORMS)]
    # A command's stderr whose secret sits past the evidence cut and across the tail's join.
    lines.append(
        f"{STAMP.format(40)} [Microsoft.Azure.Extensions.CustomScript-2.1.10] Non-zero exit code: 1, "
        "bin/custom-script-shim enable\n[stdout]\n" + "x" * 1300 + "\n[stderr]\nAuthorization: Bearer\nS3CR3T20token\n"
    )
    log.write_text("\n".join(lines) + "\n")
    handler = vm / "var" / "log" / "azure" / "Microsoft.Azure.Extensions.CustomScript"
    handler.mkdir(parents=True)
    (handler / "handler.log").write_text(
        "time=2024-05-01T10:01:00Z version=v2.1.10 operation=enable seq=0 event=failed error=\"curl -u u:S3CR3T21 x: exit 22\"\n"
    )
    conf = vm / "etc" / "waagent.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("Provisioning.Password=S3CR3T30\nHttpProxy.Host=user:S3CR3T31@proxy\nHttpProxy.Port=3128\n")
    status = vm / "var" / "lib" / "waagent" / "Microsoft.Azure.Extensions.CustomScript-2.1.10" / "status"
    status.mkdir(parents=True)
    (status / "0.status").write_text(json.dumps([{
        "version": 1.0,
        "timestampUTC": "2024-05-01T10:02:00Z",
        "status": {
            "name": "Microsoft.Azure.Extensions.CustomScript",
            "operation": "Enable",
            "status": "error",
            "code": 1,
            "formattedMessage": {"lang": "en-US", "message": "Enable failed: mysql -pS3CR3T40 said no; token=S3CR3T41"},
        },
    }]))
    # A file saved by wget keeps its SAS query in its name.
    named = vm / "var" / "log" / "waagent.log.1?sv=2021-08-06&sig=S3CR3T50name"
    named.write_text(f"{STAMP.format(50)} password=S3CR3T51\n")
    return vm


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return loglens(*args, cwd=cwd, env={"COLUMNS": "200"})


def _leaks(text: str) -> list[str]:
    import regex

    return sorted(set(regex.findall(r"S3CR3T\d\d", text)))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("secrets")
    _tree(root)
    run = _run("analyze", "vm", "--json", "r.json", "--markdown", "r.md", "--html", "r.html", cwd=root)
    assert run.returncode in (0, 1), run.stderr
    return root, run


@pytest.mark.parametrize("output", ["stdout", "stderr", "r.json", "r.md", "r.html"])
def test_analyze_outputs_hold_no_planted_secret(outputs, output):
    root, run = outputs
    text = getattr(run, output) if output in ("stdout", "stderr") else (root / output).read_text()
    assert not _leaks(text), f"{output} leaks {_leaks(text)}"


def test_the_planted_lines_were_read(outputs):
    """The test means something only if the lines carrying the secrets reached the outputs."""
    root, _ = outputs
    document = (root / "r.json").read_text()
    assert document.count("«REDACTED»") >= 10, document[:2000]


@pytest.mark.parametrize("suffix", ["csv", "ndjson"])
def test_parse_out_holds_no_planted_secret(tmp_path, suffix):
    _tree(tmp_path)
    run = _run("parse", "vm", "--out", f"frames.{suffix}", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / f"frames.{suffix}").read_text()
    assert "«REDACTED»" in text
    assert not _leaks(text), _leaks(text)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("CustomData", "#cloud-config\nchpasswd:\n  list: |\n    root:S3CR3T60\n  expire: False\n# waagent WireServer\n"),
        (
            "ovf-env.xml.bak",
            '<ns0:Environment xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1">'
            "<LinuxProvisioningConfigurationSet><UserName>azureuser</UserName><UserPassword>S3CR3T61</UserPassword>"
            "</LinuxProvisioningConfigurationSet> WALinuxAgent ERROR Failed</ns0:Environment>\n",
        ),
        ("saved-provisioning.txt", "<UserPassword>S3CR3T62</UserPassword> 168.63.129.16 ERROR\n"),
    ],
)
def test_credential_documents_are_never_read(tmp_path, name, content):
    vm = tmp_path / "vm"
    (vm / "var" / "lib" / "waagent").mkdir(parents=True)
    (vm / "var" / "lib" / "waagent" / name).write_text(content)
    (vm / "var" / "log").mkdir(parents=True)
    (vm / "var" / "log" / "waagent.log").write_text(f"{STAMP.format(1)} something failed\n")
    run = _run("analyze", "vm", "--json", "-", cwd=tmp_path)
    assert not _leaks(run.stdout + run.stderr)
    assert f"{name}: holds credentials by nature" in run.stderr
    assert name not in json.loads(run.stdout)["inputs"].__repr__()


def test_an_archive_saved_with_its_sas_query_is_opened_and_its_name_redacted(tmp_path):
    """`wget` keeps the query in the name: `logs.zip?sv=...&sig=...` is still a zip."""
    import zipfile

    name = "logs.zip?sv=2021-08-06&sig=S3CR3T70abc"
    with zipfile.ZipFile(tmp_path / name, "w") as archive:
        archive.writestr("var/log/waagent.log", f"{STAMP.format(1)} password=S3CR3T71\n")
    run = _run("analyze", name, "--json", "-", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    inputs = json.loads(run.stdout)["inputs"]
    assert [i["path"].split("!")[1] for i in inputs] == ["var/log/waagent.log"]
    assert not _leaks(run.stdout + run.stderr)

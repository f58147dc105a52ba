"""`loglens fleet az://...` against the Azurite blob emulator (npm `azurite`, installed by the test setup)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import polars as pl
import pytest

from benchmarks.fleet_data import missed
from tests.fleet.conftest import run_loglens, wait_for

#: Where the test setup installs Azurite (outside the repository, kept between runs).
NPM_PREFIX = Path(os.environ.get("LOGLENS_TEST_NPM", Path.home() / ".cache" / "loglens-tests" / "npm"))
#: Azurite's well-known development account (public, documented by Microsoft; no real secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _azurite_blob() -> str:
    binary = NPM_PREFIX / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install the Azurite emulator for this test")
        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(NPM_PREFIX), "--no-audit", "--no-fund", "azurite@3"],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not binary.exists():
            pytest.fail(f"npm install azurite failed: {done.stderr[-500:]}")
    return str(binary)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    """A running Azurite blob service; yields its connection string."""
    port = _free_port()
    work = tmp_path_factory.mktemp("azurite")
    process = subprocess.Popen(
        [
            _azurite_blob(),
            "--silent",
            "--location",
            str(work),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--skipApiVersionCheck",
            "--loose",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, 60, "Azurite to listen")
    yield (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )
    process.terminate()
    process.wait(timeout=30)


def _upload(connection_string: str, root: Path, container: str, prefix: str) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(connection_string)
    client = service.create_container(container)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with path.open("rb") as data:
            client.upload_blob(f"{prefix}/{path.relative_to(root).as_posix()}", data)


def test_fleet_reads_vms_from_blob_storage(azurite, fleet_source, tmp_path):
    root, manifest = fleet_source
    _upload(azurite, root, "collections", "incident-42")
    out = tmp_path / "out"
    done = run_loglens(
        "fleet", "az://collections/incident-42", "--out", str(out), "--workers", "2", "--connection-string", azurite
    )
    assert done.returncode == 0, done.stderr
    assert ACCOUNT_KEY not in done.stdout + done.stderr
    vms = pl.read_parquet(out / "vms" / "*.parquet")
    assert sorted(vms["vm"]) == sorted([*manifest, "vm-corrupt.zip"])
    assert vms.filter(pl.col("vm") == "vm-0000")["location"].item() == "az://collections/incident-42/vm-0000"
    assert missed(manifest, pl.read_parquet(out / "findings" / "*.parquet")) == []
    evidence = pl.read_parquet(out / "evidence" / "*.parquet")
    assert evidence["path"].str.starts_with("vm-").all(), "paths are relative to the source, not a download folder"
    # The same VMs from a local copy give the same findings.
    local = run_loglens("fleet", str(root), "--out", str(tmp_path / "local"), "--workers", "1")
    assert local.returncode == 0
    columns = ["vm", "rule", "summary", "count", "first_seen"]
    remote = pl.read_parquet(out / "findings" / "*.parquet").select(columns).sort(columns)
    here = pl.read_parquet(tmp_path / "local" / "findings" / "*.parquet").select(columns).sort(columns)
    assert remote.equals(here)
    # A rerun lists the blobs again and skips every VM (the ETags did not change).
    again = run_loglens("fleet", "az://collections/incident-42", "--out", str(out), "--connection-string", azurite)
    assert "10 already done" in again.stdout


def test_bad_credentials_are_one_line_without_the_secret(azurite, tmp_path):
    wrong = azurite.replace(ACCOUNT_KEY, "V1JPTkdLRVlXUk9OR0tFWQ==")
    done = run_loglens(
        "fleet", "az://collections/incident-42", "--out", str(tmp_path / "out"), "--connection-string", wrong
    )
    assert done.returncode == 2
    assert "V1JPTkdLRVlXUk9OR0tFWQ" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot list blobs" in done.stderr

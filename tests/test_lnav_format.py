"""`loglens lnav-format`: the format loads into a real lnav (installed from Debian by the test
setup, like Chromium for the browser tests) and reads waagent.log as loglens does."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from parsers import read_waagent
from tests.debian_tools import debian_tool

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def lnav() -> str:
    """Debian's lnav (installed with apt-get when missing, as root in CI)."""
    return debian_tool("lnav", "lnav")


@pytest.fixture(scope="module")
def installed(lnav, tmp_path_factory) -> dict[str, str]:
    """An lnav home with the format installed through the CLI's own output."""
    home = tmp_path_factory.mktemp("lnav-home")
    out = home / "waagent.json"
    run = subprocess.run(
        [sys.executable, "-m", "loglens", "lnav-format", "--out", str(out)], capture_output=True, text=True, cwd=REPO
    )
    assert run.returncode == 0, run.stderr
    env = {**os.environ, "HOME": str(home)}
    install = subprocess.run([lnav, "-i", str(out)], capture_output=True, text=True, env=env)
    # lnav checks every sample line against the patterns while installing; a mismatch fails here.
    assert install.returncode == 0 and "installed" in install.stdout + install.stderr, install.stderr
    return env


def _query(lnav: str, env: dict[str, str], log: Path, sql: str) -> list[dict[str, str]]:
    run = subprocess.run(
        [lnav, "-n", "-c", f";{sql}", "-c", ":write-csv-to -", str(log)], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    return list(csv.DictReader(io.StringIO(run.stdout)))


def test_modern_log_reads_as_loglens_reads_it(lnav, installed):
    log = REPO / "sample_logs/vm-modern/var/log/waagent.log"
    rows = _query(
        lnav,
        installed,
        log,
        "SELECT count(*) AS n, sum(log_level = 'error') AS errors, sum(thread = 'ExtHandler') AS ext_thread "
        "FROM azure_waagent_log",
    )
    frame = read_waagent([log]).frame
    assert int(rows[0]["n"]) == frame.height
    assert int(rows[0]["errors"]) == frame.filter(pl.col("level") == "ERROR").height
    assert int(rows[0]["ext_thread"]) == frame.filter(pl.col("thread") == "ExtHandler").height


def test_every_generation_gets_its_fields(lnav, installed):
    legacy = REPO / "sample_logs/vm-legacy/var/log/waagent.log"
    rows = _query(lnav, installed, legacy, "SELECT DISTINCT ext, ver FROM azure_waagent_log WHERE ext IS NOT NULL")
    frame = read_waagent([legacy]).frame.filter(pl.col("extension_version").is_not_null())
    # loglens keeps extension-shaped lines inside an agent's [stdout] block as output, lnav
    # cannot: so lnav sees at least every `[Name-Version]` prefix loglens sees.
    expected = {(r["extension"], r["extension_version"]) for r in frame.iter_rows(named=True)}
    assert expected <= {(r["ext"], r["ver"]) for r in rows}
    levels = _query(lnav, installed, legacy, "SELECT DISTINCT log_level FROM azure_waagent_log")
    assert {"error", "info"} <= {r["log_level"] for r in levels}

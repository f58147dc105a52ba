"""A generated fleet with known incidents (and one corrupt bundle), and Dask processes the tests start."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.fleet_data import generate_fleet
from tests.reports.conftest import chart_shots, chromium, pytest_terminal_summary  # noqa: F401 -- shared

LOGLENS = [sys.executable, "-m", "loglens"]
DASK = [sys.executable, "-m", "dask"]


@pytest.fixture(scope="session")
def fleet_source(tmp_path_factory) -> tuple[Path, dict]:
    """Nine VMs (trees and zips, a few KB to 300 KB) and a truncated zip that cannot be read."""
    root = tmp_path_factory.mktemp("fleet") / "vms"
    manifest = generate_fleet(root, 9, seed=5, max_mb=0.3)
    whole = (root / "vm-0002.zip").read_bytes()
    (root / "vm-corrupt.zip").write_bytes(whole[: len(whole) // 3])
    return root, manifest


def run_loglens(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*LOGLENS, *args], check=False, capture_output=True, text=True, timeout=timeout, **kwargs)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


class DaskProcesses:
    """`dask scheduler` and `dask worker` as real processes, each in its own process group."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.scheduler_file = directory / "scheduler.json"
        self.processes: list[subprocess.Popen] = []

    def _start(self, *args: str, log: str) -> subprocess.Popen:
        handle = open(self.directory / log, "w")  # noqa: SIM115 -- lives as long as the process
        process = subprocess.Popen(
            [*DASK, *args], stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.directory
        )
        self.processes.append(process)
        return process

    def scheduler(self) -> str:
        self._start(
            "scheduler",
            "--scheduler-file",
            str(self.scheduler_file),
            "--port",
            "0",
            "--no-dashboard",
            log="scheduler.log",
        )
        wait_for(self.scheduler_file.exists, 60, "the Dask scheduler")
        import json

        wait_for(lambda: json.loads(self.scheduler_file.read_text() or "{}").get("address"), 30, "its address")
        return json.loads(self.scheduler_file.read_text())["address"]

    def worker(self, name: str) -> subprocess.Popen:
        return self._start(
            "worker",
            "--scheduler-file",
            str(self.scheduler_file),
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--name",
            name,
            log=f"worker-{name}.log",
        )

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the process and its children (the nanny's worker): no goodbye to the scheduler."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)


@pytest.fixture
def dask_processes(tmp_path):
    if shutil.which(sys.executable) is None:
        pytest.fail("no Python to start Dask with")
    processes = DaskProcesses(tmp_path)
    yield processes
    processes.stop()


def dataset_files(out: Path, part: str = "vms") -> list[Path]:
    return sorted(p for p in (out / part).glob("*.parquet") if p.name != "columns.parquet")

"""`loglens fleet --scheduler` against `dask scheduler` and `dask worker` started as processes,
a worker killed mid-run, and a killed run resumed."""

from __future__ import annotations

import signal
import subprocess

import polars as pl

from benchmarks.fleet_data import generate_fleet, missed
from tests.fleet.conftest import LOGLENS, dataset_files, run_loglens, wait_for


def test_fleet_runs_on_an_existing_cluster(fleet_source, dask_processes, tmp_path):
    root, manifest = fleet_source
    address = dask_processes.scheduler()
    dask_processes.worker("one")
    out = tmp_path / "out"
    done = run_loglens("fleet", str(root), "--out", str(out), "--scheduler", address)
    assert done.returncode == 0, done.stderr
    # The fleet's corrupt bundle is the one VM that could not be analysed.
    assert "9 VM(s) analysed, 1 could not be" in done.stdout and "on 1 worker(s)" in done.stdout
    assert missed(manifest, pl.read_parquet(out / "findings" / "*.parquet")) == []


def test_an_unreachable_scheduler_is_one_error_line(tmp_path, fleet_source):
    root, _ = fleet_source
    done = run_loglens("fleet", str(root), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert "Traceback" not in done.stderr


def test_a_worker_killed_mid_run_loses_nothing(dask_processes, tmp_path):
    fleet = tmp_path / "vms"
    manifest = generate_fleet(fleet, 30, seed=9, max_mb=0.4)
    address = dask_processes.scheduler()
    first = dask_processes.worker("first")
    out = tmp_path / "out"
    run = subprocess.Popen(
        [*LOGLENS, "fleet", str(fleet), "--out", str(out), "--scheduler", address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: len(dataset_files(out)) >= 2, 120, "the first VMs to finish")
    dask_processes.kill(first)  # SIGKILL: its tasks in flight are lost with it
    dask_processes.worker("second")
    _stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    vms = pl.read_parquet(out / "vms" / "*.parquet")
    assert vms.height == 30 and vms["status"].unique().to_list() == ["ok"]
    assert missed(manifest, pl.read_parquet(out / "findings" / "*.parquet")) == []


def test_a_killed_run_resumes_with_only_what_is_missing(tmp_path):
    fleet = tmp_path / "vms"
    manifest = generate_fleet(fleet, 40, seed=13, max_mb=0.4)
    out = tmp_path / "out"
    run = subprocess.Popen(
        [*LOGLENS, "fleet", str(fleet), "--out", str(out), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    wait_for(lambda: len(dataset_files(out)) >= 3, 120, "the first VMs to finish")
    import os

    os.killpg(run.pid, signal.SIGKILL)  # the driver and its local cluster, mid-run
    run.wait(timeout=30)
    done_before = {p.name for p in dataset_files(out)}
    assert 3 <= len(done_before) < 40, "the run was killed mid-way"
    assert not any(p.name.endswith(".part") for p in out.rglob("*.parquet")), "no partial file is visible"
    again = run_loglens("fleet", str(fleet), "--out", str(out), "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert f"{40 - len(done_before)} VM(s) analysed" in again.stdout
    assert f"{len(done_before)} already done" in again.stdout
    assert missed(manifest, pl.read_parquet(out / "findings" / "*.parquet")) == []
    assert len(dataset_files(out)) == 40

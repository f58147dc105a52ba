"""Fleet benchmark: VMs/s on 1 and 2 workers, per-VM overhead on tiny VMs, worker memory, incidents.

Generates (once, under benchmarks/data/) a mixed fleet (a few KB to tens of MB per VM, trees and
zips, known incidents) and a fleet of tiny VMs, then runs `loglens.fleet_run` on LocalClusters of
1 and 2 workers. Overhead per tiny VM is the fleet's steady-state time per VM (cluster start-up
excluded) less `analyze` of the same VMs in a warm process with a worker's thread settings: what
Dask, the dataset writes and the task wrapper add.

Usage:
    python -m benchmarks.fleet [--vms 200] [--tiny 300]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from benchmarks.fleet_data import generate_fleet, manifest_path, missed

DATA = Path(__file__).parent / "data"
TARGET_SPEEDUP = 1.7
TARGET_OVERHEAD_MS = 50.0


def _fleet(name: str, vms: int, max_mb: float, seed: int) -> tuple[Path, dict]:
    import json

    root = DATA / name
    if not manifest_path(root).exists():
        shutil.rmtree(root, ignore_errors=True)
        generate_fleet(root, vms, seed=seed, max_mb=max_mb)
    return root, json.loads(manifest_path(root).read_text())


def _run(root: Path, workers: int) -> tuple[object, Path]:
    import loglens

    out = Path(tempfile.mkdtemp(prefix="loglens-fleet-bench-")) / "out"
    return loglens.fleet_run([str(root)], out, workers=workers), out


_ALONE_CHILD = """
import statistics, sys, time
from loglens import api
from loglens.fleets.units import discover
units = discover([sys.argv[1]]).units[:40]
api.analyze([units[0].location])  # warm: imports and first-call costs
times = []
for unit in units:
    started = time.perf_counter()
    api.analyze([unit.location])
    times.append(time.perf_counter() - started)
print(statistics.median(times))
"""


def _analyze_alone(root: Path) -> float:
    """Median seconds of `analyze` per VM in a warm process with a worker's threads: the work a
    task must do anyway."""
    from loglens.fleets.run import WORKER_ENVIRONMENT

    env = {**os.environ, **WORKER_ENVIRONMENT}
    done = subprocess.run(
        [sys.executable, "-c", _ALONE_CHILD, str(root)], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=200)
    parser.add_argument("--tiny", type=int, default=300)
    args = parser.parse_args()
    mixed, manifest = _fleet(f"fleet-{args.vms}", args.vms, 20.0, 11)
    tiny, _ = _fleet(f"fleet-tiny-{args.tiny}", args.tiny, 0.004, 12)
    size = sum(p.stat().st_size for p in mixed.rglob("*") if p.is_file())
    largest = max(p.stat().st_size for p in mixed.rglob("*") if p.is_file())
    print(f"mixed fleet      {args.vms} VMs, {size / 1e6:,.0f} MB on disk, largest file {largest / 1e6:.1f} MB")
    checks = []
    rates = {}
    for workers in (1, 2):
        result, out = _run(mixed, workers)
        rates[workers] = len(result.units) / result.task_seconds
        peak = max(result.worker_peak_rss.values())
        print(
            f"{workers} worker(s)      {result.seconds:6.1f} s wall ({result.task_seconds:.1f} s of tasks), "
            f"{rates[workers]:5.1f} VMs/s, {size / 1e6 / result.task_seconds:5.1f} MB/s, "
            f"peak RSS per worker {peak / 1e6:,.0f} MB"
        )
        wrong = missed(manifest, pl.read_parquet(out / "findings" / "*.parquet"))
        print(f"incidents        {'every injected incident found on every VM' if not wrong else wrong[:5]}")
        checks.append((f"every injected incident found ({workers} worker(s))", not wrong))
        shutil.rmtree(out.parent, ignore_errors=True)
    speedup = rates[2] / rates[1]
    print(f"speed-up         2 workers = {speedup:.2f}x one worker (target >= {TARGET_SPEEDUP}x)")
    checks.append((f"2 workers >= {TARGET_SPEEDUP}x one", speedup >= TARGET_SPEEDUP))
    result, out = _run(tiny, 1)
    per_vm = result.task_seconds / len(result.units)
    alone = _analyze_alone(tiny)
    overhead_ms = (per_vm - alone) * 1000
    print(
        f"tiny VMs         {len(result.units)} VMs of ~4 KB on 1 worker: {per_vm * 1000:.0f} ms per VM in the fleet, "
        f"{alone * 1000:.0f} ms for analyze alone: overhead {overhead_ms:.0f} ms per VM (target <= {TARGET_OVERHEAD_MS:.0f})"
    )
    checks.append((f"per-VM overhead <= {TARGET_OVERHEAD_MS:.0f} ms", overhead_ms <= TARGET_OVERHEAD_MS))
    shutil.rmtree(out.parent, ignore_errors=True)
    for name, ok in checks:
        print(f"{'MET ' if ok else 'MISS'} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

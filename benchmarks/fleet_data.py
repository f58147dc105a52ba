"""Generate a fleet of VM collections with known incidents, for fleet tests and benchmarks.

Each VM gets a new-format `waagent.log` of healthy goal-state cycles (the generator of
`benchmarks.generate`) with a random set of injected incidents, healthy cycles apart so each is its
own finding. Every third VM is a log-collector-style zip, the others a `var/log` tree. The incidents
per VM are written beside the fleet (`<dir>.manifest.json`); `found_incidents` reads them back from a dataset.

Usage:
    python -m benchmarks.fleet_data --vms 200 --out benchmarks/data/fleet
"""

from __future__ import annotations

import argparse
import json
import random
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from benchmarks.generate import INCIDENT_CHECKS, INCIDENT_KINDS, LogWriter, healthy_cycle, incident

#: Healthy goal-state cycles at least between two incidents.
_CYCLES_BETWEEN = 3


def manifest_path(out: Path) -> Path:
    """Beside the fleet, not in it (it is no VM)."""
    return out.with_name(out.name + ".manifest.json")


def vm_log(rng: random.Random, size: int, incidents: dict[str, int]) -> str:
    """A waagent.log of about ``size`` bytes holding exactly ``incidents``."""
    writer = LogWriter(datetime(2025, 3, 1) + timedelta(minutes=rng.randrange(0, 60 * 24 * 20)), 0, rng)
    writer.legacy("INFO", "Azure Linux Agent Version:2.2.45")
    writer.legacy("INFO", "Daemon OS: ubuntu 20.04")
    pending = [kind for kind, n in incidents.items() for _ in range(n)]
    rng.shuffle(pending)
    cycle, quiet = 1, 0
    while pending or writer.size < size:
        healthy_cycle(writer, cycle)
        quiet += 1
        # Healthy cycles between incidents: the agent recovers, so each incident is its own finding.
        if pending and quiet >= _CYCLES_BETWEEN and (writer.size >= size or rng.random() < 0.3):
            incident(writer, pending.pop(), cycle)
            quiet = 0
        cycle += 1
    return writer.drain()


def generate_fleet(out: Path, vms: int, *, seed: int = 11, max_mb: float = 20.0) -> dict[str, dict[str, int]]:
    """Write ``vms`` collections under ``out`` and the manifest; returns {vm: {kind: injected}}."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for i in range(vms):
        # Mostly small VMs, some medium, a few large: sizes from a few KB to ``max_mb``.
        size = int(min(max_mb * 1e6, 2_000 * 10 ** rng.triangular(0, 4.5, 0.5)))
        kinds = rng.sample(INCIDENT_KINDS, rng.randint(0, 3))
        incidents = {kind: rng.randint(1, 2) for kind in kinds}
        text = vm_log(rng, size, incidents)
        name = f"vm-{i:04d}"
        if i % 3 == 2:
            name += ".zip"
            with zipfile.ZipFile(out / name, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
                bundle.writestr("var/log/waagent.log", text)
        else:
            log = out / name / "var" / "log" / "waagent.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(text, encoding="ascii")
        manifest[name] = incidents
    manifest_path(out).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def found_incidents(findings: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Per VM, each incident kind as its check counts it in a fleet `findings` frame."""
    found: dict[str, dict[str, int]] = {}
    for kind, (rule, measure) in INCIDENT_CHECKS.items():
        rows = findings.filter(pl.col("rule") == rule).group_by("vm")
        episodes = pl.col("episodes").list.len().clip(lower_bound=1).sum().cast(pl.Int64).alias("count")
        counted = rows.agg(pl.col("count").sum()) if measure == "occurrences" else rows.agg(episodes)
        for vm, n in counted.iter_rows():
            found.setdefault(vm, {})[kind] = int(n)
    return found


def missed(manifest: dict[str, dict[str, int]], findings: pl.DataFrame) -> list[str]:
    """Each VM whose findings do not count exactly what was injected: `vm: kind injected N, found M`."""
    found = found_incidents(findings)
    out = []
    for vm, incidents in manifest.items():
        for kind in INCIDENT_CHECKS:
            injected, seen = incidents.get(kind, 0), found.get(vm, {}).get(kind, 0)
            if injected != seen:
                out.append(f"{vm}: {kind} injected {injected}, found {seen}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data/fleet"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--max-mb", type=float, default=20.0)
    args = parser.parse_args()
    manifest = generate_fleet(args.out, args.vms, seed=args.seed, max_mb=args.max_mb)
    print(f"{len(manifest)} VMs written to {args.out}")


if __name__ == "__main__":
    main()

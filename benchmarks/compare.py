"""Side by side, in one run: lnav's headless load, `loglens analyze` and `loglens parse --out` on
the same file, plus start-up costs (`loglens --help`, a small bundle), each as its own process with
its own wall time and peak RSS. lnav is skipped when it is not installed.

    python -m benchmarks.compare benchmarks/data/waagent-500mb.log [benchmarks/data/waagent-2048mb.log ...]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Issue "Streaming analyze" targets (2-core machine).
ANALYZE_VS_LNAV = 1.3
MAX_RSS_MB = 400
PARSE_VS_ANALYZE = 1.5
HELP_SECONDS = 0.3
SMALL_SECONDS = 0.7

# Runs one command in a child and reports its wall time and the peak RSS of that command alone.
_TIMED = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
run = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(json.dumps({"seconds": time.perf_counter() - start, "rc": run.returncode,
                  "peak_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def timed(command: list[str]) -> dict:
    """Wall time and peak RSS of ``command`` (best of two runs, so a warm cache for both tools)."""
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", _TIMED, *command], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    return min(runs, key=lambda r: r["seconds"])


def side_by_side(log: Path, *, startup: bool = True) -> list[tuple[str, bool]]:
    """Print the comparison for ``log`` (and the start-up rows unless ``startup`` is False);
    return the targets as (name, met), named with the input's size."""
    size = f"{log.stat().st_size / 1e6:,.0f} MB"
    print(f"side by side on {log.name} ({size}):")
    loglens = [sys.executable, "-m", "loglens"]
    with tempfile.TemporaryDirectory() as tmp:
        rows = {
            "loglens analyze (JSON)": timed([*loglens, "analyze", str(log), "--json", f"{tmp}/r.json", "-q"]),
            "loglens parse --out .parquet": timed([*loglens, "parse", str(log), "--out", f"{tmp}/r.parquet", "-q"]),
        }
        lnav = shutil.which("lnav")
        if lnav:
            rows["lnav -n (headless load)"] = timed([lnav, "-n", "-c", ";SELECT count(*) FROM all_logs", str(log)])
        if startup:
            rows["loglens --help"] = timed([*loglens, "--help"])
            rows["loglens analyze vm-modern"] = timed([*loglens, "analyze", str(REPO / "sample_logs/vm-modern"), "-q"])
    base = rows.get("lnav -n (headless load)")
    for name, row in rows.items():
        same_file = name in ("loglens analyze (JSON)", "loglens parse --out .parquet")
        ratio = f", {base['seconds'] / row['seconds']:.2f}x lnav's speed" if base and same_file else ""
        print(f"{name:31} {row['seconds']:6.2f} s, peak RSS {row['peak_rss'] / 1e6:7,.0f} MB{ratio}")
    analyze, parse = rows["loglens analyze (JSON)"], rows["loglens parse --out .parquet"]
    checks = [
        (f"{size}: analyze peak RSS <= {MAX_RSS_MB} MB", analyze["peak_rss"] <= MAX_RSS_MB * 1e6),
        (f"{size}: parse --out peak RSS <= {MAX_RSS_MB} MB", parse["peak_rss"] <= MAX_RSS_MB * 1e6),
        (
            f"{size}: parse --out within {PARSE_VS_ANALYZE}x of analyze",
            parse["seconds"] <= PARSE_VS_ANALYZE * analyze["seconds"],
        ),
    ]
    if base:
        fast = base["seconds"] >= ANALYZE_VS_LNAV * analyze["seconds"]
        checks.insert(0, (f"{size}: analyze >= {ANALYZE_VS_LNAV}x lnav's speed", fast))
    if startup:
        checks += [
            (f"--help <= {HELP_SECONDS} s", rows["loglens --help"]["seconds"] <= HELP_SECONDS),
            (f"analyze vm-modern <= {SMALL_SECONDS} s", rows["loglens analyze vm-modern"]["seconds"] <= SMALL_SECONDS),
        ]
    return checks


if __name__ == "__main__":
    results = [c for i, log in enumerate(sys.argv[1:]) for c in side_by_side(Path(log), startup=i == 0)]
    for name, ok in results:
        print(f"{'MET ' if ok else 'MISS'} {name}")

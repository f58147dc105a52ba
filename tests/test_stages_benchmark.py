"""`python -m benchmarks.stages`: where an analysis's seconds go, stage by stage, adding up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from benchmarks.generate import generate
from benchmarks.stages import STAGES

REPO = Path(__file__).resolve().parents[1]
#: Stages every analysis of a log past `pipeline.WHOLE_BYTES` runs.
ALWAYS = (
    "read the chunk's bytes",
    "recognise each line's header",
    "choose records (keep pattern on every line)",
    "fold and finish the chosen records",
    "keep and thin each chunk's records",
    "measure the operations",
    "the rules",
    "the JSON document",
)


def test_the_serial_stages_add_up_to_the_analysis(tmp_path):
    log = tmp_path / "waagent.log"
    generate(log, 48, incident_every=60)  # a second 32 MiB chunk, past the 16 MiB parsed whole
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.stages", str(log), "--serial"],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    wall = float(re.search(r": ([\d.]+) s wall", done.stdout).group(1))
    rows = dict(re.findall(r"^\| (.+?) \| (-?[\d.]+) \|$", done.stdout, re.MULTILINE))
    assert set(rows) == {stage for _, _, stage in STAGES} | {
        "everything else (the stream's own loop, the report model ...)"
    }
    assert all(float(rows[stage]) > 0 for stage in ALWAYS), rows
    # Each stage's own time, so they add up to the wall time (the catalogue's tagging alone runs
    # in two threads, and "everything else" is the difference).
    stages = [float(rows[stage]) for _, _, stage in STAGES]
    assert sum(stages) <= wall * 1.1
    assert abs(sum(float(seconds) for seconds in rows.values()) - wall) <= 0.005 * len(rows)  # rounding

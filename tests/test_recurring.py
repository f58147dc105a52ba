"""Recurring incidents summarised (`loglens.recurring`): an hourly WireServer blip over weeks is
one finding with its episodes, rhythm and durations; different failures stay apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from benchmarks.generate import generate
from loglens.findings import MAX_EVIDENCE
from loglens.recurring import RECURRING_AT, summarise
from loglens.schema import EVIDENCE_COLUMNS, FINDING_COLUMNS
from parsers.schema import conform

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    out = tmp_path_factory.mktemp("noisy") / "waagent.log"
    manifest = generate(out, 4, profile="noisy")
    run = subprocess.run(
        [sys.executable, "-m", "loglens", "analyze", str(out), "--json", "-", "-q"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert run.returncode in (0, 1), run.stderr
    return manifest, json.loads(run.stdout)


def test_an_hourly_blip_is_one_finding_with_every_episode(noisy):
    manifest, document = noisy
    blips = manifest["incidents"]["wireserver-blip"]
    assert blips > 50
    hourly = [f for f in document["findings"] if f["rule"] == "wireserver-unreachable" and "about hourly" in f["summary"]]
    assert len(hourly) == 1, [f["summary"][:120] for f in document["findings"]]
    finding = hourly[0]
    assert len(finding["episodes"]) == blips
    assert f"{blips:,} episodes" in finding["summary"] and "the longest" in finding["summary"]
    assert 1 <= len(finding["evidence"]) <= MAX_EVIDENCE
    starts = [e[0] for e in finding["episodes"]]
    assert starts == sorted(starts) and finding["first_seen"] == starts[0]


def test_every_injected_incident_is_still_counted(noisy):
    manifest, document = noisy
    wire = [f for f in document["findings"] if f["rule"] == "wireserver-unreachable"]
    episodes = sum(max(1, len(f["episodes"])) for f in wire)
    assert episodes == manifest["incidents"]["wireserver"] + manifest["incidents"]["wireserver-blip"]
    assert len(document["findings"]) <= 20


def _table(summaries: list[str], severity: str = "warning") -> tuple[pl.DataFrame, pl.DataFrame]:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    rows = [
        {
            "finding": i, "collection": "vm", "rule": "extension-command-failed", "category": "command-failure",
            "severity": severity, "title": "Extension command failed", "summary": text, "extension": "X",
            "first_seen": start + timedelta(hours=i), "last_seen": start + timedelta(hours=i, minutes=i % 3),
            "count": 1, "records": [i], "related": [],
        }
        for i, text in enumerate(summaries)
    ]
    evidence = [
        {"finding": i, "rank": 0, "path": "waagent.log", "line": i + 1, "timestamp": start + timedelta(hours=i), "text": t}
        for i, t in enumerate(summaries)
    ]
    return conform(pl.DataFrame(rows), FINDING_COLUMNS), conform(pl.DataFrame(evidence), EVIDENCE_COLUMNS)


def test_episodes_merge_only_when_they_say_the_same_but_for_values():
    same = [f"Enable of X exited 1 at 2025-03-01 {h:02d}:00 UTC after {h} min" for h in range(RECURRING_AT + 2)]
    different = ["Enable of X exited 51: unsupported OS", "Enable of X exited 51: unsupported OS".replace("51: unsupported OS", "127: command not found")]
    table, evidence = summarise(*_table(same + different))
    assert table.height == 3
    merged = table.filter(pl.col("episodes").list.len() > 0).row(0, named=True)
    assert len(merged["episodes"]) == len(same) and merged["records"] == list(range(len(same)))
    assert merged["summary"].startswith(f"Extension command failed: {len(same)} episodes")
    assert "about hourly" in merged["summary"]
    shown = evidence.filter(pl.col("finding") == merged["finding"])
    assert set(shown["line"]) <= {1, len(same), 3}  # the first, the last, the longest
    assert evidence.filter(pl.col("finding") >= len(same)).height == 2  # the others keep theirs


def test_fewer_than_the_threshold_stay_as_they_are():
    table, _ = summarise(*_table(["Enable of X exited 1"] * (RECURRING_AT - 1)))
    assert table.height == RECURRING_AT - 1
    assert table["episodes"].list.len().sum() == 0

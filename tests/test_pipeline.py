"""One pipeline: the CLI, fleet tasks and the notebook all analyse through `loglens.pipeline`, and
the `Analysis` it returns is complete and never changed after."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import loglens
from loglens import api, pipeline
from loglens.fleets.task import Settings, analyze_unit
from loglens.fleets.units import discover

REPO = Path(__file__).resolve().parent.parent
VM = REPO / "sample_logs" / "vm-modern"


@pytest.fixture
def runs(monkeypatch):
    """Every run of the rules through the pipeline, with how its agent records were retained."""
    seen = []
    original = pipeline._analysed

    def counted(load, digest, rows, *args):
        seen.append("everything" if digest.retains_everything else "what rules read")
        return original(load, digest, rows, *args)

    monkeypatch.setattr(pipeline, "_analysed", counted)
    return seen


def test_the_cli_path_runs_the_pipeline_once(runs):
    analysis = api.analyze([VM])
    assert runs == ["what rules read"]
    assert analysis.nearby is not None and analysis.nearby.height > 0


def test_a_fleet_task_runs_the_pipeline_once(runs, tmp_path):
    (unit,) = discover([str(VM)]).units
    row = analyze_unit(unit, Settings(out=str(tmp_path / "fleet")))
    assert row["status"] == "ok"
    assert runs == ["what rules read"]


def test_the_notebook_runs_the_same_pipeline_retaining_everything(runs):
    lens = loglens.load(VM)
    findings = lens.findings
    assert runs == ["everything"]
    # The notebook keeps every record to explore; the analysis holds what the rules read.
    assert lens.waagent.height > lens.analysis.load.frames["waagent"].height
    cli = api.analyze([VM])
    assert [f.summary for f in findings] == [f.summary for f in cli.findings]
    _ = lens.findings, lens.verdict  # kept: no second run
    assert runs == ["everything", "what rules read"]


def test_an_analysis_is_never_changed_after_it_is_returned():
    analysis = api.analyze([VM])
    with pytest.raises(dataclasses.FrozenInstanceError):
        analysis.nearby = None  # type: ignore[misc]


def test_one_public_analyze():
    # `loglens.analyze` takes paths or a load; the engine's own step is not called analyze.
    code = "import loglens, loglens.engine as e, loglens.lens as l; print(hasattr(e, 'analyze'), hasattr(l.Lens, 'analyze'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    assert loglens.analyze is api.analyze

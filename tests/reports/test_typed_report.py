"""The typed report: one immutable `Report` per run, redacted before any renderer sees it, and
each renderer (JSON, HTML, Markdown, terminal) takes that and nothing else."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
from datetime import datetime

import polars as pl
import pytest

from loglens import api
from loglens.reports import document, html, markdown, model, terminal
from loglens.reports.report import Report
from tests.reports.conftest import REPO

LEGACY = REPO / "sample_logs" / "vm-legacy"
GOLDEN = REPO / "tests" / "reports" / "golden" / "vm-legacy.document.json"
RENDERERS = (document.build, document.render, html.render, markdown.render, terminal.render)


@pytest.fixture(scope="module")
def legacy():
    analysis = api.analyze([LEGACY])
    return analysis, model.build(analysis, version="test", neighbours=True, charts=True)


def _values(node, path="report"):
    """Every value in the report, with where it is."""
    yield path, node
    if dataclasses.is_dataclass(node):
        for field in dataclasses.fields(node):
            yield from _values(getattr(node, field.name), f"{path}.{field.name}")
    elif isinstance(node, tuple):
        for index, item in enumerate(node):
            yield from _values(item, f"{path}[{index}]")


def _immutable(value) -> bool:
    plain = (str, int, float, bool, datetime, type(None))
    return dataclasses.is_dataclass(value) or isinstance(value, (tuple, *plain))


def test_each_renderer_takes_the_typed_report_and_nothing_else(legacy):
    analysis, report = legacy
    for render in RENDERERS:
        parameters = list(inspect.signature(render).parameters.values())
        assert parameters[0].annotation in ("Report", Report), render
        assert all(p.kind is p.KEYWORD_ONLY for p in parameters[1:]), render  # options, no second source
        for wrong in (analysis, dataclasses.asdict(report)):
            with pytest.raises(TypeError, match="Report"):
                render(wrong)
        assert render(report)


def test_the_report_is_immutable_data(legacy):
    _, report = legacy
    values = list(_values(report))
    loose = [(where, type(v).__name__) for where, v in values if not _immutable(v)]
    assert loose == []
    assert all(type(v).__dataclass_params__.frozen for _, v in values if dataclasses.is_dataclass(v))
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.findings[0].summary = "changed"  # type: ignore[misc]
    # The groups hold the same findings, not copies: one finding, one object.
    grouped = [f for g in report.severities for c in g.categories for f in c.findings]
    assert sorted(map(id, grouped)) == sorted(map(id, report.findings))
    assert len(report.charts) == 4 and all(c.json or c.note for c in report.charts)


def test_no_string_in_the_report_is_unredacted():
    from tests.reports.test_html_report import HOSTILE, SECRETS

    report = model.build(api.analyze([HOSTILE]), neighbours=True, charts=True)
    strings = [(where, value) for where, value in _values(report) if isinstance(value, str)]
    assert any("REDACTED" in value for _, value in strings)
    assert [(where, s) for where, value in strings for s in SECRETS if s in value] == []


def test_html_needs_the_charts_it_draws(legacy):
    analysis, _ = legacy
    with pytest.raises(ValueError, match="charts"):
        html.render(model.build(analysis))


def test_the_json_document_of_a_sample_is_unchanged():
    """`loglens analyze sample_logs/vm-legacy --json -`, byte for byte, in every field the pinned
    document has (a field added later may sit anywhere). After a deliberate change to what the
    findings say, regenerate the pin with that command (run from the repository root)."""
    run = subprocess.run(
        [sys.executable, "-m", "loglens", "analyze", "sample_logs/vm-legacy", "--json", "-"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    pinned, got = json.loads(GOLDEN.read_text()), json.loads(run.stdout)
    assert [key for key in got if key in pinned] == list(pinned)
    pinned["loglens_version"] = got["loglens_version"]
    shared = {key: got[key] for key in pinned}
    assert json.dumps(shared, indent=2, ensure_ascii=False) == json.dumps(pinned, indent=2, ensure_ascii=False)
    if list(got) == list(pinned):
        assert run.stdout == json.dumps(pinned, indent=2, ensure_ascii=False) + "\n"


def test_what_the_redaction_pass_skips_holds_no_text():
    """`model.redacted` skips `NOTHING_TO_REDACT` (a noisy VM's thousands of episodes): safe only
    while those hold times and counts, in the frame and in the typed report alike."""
    import typing

    from loglens.reports import report
    from loglens.schema import EPISODE

    assert model.NOTHING_TO_REDACT == {"episodes"}
    assert pl.String not in [field.dtype for field in EPISODE.fields]
    hints = typing.get_type_hints(report.Episode)
    assert str not in hints.values() and set(hints) == {f.name for f in EPISODE.fields}
    plain = {"findings": [{"summary": "sig=abc", "episodes": [{"first_seen": 1, "last_seen": 2, "count": 3}]}]}
    out = model.redacted(plain)
    assert out["findings"][0]["episodes"] is plain["findings"][0]["episodes"]

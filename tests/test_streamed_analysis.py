"""A streamed analysis (`loglens.pipeline`, what `api.analyze` and the CLI run) against the same
input fully loaded and analysed (`api.analyze` over a `LoadResult`, the notebook's way): the same findings,
evidence, unexplained errors, versions, facts, operations, timeline, and the same report model
with every evidence line's context, on the generated log, its rotated and archived copies, every
sample and every corpus case. Small chunks make every input many chunks, so records are kept,
numbered and read back across chunk boundaries; each input is streamed with every record parsed
in full and with only the selected ones (`parsers.selection`, a big log's way past its start).
"""

from __future__ import annotations

import dataclasses
import gzip
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from benchmarks.generate import generate
from loglens import api, pipeline
from loglens.engine import Analysis
from loglens.reports import model
from parsers import VmTimezone

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "corpus" / "cases"
SAMPLES = sorted(p for p in (REPO / "sample_logs").iterdir() if p.is_dir() or p.suffix == ".zip")


def _streamed(paths: list[Path], chunk_bytes: int, lean: bool = False) -> Analysis:
    """The pipeline's analysis; ``lean``: every chunk parsed through the digest's selection (only
    the records rules may read in full), as past the first `pipeline.WHOLE_BYTES` of a big log."""
    return pipeline.analyze_paths(
        paths,
        tz=VmTimezone.parse(None),
        progress=None,
        check_lines=api.require_lines,
        chunk_bytes=chunk_bytes,
        whole_bytes=0 if lean else pipeline.WHOLE_BYTES,
    )


def _differences(full: Analysis, stream: Analysis) -> list[str]:
    """What differs between two analyses of one input (empty when they agree)."""
    frames = {
        "findings": (full.findings.table, stream.findings.table),
        "evidence": (full.findings.evidence, stream.findings.evidence),
        "other_errors": (full.other_errors, stream.other_errors),
        "timeline": (full.timeline, stream.timeline),
        "versions": (full.versions, stream.versions),
        "facts": (full.facts, stream.facts),
        "operations": (full.operations, stream.operations),
    }
    differ = [name for name, (a, b) in frames.items() if not a.equals(b)]
    when = datetime(2026, 1, 1, tzinfo=UTC)
    whole = model.build(full, generated_at=when, neighbours=True)
    kept = model.build(stream, generated_at=when, neighbours=True)
    names = [field.name for field in dataclasses.fields(whole)]
    return differ + [f"model.{name}" for name in names if getattr(whole, name) != getattr(kept, name)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A 3 MB generated log with every incident kind, plus its gzip and zip copies beside it."""
    root = tmp_path_factory.mktemp("generated")
    log = root / "plain" / "waagent.log"
    log.parent.mkdir()
    generate(log, 3, incident_every=60)
    (log.parent / "waagent.log.manifest.json").unlink()
    (root / "gzip").mkdir()
    with log.open("rb") as plain, gzip.open(root / "gzip" / "waagent.log.1.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    with zipfile.ZipFile(root / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(log, "var/log/waagent.log")
    return root


@pytest.fixture
def read_back(monkeypatch):
    """Hold no stream whole, so that every evidence context is read back from the files."""
    monkeypatch.setattr(pipeline, "WHOLE_ROWS_HELD", 0)


@pytest.mark.parametrize("lean", [False, True], ids=["parsed-whole", "parsed-selected"])
@pytest.mark.parametrize("held", [False, True], ids=["read-back", "held-whole"])
@pytest.mark.parametrize("shape", ["plain", "gzip", "bundle.zip"])
def test_streamed_analysis_equals_the_full_one_on_the_generated_log(generated, shape, held, lean, monkeypatch):
    # Read back from the files (a large input), or taken from the rows held whole (a small one).
    monkeypatch.setattr(pipeline, "WHOLE_ROWS_HELD", 10**9 if held else 0)
    paths = [generated / shape]
    loaded = api.read(paths)
    full = api.analyze(loaded)
    stream = _streamed(paths, chunk_bytes=64 * 1024, lean=lean)
    assert full.findings.table.height >= 6  # every incident kind was found at all
    assert _differences(full, stream) == []
    # Only the records rules may read stayed; the evidence context was read back from the file.
    assert stream.load.frames["waagent"].height < loaded.frames["waagent"].height / 2
    assert stream.nearby is not None and stream.nearby.height > 0


def test_evidence_context_is_read_back_where_the_stream_let_it_go(generated, read_back):
    stream = _streamed([generated / "plain"], chunk_bytes=64 * 1024)
    page = model.build(stream, neighbours=True)
    kept = set(stream.load.frames["waagent"].select("source_path", "line_first").iter_rows())
    shown = [
        (block.path, entry.line) for finding in page.findings for block in finding.blocks for entry in block.records
    ]
    assert shown and any(line not in kept for line in shown)


@pytest.mark.parametrize("lean", [False, True], ids=["parsed-whole", "parsed-selected"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_streamed_analysis_equals_the_full_one_on_each_sample(sample, lean, read_back):
    full = api.analyze(api.read([sample]))
    assert _differences(full, _streamed([sample], chunk_bytes=4096, lean=lean)) == []


def test_streamed_analysis_equals_the_full_one_on_every_corpus_case(read_back):
    differ = {}
    for case in sorted(CORPUS.iterdir()):
        load = api.read([case])
        if not any(a.lines for a in load.accounts):
            continue
        full = api.analyze(load)
        for lean in (False, True):
            found = _differences(full, _streamed([case], chunk_bytes=2048, lean=lean))
            if found:
                differ[(case.name, "parsed-selected" if lean else "parsed-whole")] = found
    assert differ == {}


def test_a_load_with_nothing_streamed_has_typed_empty_summaries(tmp_path):
    status = REPO / "sample_logs" / "vm-modern" / "var" / "lib" / "waagent"
    stream = _streamed([status], chunk_bytes=4096)
    assert stream.load.frames["waagent"].height == 0
    assert stream.timeline.schema["minute"] == pl.Datetime("us", "UTC")

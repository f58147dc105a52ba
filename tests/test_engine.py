"""The engine across several VMs loaded at once: each collection is analysed on its own."""

from __future__ import annotations

from pathlib import Path

from loglens.engine import analyze
from parsers import load_sources
from parsers.collect import collection_of

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
VMS = sorted(p for p in SAMPLES.iterdir() if p.is_dir() or p.suffix == ".zip")


def _described(analysis) -> set[tuple]:
    return {(f.rule, f.summary, tuple((e.path, e.line) for e in f.evidence)) for f in analysis.findings}


def test_every_finding_cites_one_collection():
    analysis = analyze(load_sources([SAMPLES]))
    assert len({collection_of(a.path) for a in analysis.load.accounts}) == len(VMS)
    for finding in analysis.findings:
        assert len({collection_of(e.path) for e in finding.evidence}) == 1, finding.summary


def test_loading_vms_together_finds_what_each_alone_finds():
    together = _described(analyze(load_sources([SAMPLES])))
    alone = set().union(*(_described(analyze(load_sources([vm]))) for vm in VMS))
    assert together == alone
    assert together  # the samples hold incidents; an empty match would prove nothing


def test_related_links_stay_within_a_collection():
    analysis = analyze(load_sources([SAMPLES]))
    by_collection: dict[str, set[str]] = {}
    for finding in analysis.findings:
        by_collection.setdefault(collection_of(finding.evidence[0].path), set()).add(finding.rule)
    for finding in analysis.findings:
        mine = by_collection[collection_of(finding.evidence[0].path)]
        assert set(finding.related) <= mine

"""The engine across several VMs loaded at once: each collection is analysed on its own."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import polars as pl

from loglens.pipeline import analyze_loaded as analyze
from parsers import load_sources

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
VMS = sorted(p for p in SAMPLES.iterdir() if p.is_dir() or p.suffix == ".zip")


def _described(analysis) -> set[tuple]:
    return {(f.rule, f.summary, tuple((e.path, e.line) for e in f.evidence)) for f in analysis.findings}


def test_every_finding_cites_one_collection():
    analysis = analyze(load_sources([SAMPLES]))
    collections = analysis.load.collections()
    assert set(collections.values()) == {str(vm) for vm in VMS}
    for finding in analysis.findings:
        assert {collections[e.path] for e in finding.evidence} == {finding.collection}, finding.summary


def test_loading_vms_together_finds_what_each_alone_finds():
    together = _described(analyze(load_sources([SAMPLES])))
    alone = set().union(*(_described(analyze(load_sources([vm]))) for vm in VMS))
    assert together == alone
    assert together  # the samples hold incidents; an empty match would prove nothing


def test_related_links_stay_within_a_collection():
    analysis = analyze(load_sources([SAMPLES]))
    by_collection: dict[str, set[str]] = {}
    for finding in analysis.findings:
        by_collection.setdefault(finding.collection, set()).add(finding.rule)
    for finding in analysis.findings:
        assert set(finding.related) <= by_collection[finding.collection]


def test_loose_files_from_different_folders_are_one_vm(tmp_path):
    # Files downloaded one by one land in different folders; with no VM tree loaded they are one VM.
    modern = SAMPLES / "vm-modern"
    (tmp_path / "logs").mkdir()
    (tmp_path / "downloads").mkdir()
    (tmp_path / "logs" / "waagent.log").write_bytes((modern / "var/log/waagent.log").read_bytes())
    (tmp_path / "downloads" / "instance-view.json").write_bytes((modern / "instance-view.json").read_bytes())
    analysis = analyze(load_sources([tmp_path / "logs" / "waagent.log", tmp_path / "downloads" / "instance-view.json"]))
    assert set(analysis.load.collections().values()) == {str(tmp_path)}
    failed = next(f for f in analysis.findings if f.rule == "extension-command-failed")
    assert {e.path.rsplit("/", 1)[1] for e in failed.evidence} == {"waagent.log", "instance-view.json"}


def test_a_run_command_config_links_with_its_handler():
    from datetime import datetime

    from loglens.engine import _linked
    from loglens.schema import FINDING_COLUMNS, conform

    handler = "Microsoft.CPlat.Core.RunCommandHandlerLinux"
    rows = [
        ("extension-command-timeout", f"{handler}.RC0001", 10),
        ("extension-command-failed", handler, 12),
        ("package-manager-lock", "Microsoft.Azure.Extensions.CustomScript", 11),
        ("unsupported-os", f"{handler}.RC0001.extra", 11),
    ]
    when = [datetime(2025, 8, 5, 9, minute, tzinfo=UTC) for _, _, minute in rows]
    table = pl.DataFrame(
        {
            "finding": range(len(rows)),
            "collection": ["vm"] * len(rows),
            "rule": [r for r, _, _ in rows],
            "extension": [e for _, e, _ in rows],
            "first_seen": when,
            "last_seen": when,
        }
    )
    related = _linked(conform(table, FINDING_COLUMNS))["related"].to_list()
    assert related == [["extension-command-failed"], ["extension-command-timeout"], [], []]


def test_one_html_report_builds_the_record_view_once(monkeypatch):
    # Every derived frame is computed once per load: the engine, the charts and the facts share it.
    import loglens.context
    from loglens.reports import html, model

    calls = []
    build = loglens.context.record_parts
    monkeypatch.setattr(loglens.context, "record_parts", lambda *args: calls.append(1) or build(*args))
    analysis = analyze(load_sources(VMS))
    html.render(model.build(analysis, neighbours=True, charts=True))
    assert len(calls) == 1


def test_a_failed_command_a_lock_explains_is_one_incident():
    # The AADSSHLogin install fails on the dpkg lock: the lock is the error, the exit 100 its symptom.
    analysis = analyze(load_sources([SAMPLES / "vm-modern"]))
    by_rule = {f.rule: f for f in analysis.findings if f.extension and "AADSSHLogin" in f.extension}
    assert by_rule["package-manager-lock"].severity == "error"
    failed = by_rule["extension-command-failed"]
    assert failed.severity == "info" and failed.summary.endswith(
        "a symptom of: package manager locked by another process"
    )
    assert "extension-command-failed" in by_rule["package-manager-lock"].related


def test_rules_over_many_records_run_one_at_a_time_with_the_same_findings(monkeypatch):
    from loglens import engine

    workers = []

    class Recording(engine.ThreadPoolExecutor):
        def __init__(self, max_workers):
            workers.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(engine, "ThreadPoolExecutor", Recording)
    monkeypatch.setattr(engine, "_PARALLEL_RULES", 2)
    load = load_sources([SAMPLES])
    two_at_once = _described(analyze(load))
    monkeypatch.setattr(engine, "RULES_ALONE_OVER", 1)
    alone = _described(analyze(load))
    assert workers == [2, 1]
    assert alone == two_at_once
    assert alone


def test_the_stream_knows_each_sources_vm_as_the_load_places_it(tmp_path):
    """Operations are paired as the agent's logs stream (`loglens.pairing`), each VM's apart: the
    placement handed to the stream before it starts is the load's own, for VM trees and an archive
    side by side, and for loose files."""
    from parsers.chunk_index import ChunkIndex
    from parsers.load import open_sources
    from parsers.timezones import VmTimezone

    modern = SAMPLES / "vm-modern"
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "waagent.log").write_bytes((modern / "var/log/waagent.log").read_bytes())
    loose = [tmp_path / "logs" / "waagent.log", modern / "instance-view.json"]
    for paths, vms in (([SAMPLES], len(VMS)), (VMS, len(VMS)), (loose, 1)):
        index = ChunkIndex(zone=VmTimezone.parse(None), chunk_bytes=1 << 20)
        with open_sources(paths, waagent_index=index, waagent_sink=lambda chunks: list(chunks)) as load:
            placed = load.collections()
        assert len(set(placed.values())) == vms
        assert {path: index.collections[path] for path in placed} == placed

"""`loglens fleet` on a real LocalCluster of two worker processes: every VM as `analyze` sees it alone."""

from __future__ import annotations

import json
import os

import polars as pl
import pytest
import regex

import loglens
from benchmarks.fleet_data import missed
from loglens import api
from loglens.fleets.units import discover
from tests.fleet.conftest import dataset_files, run_loglens

#: Finding columns that do not depend on where the VM's files lay.
_COMPARED = [
    "rule",
    "category",
    "severity",
    "title",
    "summary",
    "extension",
    "version",
    "first_seen",
    "last_seen",
    "count",
    "related",
]


@pytest.fixture(scope="module")
def fleet_run(fleet_source, tmp_path_factory):
    root, manifest = fleet_source
    out = tmp_path_factory.mktemp("dataset") / "out"
    html = out.parent / "fleet.html"
    done = run_loglens(
        "fleet",
        str(root),
        "--out",
        str(out),
        "--workers",
        "2",
        "--html",
        str(html),
        "--markdown",
        str(out.parent / "fleet.md"),
        "--per-vm-html",
    )
    assert done.returncode == 0, done.stderr
    return root, manifest, out, done


def test_every_vm_is_analysed_as_analyze_sees_it_alone(fleet_run):
    root, _manifest, out, _ = fleet_run
    findings = pl.read_parquet(out / "findings" / "*.parquet")
    evidence = pl.read_parquet(out / "evidence" / "*.parquet")
    for unit in discover([str(root)]).units:
        if unit.vm == "vm-corrupt.zip":
            continue
        alone = api.analyze([unit.location])
        mine = findings.filter(pl.col("vm") == unit.vm).sort("finding")
        assert mine.select(_COMPARED).to_dicts() == alone.findings.table.sort("finding").select(_COMPARED).to_dicts()
        # Evidence: the same lines, its paths relative to the fleet source.
        prefix = str(root) + "/"
        expected = alone.findings.evidence.with_columns(pl.col("path").str.strip_prefix(prefix)).sort("finding", "rank")
        theirs = evidence.filter(pl.col("vm") == unit.vm).drop("vm").sort("finding", "rank")
        assert theirs.to_dicts() == expected.to_dicts()
        assert all(p.startswith(unit.vm) for p in theirs["path"])


def test_every_injected_incident_is_found_per_vm(fleet_run):
    _root, manifest, out, _ = fleet_run
    assert missed(manifest, pl.read_parquet(out / "findings" / "*.parquet")) == []


def test_the_corrupt_bundle_is_a_failed_row_and_the_rest_complete(fleet_run):
    _root, manifest, out, done = fleet_run
    vms = pl.read_parquet(out / "vms" / "*.parquet")
    assert vms.height == len(manifest) + 1
    corrupt = vms.filter(pl.col("vm") == "vm-corrupt.zip").row(0, named=True)
    assert corrupt["status"] == "failed" and corrupt["failure"] == "input"
    assert "vm-corrupt.zip" in corrupt["error"] and "no log lines could be read" in corrupt["error"]
    assert vms.filter(pl.col("vm") != "vm-corrupt.zip")["status"].unique().to_list() == ["ok"]
    assert "warning: VM not analysed: vm-corrupt.zip" in done.stderr
    # Facts per VM: the generator writes a 2.2.45 daemon on Ubuntu 20.04.
    ok = vms.filter(pl.col("status") == "ok")
    assert ok["agent_version"].unique().to_list() == ["2.2.45"]
    assert ok["distro"].unique().to_list() == ["ubuntu 20.04"]
    assert (ok["lines"] > 0).all() and (ok["files"] == 1).all()


def test_the_dataset_reads_as_one_table_with_its_declared_columns(fleet_run):
    from loglens.schema import FLEET_SCHEMAS

    _root, _manifest, out, _ = fleet_run
    for part, columns in FLEET_SCHEMAS.items():
        frame = pl.scan_parquet(out / part / "*.parquet").collect()
        assert frame.columns == [c.name for c in columns], part
    # One file per VM and part: each task wrote only its own.
    assert len(dataset_files(out)) == 10
    assert not list(out.rglob(".*.part")), "no temporary file is left behind"


def test_the_fleet_report_and_notebook_view_agree(fleet_run):
    _root, manifest, out, done = fleet_run
    fleet = loglens.fleet(out)
    counts = fleet.counts()
    assert counts["vms"] == 10 and counts["failed"] == 1
    findings = fleet.findings.collect()
    assert counts["errors"] == findings.filter(pl.col("severity") == "error")["vm"].n_unique() > 0
    assert counts["errors"] + counts["warnings"] + counts["clean"] + counts["failed"] == len(manifest) + 1
    assert fleet.verdict() in " ".join(done.stdout.split())
    markdown = (out.parent / "fleet.md").read_text()
    assert fleet.verdict() in markdown
    # Names carry `<wbr>` after their dashes and dots (they wrap there, never inside a word).
    html = (out.parent / "fleet.html").read_text().replace("<wbr>", "")
    for vm in (r["vm"] for r in fleet.vm_table().iter_rows(named=True) if r["report"]):
        assert f">{vm}</a>" in html
    links = fleet.vms.select("report").drop_nulls().collect()["report"].to_list()
    assert len(links) == 9 and all((out / link).is_file() for link in links)


def test_a_rerun_skips_done_vms_and_redoes_changed_ones(fleet_run):
    root, _manifest, out, _ = fleet_run
    again = run_loglens("fleet", str(root), "--out", str(out), "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert "0 VM(s) analysed" in again.stdout and "10 already done" in again.stdout
    log = root / "vm-0000" / "var" / "log" / "waagent.log"
    stat = log.stat()
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    changed = run_loglens("fleet", str(root), "--out", str(out), "--workers", "1")
    assert "1 VM(s) analysed" in changed.stdout and "9 already done" in changed.stdout
    forced = run_loglens("fleet", str(root), "--out", str(out), "--workers", "1", "--force", "-q")
    assert forced.returncode == 0 and forced.stdout == ""


def test_the_json_a_notebook_reads_is_plain_parquet(fleet_run):
    _root, _manifest, out, _ = fleet_run
    vms = pl.scan_parquet(out / "vms" / "*.parquet").select("vm", "extensions").collect()
    assert json.loads(vms.write_json())  # nested extension structs survive


def test_duckdb_reads_the_dataset_as_it_is(fleet_run):
    import duckdb

    _root, _manifest, out, _ = fleet_run
    # Every part reads, an empty one too (its zero-row columns.parquet), and `vm` joins them.
    for part in ("vms", "findings", "evidence", "other_errors"):
        assert duckdb.sql(f"select count(*) from read_parquet('{out}/{part}/*.parquet')").fetchall()
    joined = duckdb.sql(
        f"select v.distro, count(distinct f.vm) from read_parquet('{out}/findings/*.parquet') f "
        f"join read_parquet('{out}/vms/*.parquet') v using (vm) where f.severity = 'error' group by v.distro"
    ).fetchall()
    errors = pl.read_parquet(out / "findings" / "*.parquet").filter(pl.col("severity") == "error")["vm"].n_unique()
    assert joined == [("ubuntu 20.04", errors)]


def test_a_task_that_fails_twice_is_a_failed_row_not_the_end_of_the_run(tmp_path):
    """Hardening round two: a task raising on both tries (here: `reports` is a file where the
    per-VM reports go) used to end the run with a TypeError and Dask tracebacks under `-q`."""
    line = "2025-06-11T03:00:01.000001Z ERROR ExtHandler ExtHandler x\n"
    for vm in ("vm1", "vm2"):
        log = tmp_path / "src" / vm / "var" / "log" / "waagent.log"
        log.parent.mkdir(parents=True)
        log.write_text(line)
    out = tmp_path / "out"
    out.mkdir()
    (out / "reports").write_text("x\n")
    # With the dashboard's usual port taken, `-q` still prints nothing of Dask's.
    import socket

    with socket.socket() as taken:
        try:
            taken.bind(("", 8787))
            taken.listen()
        except OSError:
            pass  # already taken by something else: just as good
        done = run_loglens("fleet", str(tmp_path / "src"), "--out", str(out), "--workers", "1", "--per-vm-html", "-q")
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "8787" not in done.stderr and "dashboard" not in done.stderr.lower(), done.stderr
    rows = pl.read_parquet(out / "vms" / "*.parquet").sort("vm")
    assert rows["vm"].to_list() == ["vm1", "vm2"]
    assert rows["status"].to_list() == ["failed", "failed"]
    assert rows["error"].str.contains("FileExistsError").all()


def test_piped_output_is_whole_and_progress_ends_at_the_last_vm(fleet_run):
    """Piped, the Causes table was cut at 80 columns (`extension-upgr…`) and the throttled
    progress lines ended at 7/8 of the VMs."""
    _root, manifest, _out, done = fleet_run
    assert "…" not in done.stdout, done.stdout
    causes = done.stdout[done.stdout.index("Causes across the fleet") :].splitlines()
    rows = [line for line in causes if regex.match(r"\W*(error|warning|info) ", line)]
    # Each row whole: its rule id and its time, with the table's right edge after it.
    assert rows and all(regex.search(r" [a-z]+(-[a-z0-9]+)+ .* 20\d\d-\d\d-\d\d \d\d:\d\d \W$", line) for line in rows), causes
    progress = [line for line in done.stderr.splitlines() if line.startswith("progress: ")]
    total = len(manifest) + 1
    assert progress and progress[-1].startswith(f"progress: {total}/{total} VMs analysed"), done.stderr


def test_a_folder_with_nothing_of_a_vm_is_an_input_error_not_one_vm_analysed(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.txt").write_text("ticket 123: customer says the extension hangs\n")
    done = run_loglens("fleet", str(tmp_path / "src"), "--out", str(tmp_path / "out"), "--workers", "1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "VM(s) analysed" not in done.stdout
    # A folder of loose files and no tree is one VM to fleet as to analyze: the folder itself.
    assert "warning: VM not analysed: src: no log lines could be read: 1 file(s) found" in done.stderr
    assert done.stderr.rstrip().endswith("error: none of the 1 input(s) found could be analysed (the warnings above say why)")


def test_the_fleet_outputs_render_one_typed_fleet_report(fleet_run, tmp_path):
    """The fleet report follows the single-VM protocol: one immutable FleetReport per run, built
    from the dataset; HTML, Markdown and terminal render it and refuse anything else."""
    import dataclasses

    from rich.console import Console

    from loglens.fleets import model, report

    _root, _manifest, out, done = fleet_run
    fleet = loglens.fleet(out)
    built = fleet.report(html=tmp_path / "f.html", markdown=tmp_path / "f.md")
    assert isinstance(built, model.FleetReport) and len(built.charts) == 3 and built.run is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.verdict = "changed"  # type: ignore[misc]
    assert built.verdict == fleet.verdict() and built.counts.vms == 10
    assert report.render_markdown(built, html_dir=tmp_path) == (tmp_path / "f.md").read_text()
    for render in (report.render_html, report.render_markdown, report.render_terminal):
        with pytest.raises(TypeError, match="FleetReport"):
            render(fleet)
    console = Console(record=True, width=200)
    console.print(report.render_terminal(built))
    # The run's own summary showed the same verdict and causes, from its own report.
    shown = console.export_text()
    assert " ".join(built.verdict.split()) in " ".join(done.stdout.split())
    assert all(cause.rule in shown and cause.rule in done.stdout for cause in built.causes[: model.TERMINAL_CAUSES])
    with pytest.raises(ValueError, match="charts"):
        report.render_html(model.build(fleet, charts=False))

"""The fleet report's charts in headless Chromium: no label over another or cut off, a colour
bar for the VM x category matrix, and one sentence where a chart has nothing to draw.

The dataset is built in this process by the function each Dask worker runs (`analyze_unit`),
VM after VM, so the test needs no cluster; the report is `Fleet.report`, as the CLI writes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import loglens
from loglens.fleets import dataset
from loglens.fleets.task import Settings, analyze_unit
from loglens.fleets.units import discover
from tests.reports.charts_seen import look, problems
from tests.reports.conftest import REPO

WIDTHS = (1300, 800)


def _fleet_report(sources: Path, out: Path) -> Path:
    dataset.prepare(out)
    for unit in discover([str(sources)], exclude=out).units:
        analyze_unit(unit, Settings(out=str(out)))
    html = out.parent / f"{sources.name}.html"
    loglens.fleet(out).report(html=html)
    return html


def _seen(report: Path, chromium: str, shots: Path) -> dict:
    seen = look(report, chromium, shots, WIDTHS)
    for width, charts in seen.items():
        found = [p for chart in charts for p in problems(chart)]
        assert found == [], f"at {width} px (screenshots in {shots}): {found[:10]}"
    return {chart.id: chart for chart in seen[WIDTHS[0]]}


def test_fleet_charts_read_and_the_matrix_names_every_colour(fleet_source, tmp_path, chromium, chart_shots):
    root, _ = fleet_source
    sources = tmp_path / "fleet-with-samples"
    shutil.copytree(root, sources)
    shutil.copytree(REPO / "sample_logs" / "vm-modern", sources / "vm-modern")
    charts = _seen(_fleet_report(sources, tmp_path / "out"), chromium, chart_shots)
    assert set(charts) == {"chart-extensions", "chart-onset", "chart-matrix"}
    assert all(chart.note is None for chart in charts.values())
    matrix = charts["chart-matrix"]
    assert matrix.colorbar == 1
    bar = {t["text"] for t in matrix.texts if t["kind"].startswith("cbaxis") or "cb" in t["kind"]}
    assert {"none", "info", "warning", "error"} <= bar, [t for t in matrix.texts if "cb" in t["kind"]]


def test_a_fleet_without_findings_says_so_instead_of_empty_charts(tmp_path, chromium, chart_shots):
    sources = tmp_path / "healthy-fleet"
    shutil.copytree(REPO / "sample_logs" / "vm-healthy", sources / "vm-healthy")
    charts = _seen(_fleet_report(sources, tmp_path / "out"), chromium, chart_shots)
    assert charts["chart-extensions"].note.startswith("No VM has an error or warning finding")
    assert charts["chart-onset"].note == "No VM has a timed error or warning finding: no onset to draw."


def test_fleet_tables_wrap_names_between_words(fleet_source, tmp_path, chromium):
    """The issue saw "moder n-1" and "Extensions.Cu stomScript": VM and extension names in the
    fleet report's tables wrap at their dots and dashes, never inside a word, at any width."""
    from playwright.sync_api import sync_playwright

    from tests.reports.conftest import CHROMIUM_ARGS
    from tests.reports.test_html_layout import _BROKEN_WORDS, _CROWDED_HEADERS

    root, _ = fleet_source
    sources = tmp_path / "fleet-with-long-names"
    shutil.copytree(root, sources)
    for index in (1, 2):
        shutil.copytree(REPO / "sample_logs" / "vm-modern", sources / f"vm-modern-{index}")
    report = _fleet_report(sources, tmp_path / "out")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for width in (1300, 700, 480):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            assert page.evaluate(_BROKEN_WORDS) == [], width
            assert page.evaluate(_CROWDED_HEADERS) == [], width
            page.close()
        browser.close()

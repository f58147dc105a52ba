"""The HTML report: structure, charts rendering in a real headless Chromium, escaping, redaction."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from loglens import api
from loglens.reports import figures, html, markdown, model
from tests.reports.conftest import CHROMIUM_ARGS, REPO

HOSTILE = REPO / "tests" / "fixtures" / "hostile"
SECRETS = (
    "HOSTILESIGNATURE",
    "HOSTILETOKEN",
    "HOSTILEPASSWORD",
    "HOSTILEKEY",
    "HOSTILEACCOUNTKEY",
    "HOSTILEPRIVATEKEYMATERIAL",
    "HOSTILESECRET",
)


class _Structure(HTMLParser):
    """Collects element ids, classes and script blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.ids, self.findings, self.json_scripts, self.external = set(), 0, {}, []
        self._script_id = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "article" and "finding" in (attrs.get("class") or ""):
            self.findings += 1
        if tag == "script" and attrs.get("type") == "application/json":
            self._script_id = attrs["id"]
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value.startswith(("http://", "https://", "//")) and tag != "a":
                self.external.append(value)

    def handle_data(self, data):
        if self._script_id:
            self.json_scripts[self._script_id] = self.json_scripts.get(self._script_id, "") + data

    def handle_endtag(self, tag):
        if tag == "script":
            self._script_id = None


def _full(analysis):
    """The report as `loglens analyze --html --markdown` builds it: evidence blocks, facts, charts."""
    return model.build(analysis, version="test", neighbours=True, charts=True)


@pytest.fixture(scope="module")
def modern():
    analysis = api.analyze([REPO / "sample_logs" / "vm-modern"])
    return analysis, html.render(_full(analysis))


def test_report_structure_golden(modern):
    analysis, page = modern
    structure = _Structure()
    structure.feed(page)
    assert {"verdict", "facts", "findings", "charts", "other-errors", "inputs"} <= structure.ids
    assert structure.findings == len(analysis.findings) > 0
    assert set(structure.json_scripts) == {f"chart-{name}-data" for name in figures.FIGURES}
    timeline = json.loads(structure.json_scripts["chart-timeline-data"])
    assert {t["name"] for t in timeline["data"]} >= {"succeeded", "failed", "still running"}
    assert timeline["layout"]["xaxis"]["title"]["text"] == "time (UTC)"
    events = json.loads(structure.json_scripts["chart-events-data"])
    # Every timestamped record of the whole load (analyze streamed it and kept only a few).
    whole = api.read([REPO / "sample_logs" / "vm-modern"]).frames
    assert sum(sum(t["y"]) for t in events["data"] if t["type"] == "bar") == sum(
        frame.filter(frame["timestamp"].is_not_null()).height
        for name, frame in whole.items()
        if name in ("waagent", "extension_logs", "status", "instance_view")
    )
    assert structure.external == []  # nothing loaded from the network
    assert page.count("Plotly.newPlot") == 1 and len(page) < 10_000_000
    for finding in analysis.findings:
        assert finding.rule in page


def test_verdict_names_the_worst_problems(modern):
    analysis, _ = modern
    text = model.verdict(analysis)
    assert text.startswith(f"{analysis.counts()['error']} error(s)")
    assert "dpkg" in text and "stderr:" not in text


def test_report_renders_in_headless_chromium_without_errors(modern, tmp_path, chromium):
    _, page = modern
    report = tmp_path / "report.html"
    report.write_text(page, encoding="utf-8")
    console, requests = _open(report, chromium, tmp_path / "report.png", count_svgs=True)
    assert console == []
    assert all(r.startswith(("file:", "data:")) for r in requests), requests
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_hostile_log_text_executes_nothing(tmp_path, chromium):
    analysis = api.analyze([HOSTILE])
    page = html.render(_full(analysis))
    assert "<script>window.__pwned" not in page
    assert "<img src=x onerror" not in page and "<svg onload" not in page
    assert "&lt;script&gt;window.__pwned" in page  # shown as text
    report = tmp_path / "hostile.html"
    report.write_text(page, encoding="utf-8")
    console, _ = _open(report, chromium, tmp_path / "hostile.png", check_pwned=True)
    assert console == []


def test_secrets_are_redacted_in_every_output(tmp_path):
    analysis = api.analyze([HOSTILE])
    outputs = {
        "html": html.render(_full(analysis)),
        "markdown": markdown.render(_full(analysis)),
        "json": api.write_document(analysis, None),
    }
    from rich.console import Console

    from loglens.reports import terminal

    console = Console(record=True, width=200)
    console.print(terminal.render(model.build(analysis, facts=False)), crop=False)
    outputs["terminal"] = console.export_text()
    for name, text in outputs.items():
        leaked = [s for s in SECRETS if s in text]
        assert leaked == [], f"{name} leaks {leaked}"
        assert "REDACTED" in text, name


def test_markdown_report(modern):
    analysis, _ = modern
    text = markdown.render(_full(analysis))
    assert text.startswith("# loglens report")
    for heading in ("## Verdict", "## Findings", "## Inputs"):
        assert heading in text
    assert text.count("\n### ") == len(analysis.findings)
    fences = re.findall(r"^(`{3,})$", text, flags=re.MULTILINE)
    assert len(fences) % 2 == 0


def test_cli_writes_html_and_markdown(tmp_path):
    import subprocess
    import sys

    out, md = tmp_path / "r.html", tmp_path / "r.md"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loglens",
            "analyze",
            "sample_logs/vm-rhel-logcollector.zip",
            "--html",
            str(out),
            "--markdown",
            str(md),
            "-q",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert out.read_text().startswith("<!DOCTYPE html>") and "package-manager-lock" in md.read_text()


def _open(report: Path, chromium: str, screenshot: Path, *, count_svgs: bool = False, check_pwned: bool = False):
    console, requests = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: console.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        charts = page.locator("div.chart")
        if count_svgs:
            page.wait_for_function(
                "document.querySelectorAll('div.chart svg.main-svg').length >= document.querySelectorAll('div.chart').length"
            )
            for index in range(charts.count()):
                assert charts.nth(index).locator("svg.main-svg").count() >= 1
        if check_pwned:
            assert page.evaluate("typeof window.__pwned") == "undefined"
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return console, requests


def test_facts_keep_each_vm_apart():
    vms = [REPO / "sample_logs" / "vm-legacy", REPO / "sample_logs" / "vm-modern"]
    analysis = api.analyze(vms)
    report = _full(analysis)
    facts = report.facts
    assert [(f.collection, f.goal_state_agent, f.distro) for f in facts] == [
        (str(vms[0]), "2.2.38", "ubuntu 16.04"),
        (str(vms[1]), "2.15.0.1", "ubuntu 22.04"),
    ]
    page = html.render(report)
    assert page.count('<th class="vm">') == 2
    header = next(line for line in markdown.render(report).splitlines() if line.startswith("| VM files |"))
    assert header == f"| VM files | `{vms[0]}` | `{vms[1]}` |"
    # Each finding says which VM it is about, in both reports.
    headings = [line for line in markdown.render(report).splitlines() if line.startswith("### ")]
    assert len(headings) == len(analysis.findings)
    assert all(line.endswith((f" · `{vms[0]}`", f" · `{vms[1]}`")) for line in headings)
    assert page.count('<span class="vm">') == len(analysis.findings)


def test_verdict_over_several_vms_names_each_problem_vm():
    healthy, modern = REPO / "sample_logs" / "vm-healthy", REPO / "sample_logs" / "vm-modern"
    text = model.verdict(api.analyze([healthy, modern]))
    assert "found in 1 of the 2 VM collections loaded. Most severe: " in text
    worst = text.split("Most severe: ", 1)[1]
    assert worst.startswith(f"{modern}: ") and worst.count(f"{modern}: ") == 3 and str(healthy) not in worst


def test_chart_rows_name_their_vm_when_several_are_loaded():
    legacy, modern = REPO / "sample_logs" / "vm-legacy", REPO / "sample_logs" / "vm-modern"
    both = api.analyze([legacy, modern])
    # The timeline and the versions give each VM its own subplot and time range: years apart,
    # bars stay bars.
    assert [a.text for a in figures.versions(both).layout.annotations] == ["vm-legacy", "vm-modern"]
    timeline = figures.timeline(both)
    titles = [a.text for a in timeline.layout.annotations]
    assert titles == ["vm-legacy", "vm-modern"]
    axes = {trace.xaxis for trace in timeline.data}
    assert axes == {"x", "x2"}
    for axis, years in (("x", {2019}), ("x2", {2025})):
        starts = [b for t in timeline.data if t.xaxis == axis and t.type == "bar" for b in t.base]
        assert {datetime.fromisoformat(str(b)).year for b in starts} == years
    alone = api.analyze([modern])
    assert not any("·" in y for trace in figures.timeline(alone).data for y in trace.y)


def test_one_off_templates_get_a_readable_axis_and_minute_spans_one_time():
    from datetime import UTC

    import polars as pl

    from loglens.rules._common import span_text

    analysis = api.analyze([REPO / "sample_logs" / "vm-modern"])
    axis = figures.other_errors(analysis).layout.xaxis
    assert axis.range[0] == 0 and axis.range[1] > 1 and axis.dtick == 1 and axis.tickformat == "d"
    stamps = [datetime(2019, 4, 2, 8, 58, 1, tzinfo=UTC), datetime(2019, 4, 2, 8, 58, 59, tzinfo=UTC)]
    assert span_text(pl.DataFrame({"timestamp": stamps})) == "at 2019-04-02 08:58 UTC"

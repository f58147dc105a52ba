"""Evidence as blocks of log: one block per source window, every evidence line marked in it, the
lines that made a record evidence never folded. Model, Markdown, and HTML in headless Chromium
(the reports written by the real CLI)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from loglens import api
from loglens.reports import model
from loglens.reports.report import Finding, Report
from loglens.reports.matched import parts
from tests.reports.conftest import CHROMIUM_ARGS, REPO

LEGACY = REPO / "sample_logs" / "vm-legacy"
WAAGENT = "sample_logs/vm-legacy/var/log/waagent.log"
#: The decisive line of the legacy sample, in the `[stderr]` of an extension's failed install.
LOCK = "E: Could not get lock /var/lib/dpkg/lock - open (11: Resource temporarily unavailable)"

UNREACHABLE = (
    "{t} WARNING ExtHandler ExtHandler Exception retrieving extension handlers: [ProtocolError] "
    "[Wireserver Exception] [HttpError] [HTTP Failed] GET http://168.63.129.16/machine/?comp=goalstate "
    "-- IOError [Errno 113] No route to host -- 6 attempts made"
)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """The legacy sample's HTML and Markdown reports, as `loglens analyze` writes them."""
    out = tmp_path_factory.mktemp("legacy")
    run = subprocess.run(
        [sys.executable, "-m", "loglens", "analyze", "sample_logs/vm-legacy", "--html", str(out / "r.html"),
         "--markdown", str(out / "r.md"), "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return out


def _finding(report: Report, rule: str) -> Finding:
    return next(f for f in report.findings if f.rule == rule)


def test_neighbouring_evidence_lines_share_one_block():
    report = model.build(api.analyze([LEGACY]), neighbours=True)
    (block,) = _finding(report, "wireserver-unreachable").blocks
    assert block.path.endswith("vm-legacy/var/log/waagent.log") and block.lines == (60, 61, 62, 63, 64)
    shown = [r.line for r in block.records]
    assert shown == sorted(set(shown)) == list(range(59, 67))  # every line once, in order
    assert [r.line for r in block.records if r.is_evidence] == [60, 61, 62, 63, 64]


def test_windows_that_touch_merge_and_distant_ones_stay_apart(tmp_path):
    # Failures on lines 1, 8 and 20: the windows of 1 and 8 (to 4, from 5) touch; 20's is apart.
    lines = [
        UNREACHABLE.format(t=f"2025-03-01T10:{n:02d}:00.000000Z")
        if n in (1, 8, 20)
        else f"2025-03-01T10:{n:02d}:00.000000Z INFO ExtHandler ExtHandler Filler line {n}"
        for n in range(1, 26)
    ]
    log = tmp_path / "var/log/waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text("\n".join(lines) + "\n")
    blocks = _finding(model.build(api.analyze([tmp_path]), neighbours=True), "wireserver-unreachable").blocks
    assert [(b.lines, [r.line for r in b.records]) for b in blocks] == [
        ((1, 8), list(range(1, 12))),
        ((20,), list(range(17, 24))),
    ]


def test_the_part_holding_the_match_is_open_in_the_model():
    report = model.build(api.analyze([LEGACY]), neighbours=True)
    (block,) = _finding(report, "package-manager-lock").blocks
    (record,) = [r for r in block.records if r.is_evidence]
    assert [line for part in record.parts if part.open for line in part.lines] == list(record.lines)
    assert any(line.startswith(LOCK) for line in record.lines)


def test_a_message_out_of_a_json_file_is_not_numbered_as_its_lines():
    report = model.build(api.analyze([REPO / "sample_logs" / "vm-modern"]), neighbours=True)
    blocks = [b for f in report.findings for b in f.blocks if b.path.endswith("instance-view.json")]
    assert blocks and all(b.lines == (1,) for b in blocks)
    records = [r for b in blocks for r in b.records]
    assert all(r.is_evidence and r.line is None for r in records)
    assert any(len(r.lines) > 1 for r in records)  # a multi-line message, still unnumbered


def test_parts_fold_what_holds_no_match():
    stdout = [f"step {n}" for n in range(20)]
    lines = ["ERROR Non-zero exit code: 56", "[stdout]", *stdout, "[stderr]", "E: Could not get lock", ", duration=0"]
    shown = parts(lines, {23})
    assert [(p["at"], len(p["lines"]), p["open"]) for p in shown] == [(0, 6, True), (6, 16, False), (22, 3, True)]
    # A long part opens only around its match (and its marker); a fold of one or two lines is shown.
    long = ["head", "[stderr]", *(f"noise {n}" for n in range(100)), "tail"]
    shown = parts(long, {60}, first_open=2)
    opened = [p["at"] + i for p in shown if p["open"] for i in range(len(p["lines"]))]
    assert opened == [0, 1, 58, 59, 60, 61, 62]


def test_markdown_writes_one_fence_per_block_with_its_path_once(written):
    text = (written / "r.md").read_text()
    section = text.split("`wireserver-unreachable`", 1)[1].split("\n### ", 1)[0]
    assert len(re.findall(r"^`{3,}$", section, flags=re.MULTILINE)) == 2
    assert section.count(WAAGENT) == 1
    assert f"Evidence `{WAAGENT}:60, 61, 62, 63, 64`:" in section
    numbered = re.findall(r"^([> ])\s+(\d+)  ", section, flags=re.MULTILINE)
    assert [int(n) for _, n in numbered] == list(range(59, 67))
    assert [int(n) for mark, n in numbered if mark == ">"] == [60, 61, 62, 63, 64]


def _open(written: Path, chromium: str):
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto((written / "r.html").as_uri())
    return playwright, browser, page


def test_html_shows_a_burst_of_evidence_lines_once_in_one_block(written, chromium):
    playwright, browser, page = _open(written, chromium)
    try:
        burst = page.locator("article[data-rule='wireserver-unreachable']")
        assert burst.locator(".evidence").count() == 1
        assert burst.locator(".context .record.hit").count() == 5
        numbers = burst.locator(".context .loc").all_inner_texts()
        assert [int(n) for n in numbers] == list(range(59, 67))
    finally:
        browser.close()
        playwright.stop()


def test_html_shows_the_decisive_stderr_without_a_click(written, chromium):
    playwright, browser, page = _open(written, chromium)
    try:
        lock = page.locator("article[data-rule='package-manager-lock']").locator(".context")
        assert lock.get_by_text(LOCK).is_visible()
        assert lock.get_by_text("[stderr]").is_visible()
    finally:
        browser.close()
        playwright.stop()

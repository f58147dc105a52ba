"""HTML evidence as a support engineer reads it: the whole record of a failed command, its
`[stderr]` one click away, neighbours before and after, nothing clipped. In headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from loglens import api
from loglens.reports import html, model
from tests.reports.conftest import CHROMIUM_ARGS

SHIM = "/var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/bin/custom-script-shim"
LOG = (
    "2025-03-14T09:14:00.100000Z INFO ExtHandler ExtHandler [Microsoft.Azure.Extensions.CustomScript-2.1.10] Target handler state: enabled\n"
    "2025-03-14T09:14:00.200000Z INFO ExtHandler ExtHandler [Microsoft.Azure.Extensions.CustomScript-2.1.10] Enable extension: [bin/custom-script-shim enable]\n"
    "2025-03-14T09:14:09.300000Z ERROR ExtHandler ExtHandler Event: name=Microsoft.Azure.Extensions.CustomScript, op=Enable, "
    f"message=[ExtensionOperationError] Non-zero exit code: 127, {SHIM} enable\n"
    "[stdout]\n"
    "+ /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/bin/custom-script-extension enable\n"
    "Writing a status file\n"
    "Downloading files specified in configuration...\n"
    "Executing the command\n"
    "Command output follows\n"
    "\n"
    "[stderr]\n"
    "Running scope as unit: enable_1.scope\n"
    "/bin/sh: 1: ech: not found\n"
    ", duration=0\n"
    "2025-03-14T09:14:09.400000Z INFO ExtHandler ExtHandler Handle extensions updates for incarnation 5\n"
    "2025-03-14T09:14:09.500000Z INFO ExtHandler ExtHandler ProcessExtensionsGoalState completed [incarnation_5 9400 ms]\n"
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cse127")
    (root / "var/log").mkdir(parents=True)
    (root / "var/log/waagent.log").write_text(LOG)
    out = root / "report.html"
    api.write_html(api.analyze([root]), out)
    return out


def test_the_evidence_record_is_whole_with_neighbours_on_both_sides(report):
    analysis = api.analyze([report.parent])
    failed = next(
        f for f in model.build(analysis, neighbours=True).findings if f.rule == "extension-command-failed"
    )
    (block,) = failed.blocks
    context = block.records
    hit = next(c for c in context if c.is_evidence)
    assert any("ech: not found" in line for line in hit.lines)
    assert [c.line for c in context if c.line < hit.line] == [1, 2]
    assert [c.line for c in context if c.line > hit.line] == [15, 16]


def test_stderr_is_visible_after_expanding_the_evidence(report, chromium, tmp_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 900})
        page.goto(report.as_uri())
        finding = page.locator("article[data-rule='extension-command-failed']")
        stderr = finding.locator(".context").get_by_text("/bin/sh: 1: ech: not found")
        assert stderr.count() == 1 and not stderr.is_visible()  # folded: the record is 12 lines
        finding.locator("details.more summary").first.click()
        assert stderr.is_visible()
        # Nothing is clipped: no evidence block is wider than its box.
        overflow = page.evaluate(
            "Array.from(document.querySelectorAll('.context')).some(b => b.scrollWidth > b.clientWidth + 1)"
        )
        assert not overflow
        # The neighbour after the record is shown too.
        assert finding.get_by_text("Handle extensions updates for incarnation 5").is_visible()
        page.screenshot(path=str(tmp_path / "evidence.png"), full_page=True)
        browser.close()


def test_contents_put_charts_and_each_finding_one_click_away(report, chromium):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.goto(report.as_uri())
        anchors = page.eval_on_selector_all("article.finding", "nodes => nodes.map(n => n.id)")
        links = page.eval_on_selector_all("#toc a", "nodes => nodes.map(n => n.getAttribute('href'))")
        assert {f"#{a}" for a in anchors} <= set(links) and "#charts" in links
        page.locator("#toc a[href='#charts']").click()
        assert page.locator("#charts").bounding_box()["y"] < 50  # scrolled to the top of the view
        target = page.locator("article[data-rule='extension-command-failed']")
        page.locator(f"#toc a[href='#{target.get_attribute('id')}']").click()
        assert 0 <= target.bounding_box()["y"] < 50
        browser.close()


@pytest.mark.parametrize("width", [1300, 900])
def test_no_sideways_scrolling_for_several_vms(chromium, tmp_path, width):
    from tests.reports.conftest import REPO

    out = tmp_path / "all.html"
    api.write_html(api.analyze([REPO / "sample_logs"]), out)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(out.as_uri())
        page.wait_for_load_state("load")
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= client
        browser.close()

"""The fleet HTML report in a real headless Chromium: charts drawn, VM links open, log text escaped."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.fleet.conftest import run_loglens
from tests.reports.conftest import CHROMIUM_ARGS, REPO

HOSTILE_VM = "vm-<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def fleet_report(tmp_path_factory, fleet_source):
    root, _ = fleet_source
    source = tmp_path_factory.mktemp("hostile-fleet")
    for vm in ("vm-0000", "vm-0002.zip", "vm-corrupt.zip"):
        copy = shutil.copytree if (root / vm).is_dir() else shutil.copy
        copy(root / vm, source / vm)
    shutil.copytree(REPO / "sample_logs" / "vm-modern", source / HOSTILE_VM)
    out = source.parent / "out"
    html = source.parent / "reports" / "fleet.html"
    html.parent.mkdir()
    done = run_loglens("fleet", str(source), "--out", str(out), "--workers", "1", "--html", str(html), "--per-vm-html")
    assert done.returncode == 0, done.stderr
    return html


def test_charts_draw_and_links_open_each_vm_report(fleet_report, chromium):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
        page.goto(fleet_report.as_uri())
        for chart in ("chart-matrix", "chart-extensions", "chart-onset"):
            page.wait_for_selector(f"#{chart} .main-svg", timeout=20_000)
        # The matrix names every VM, the hostile name as text.
        labels = page.locator("#chart-matrix .ytick text").all_text_contents()
        assert HOSTILE_VM in labels and len(labels) == 4
        assert page.locator("img[src=x]").count() == 0
        verdict = page.locator("#verdict .verdict").inner_text()
        assert verdict.startswith("4 VM(s):") and "1 could not be analysed" in verdict
        failed = page.locator("#vm-table tr", has_text="vm-corrupt.zip").inner_text()
        assert "failed" in failed and "no log lines could be read" in failed
        # The link to a VM's own report opens it, relative to where the fleet report was written.
        page.locator("#vm-table a", has_text=HOSTILE_VM).click()
        page.wait_for_selector("#verdict")
        assert page.title() == "loglens report" and "unsupported-os" in page.locator("#toc").inner_text()
        assert errors == []
        browser.close()

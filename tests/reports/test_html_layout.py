"""The HTML report's tables as a reader sees them in headless Chromium: names and paths wrap at
their dots and slashes, never inside a word ("Extensions.Cu|stomScript"), and header cells do not
run into each other. The report of every sample, written by the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.reports.conftest import CHROMIUM_ARGS, REPO

#: Every word (a run of two or more letters or digits) of every table cell whose line boxes are
#: on more than one line: [table, word, the cell's text].
_BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('table td, table th')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/[A-Za-z0-9]{2,}/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push([cell.closest('table').id || cell.closest('section').id, word[0], cell.textContent]);
      }
    }
  }
  return broken;
}"""

#: Header cells whose text runs out of their box or into another header's text: [table, header].
_CROWDED_HEADERS = """() => {
  const crowded = [];
  const textBoxes = cell => { const r = document.createRange(); r.selectNodeContents(cell); return Array.from(r.getClientRects()); };
  const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  for (const row of document.querySelectorAll('table tr')) {
    const heads = Array.from(row.querySelectorAll('th'));
    heads.forEach((th, i) => {
      const box = th.getBoundingClientRect();
      const own = textBoxes(th);
      const outside = own.some(t => t.left < box.left - 0.5 || t.right > box.right + 0.5);
      const overlaps = heads.some((other, j) => j !== i && textBoxes(other).some(t => own.some(o => meet(o, t))));
      if (outside || overlaps) crowded.push([row.closest('table').id || row.closest('section').id, th.textContent]);
    });
  }
  return crowded;
}"""

#: The dot-separated parts of each facts cell naming CustomScript, each as the set of line tops
#: its letters sit on.
_CUSTOM_SCRIPT = """() => Array.from(document.querySelectorAll('#facts td'))
  .filter(td => td.textContent.includes('Microsoft.Azure.Extensions.CustomScript'))
  .map(td => {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    const parts = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const part of node.data.matchAll(/[^.\\s]+/g)) {
        const range = document.createRange();
        range.setStart(node, part.index);
        range.setEnd(node, part.index + part[0].length);
        parts.push([part[0], new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size]);
      }
    }
    return parts;
  })"""


@pytest.fixture(scope="module")
def samples_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("layout") / "samples.html"
    run = subprocess.run(
        [sys.executable, "-m", "loglens", "analyze", "sample_logs", "--html", str(out), "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return out


@pytest.mark.parametrize("width", [1300, 700])
def test_table_cells_wrap_between_words_and_headers_keep_apart(samples_report, chromium, width):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(samples_report.as_uri())
        page.wait_for_load_state("load")
        broken = page.evaluate(_BROKEN_WORDS)
        crowded = page.evaluate(_CROWDED_HEADERS)
        custom_script = page.evaluate(_CUSTOM_SCRIPT)
        browser.close()
    assert broken == []
    assert crowded == []
    # The name the issue saw broken: each of its dot-separated words on one line, in every VM.
    assert len(custom_script) >= 3
    for parts in custom_script:
        assert {word for word, _ in parts} >= {"Microsoft", "Azure", "Extensions", "CustomScript"}
        assert all(lines == 1 for _, lines in parts), parts

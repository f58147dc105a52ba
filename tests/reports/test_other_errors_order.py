""""Other errors" read as they happened: by time, then file and line; never alphabetically."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

from loglens import api
from loglens.reports import markdown, model
from tests.reports.conftest import REPO

#: Three unexplained errors whose names sort the other way round from their times, and one that
#: happens twice (its first time counts); the agent log lists them out of time order on purpose.
LOG = (
    "2025-02-01T10:00:03.000000Z ERROR ExtHandler ExtHandler Alpha step failed after the mount\n"
    "2025-02-01T10:00:01.000000Z ERROR ExtHandler ExtHandler Zulu step failed before anything else\n"
    "2025-02-01T10:00:02.000000Z WARNING ExtHandler ExtHandler Mike step retried 3 times\n"
    "2025-02-01T10:00:04.000000Z WARNING ExtHandler ExtHandler Mike step retried 4 times\n"
)
IN_TIME = ["Zulu step", "Mike step", "Alpha step"]


def _vm(tmp_path):
    log = tmp_path / "vm" / "var/log/waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text(LOG)
    return log.parents[2]


def _order(texts: list[str]) -> list[str]:
    return [next(name for name in IN_TIME if name in text) for text in texts if any(n in text for n in IN_TIME)]


def test_the_model_lists_other_errors_by_time(tmp_path):
    report = model.build(api.analyze([_vm(tmp_path)]))
    others = report.other_errors
    assert _order([o.template for o in others]) == IN_TIME
    mike = next(o for o in others if "Mike" in o.template)
    assert (mike.count, mike.line) == (2, 3)  # its example is its first time


def test_markdown_and_html_through_the_cli_list_them_by_time(tmp_path):
    vm = _vm(tmp_path)
    out, md = tmp_path / "r.html", tmp_path / "r.md"
    run = subprocess.run(
        [sys.executable, "-m", "loglens", "analyze", str(vm), "--html", str(out), "--markdown", str(md), "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    section = md.read_text().split("## Other errors and warnings", 1)[1].split("\n## ", 1)[0]
    assert _order(re.findall(r"^\|.*\|$", section, flags=re.MULTILINE)) == IN_TIME
    rows = _TableRows("other-errors")
    rows.feed(out.read_text())
    assert _order(rows.rows) == IN_TIME


class _TableRows(HTMLParser):
    """The text of each table row inside the section with the given id."""

    def __init__(self, section: str) -> None:
        super().__init__()
        self.section, self.inside, self.rows = section, False, []

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.inside = dict(attrs).get("id") == self.section
        elif tag == "tr" and self.inside:
            self.rows.append("")

    def handle_data(self, data):
        if self.inside and self.rows:
            self.rows[-1] += data

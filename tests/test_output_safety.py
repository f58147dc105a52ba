"""What loglens writes can be trusted: control characters and Markdown syntax from logs are shown,
never acted on; every output is written whole or not at all; a failing rule or an internal bug
costs one line of explanation, not the run."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from markdown_it import MarkdownIt

from loglens import api, pipeline
from loglens.findings import Rule
from loglens.printable import printable
from loglens.reports import markdown
from loglens.rules import REGISTRY
from parsers import load_sources

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs" / "vm-modern"
ESCAPES = "\x1b]0;TITLE\x07 \x1b[1A\x1b[2K\x1b[32mALL CHECKS PASSED \x1b[2J \u2028forged \u202eevil"
HOSTILE_LINE = f"2024-05-01T10:00:00.000000Z ERROR ExtHandler ExtHandler boom {ESCAPES} ![x](https://evil.example/p.png) [a](https://evil.example) <img src=x> www.evil.example\n"


def loglens(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), **kwargs.pop("env", {})}
    return subprocess.run(
        [sys.executable, "-m", "loglens", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        **kwargs,
    )


def _no_controls(text: str) -> bool:
    return not any(ord(c) < 0x20 and c not in "\t\n" or c in "\x7f\u2028\u2029\u202e" for c in text)


def test_printable_escapes_every_control_but_keeps_text():
    assert printable("a\x1b[2Jb\tc") == "a\\x1b[2Jb\tc"
    assert printable("one\ntwo") == "one\\x0atwo"
    assert printable("one\ntwo", lines=True) == "one\ntwo"
    assert printable("x\u2028y\u202ez\x85") == "x\\u2028y\\u202ez\\x85"
    assert printable("Überprüfung ✓") == "Überprüfung ✓"


@pytest.fixture
def hostile_tree(tmp_path):
    member = tmp_path / "vm" / "var" / "log" / "azure" / "x\x1b[2Jy"
    member.mkdir(parents=True)
    (member / "handler.log").write_text("binary-ish \x1b]0;T\x07 line\n")
    log = tmp_path / "vm" / "var" / "log" / "waagent.log"
    log.write_text(HOSTILE_LINE)
    return tmp_path


def test_terminal_and_warnings_show_escapes_not_sequences(hostile_tree):
    run = loglens("analyze", "vm", cwd=hostile_tree)
    assert run.returncode == 0, run.stderr
    assert _no_controls(run.stdout), run.stdout
    assert _no_controls(run.stderr), run.stderr
    assert "\\x1b]" in run.stdout and "TITLE" in run.stdout
    # One warning is one line: a separator inside a name or message cannot forge another.
    assert all(line.startswith(("warning: ", "error: ")) for line in run.stderr.splitlines())


def test_markdown_keeps_log_text_inert(hostile_tree):
    run = loglens("analyze", "vm", "--markdown", "r.md", "-q", cwd=hostile_tree)
    assert run.returncode == 0, run.stderr
    text = (hostile_tree / "r.md").read_text()
    assert _no_controls(text)
    # Rendered as a Markdown viewer would (raw HTML allowed, tables on), log text makes no element.
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<img" not in rendered and 'evil.example"' not in rendered
    assert not [href for href in rendered.split('href="')[1:] if "evil" in href.split('"')[0]]


def test_markdown_code_spans_hold_any_backticks():
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x") == "`` `x ``"
    assert markdown.code("p|q") == "`p\\|q`"


def test_failed_write_leaves_no_partial_file(tmp_path):
    """A full disk (here: a file-size limit) leaves no HTML, Parquet or CSV behind and says so in one line."""

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    html = loglens("analyze", str(SAMPLE), "--html", "r.html", "-q", cwd=tmp_path, preexec_fn=small_files)
    assert html.returncode == 2
    assert html.stderr.strip().splitlines()[-1].startswith("error: r.html: cannot write output")
    parse = loglens("parse", str(SAMPLE), "--out", "frames", cwd=tmp_path, preexec_fn=small_files)
    assert parse.returncode in (0, 2), parse.stderr
    assert "Traceback" not in parse.stderr
    big = tmp_path / "big.log"
    big.write_text("2024-05-01T10:00:00.000000Z INFO ExtHandler ExtHandler filler line number\n" * 4000)
    csv = loglens("parse", str(big), "--out", "x.csv", cwd=tmp_path, preexec_fn=small_files)
    assert csv.returncode == 2
    assert "error: x.csv: cannot write output" in csv.stderr
    assert "Traceback" not in csv.stderr + html.stderr
    left = sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and p.name != "big.log")
    # Only whole files remain: every Parquet written before the limit opens.
    import polars as pl

    for name in left:
        assert name.endswith(".parquet"), left
        pl.read_parquet(next(tmp_path.rglob(name)))


def test_racing_writers_leave_one_whole_report(tmp_path):
    analysis = api.analyze([SAMPLE])
    out = tmp_path / "r.md"
    expected = markdown.render(api.report_model(analysis, charts=False))
    threads = [threading.Thread(target=api.write_markdown, args=(analysis, out)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert out.read_text().split("\n", 3)[3] == expected.split("\n", 3)[3]
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def _failing_rule(error: BaseException | None = None):
    def detect(context):
        raise error or ValueError("odd input\nsecond line")

    return SimpleNamespace(
        RULE=Rule(id="always-fails", category="timeout", severity="error", title="t"),
        detect=detect,
    )


def test_a_failing_rule_costs_only_its_findings():
    load = load_sources([SAMPLE])
    alone = pipeline.analyze_loaded(load)
    analysis = pipeline.analyze_loaded(load, rules=(*REGISTRY, _failing_rule()))
    assert analysis.findings.table.drop("finding").equals(alone.findings.table.drop("finding"))
    assert len(analysis.rule_failures) == 1
    failure = analysis.rule_failures[0]
    assert failure.startswith("rule always-fails failed") and "ValueError: odd input" in failure
    assert "\n" not in failure
    assert analysis.rule_failures[0] in analysis.warnings
    from loglens.reports import document, model

    report = model.build(analysis, facts=False)
    assert document.build(report)["rule_failures"] == analysis.rule_failures
    assert "rule run(s) failed" in report.verdict


def test_a_polars_panic_in_a_rule_is_a_failure_too():
    import polars as pl

    analysis = pipeline.analyze_loaded(load_sources([SAMPLE]), rules=(_failing_rule(pl.exceptions.PanicException("boom")),))
    assert analysis.rule_failures == [
        "rule always-fails failed on "
        + analysis.contexts[0].collection
        + " (PanicException: boom); its findings are missing"
    ]


def test_an_internal_error_is_one_line_and_its_own_exit_code(tmp_path):
    script = "import loglens.api as a, loglens.cli as c\ndef boom(*_, **__): raise KeyError('x')\na.analyze = boom\nc.main()\n"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", script, "analyze", str(SAMPLE)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert run.returncode == 3
    assert run.stderr.strip().splitlines() == [
        "internal error: KeyError: 'x' (a loglens bug; LOGLENS_DEBUG=1 shows the traceback)"
    ]


def test_csv_cells_that_start_like_a_formula_are_neutralised(tmp_path):
    """OWASP's CSV injection rule: a spreadsheet shows `'=HYPERLINK(...)` as text, never runs it."""
    log = tmp_path / "waagent.log"
    payloads = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|x", "-2+3+cmd|x"]
    log.write_text(
        "".join(
            f"2024-05-01T10:00:0{i}.000000Z INFO ExtHandler ExtHandler ok\n\t{p}\n" if i == 0 else f"{p}\n"
            for i, p in enumerate(payloads)
        )
        + "".join(f"2024-05-01T10:01:0{i}.000000Z INFO {p} ExtHandler fine\n" for i, p in enumerate(payloads))
    )
    run = loglens("parse", "waagent.log", "--out", "x.csv", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    import csv

    with (tmp_path / "x.csv").open(newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert cells, "nothing written"
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells


@pytest.mark.parametrize("hidden", ["\u200b", "\u2060", "\u00ad", "\U000e0041", "\u200d"])
def test_invisible_formatting_is_shown_escaped(tmp_path, hidden):
    log = tmp_path / "vm" / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text(f"2024-05-01T10:00:00.000000Z ERROR ExtHandler ExtHandler pay{hidden}ment failed\n")
    run = loglens("analyze", "vm", "--markdown", "r.md", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    for text in (run.stdout, (tmp_path / "r.md").read_text()):
        assert hidden not in text
        assert "pay\\" in text

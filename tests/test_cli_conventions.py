"""CLI conventions a new user expects: a version, completion, plain messages for bad options,
outputs checked before any work, each written file named, progress only on a terminal."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import regex

REPO = Path(__file__).resolve().parents[1]
SAMPLE = str(REPO / "sample_logs" / "vm-modern")


def loglens(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loglens", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def on_terminal(*args: str, columns: int = 80, cwd: Path = REPO) -> str:
    """Run loglens with stdout and stderr on a pseudo-terminal; return everything it wrote."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "40", "TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-m", "loglens", *args], cwd=cwd, stdout=child, stderr=child, env=env)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def screen_lines(shown: str) -> list[str]:
    """What a terminal shows, as lines: colour and cursor sequences and carriage returns removed."""
    return [line.rstrip() for line in regex.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).replace("\r", "").splitlines()]


def test_version_and_completion():
    run = loglens("--version")
    assert run.returncode == 0 and run.stdout.startswith("loglens ")
    assert "--install-completion" in loglens("--help").stdout


def test_bad_option_values_get_one_plain_line():
    run = loglens("analyze", SAMPLE, "--fail-on", "bogus")
    assert run.returncode == 2
    assert run.stderr == "error: --fail-on must be one of error, warning, never (got 'bogus')\n"
    assert loglens("analyze", SAMPLE, "--fail-on", "ERROR", "-q").returncode == 1


def test_open_needs_an_html_report():
    run = loglens("analyze", SAMPLE, "--open")
    assert run.returncode == 2 and run.stderr == "error: --open opens the HTML report: give --html FILE too\n"


def test_outputs_are_checked_before_any_work(tmp_path):
    # A damaged input would print a warning if it were read: none appears, so nothing was read.
    damaged = tmp_path / "waagent.log"
    damaged.write_bytes(b"2025-01-01T00:00:00.000000Z INFO ExtHandler ExtHandler ok\n\xff\xfe\n")
    cases = {
        ("--html", str(tmp_path / "no-such-dir" / "r.html")): "directory",
        ("--markdown", str(tmp_path)): "is a directory",
        ("--json", str(tmp_path / "missing" / "r.json")): "does not exist",
    }
    for option, reason in cases.items():
        run = loglens("analyze", str(damaged), *option)
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("error: ") and reason in run.stderr and "warning" not in run.stderr
    parse = loglens("parse", str(damaged), "--out", str(tmp_path / "x.txt"))
    assert parse.returncode == 2 and "unknown output type .txt" in parse.stderr and "warning" not in parse.stderr


def test_each_written_output_is_named(tmp_path):
    run = loglens("analyze", SAMPLE, "--json", "r.json", "--markdown", "r.md", cwd=tmp_path)
    assert run.returncode == 0
    assert "JSON report written to r.json" in run.stderr.splitlines()
    assert "Markdown report written to r.md" in run.stderr.splitlines()
    assert "written to" not in loglens("analyze", SAMPLE, "--json", str(tmp_path / "q.json"), "-q").stderr


def test_progress_shows_on_a_terminal_only(tmp_path):
    shown = on_terminal("analyze", SAMPLE, "--json", str(tmp_path / "r.json"))
    assert "reading 27 file(s)" in shown and "running " in shown
    piped = loglens("analyze", SAMPLE, "--json", str(tmp_path / "r.json"))
    assert "reading" not in piped.stderr and "\x1b" not in piped.stderr + piped.stdout
    assert "reading" not in on_terminal("analyze", SAMPLE, "--json", str(tmp_path / "r.json"), "-q")


def test_terminal_findings_keep_paths_whole_and_indent_wrapped_text():
    lines = screen_lines(on_terminal("analyze", SAMPLE, columns=80))
    # Every evidence location is on one line, however narrow the terminal.
    locations = [line.split("evidence: ", 1)[1] for line in lines if "evidence: " in line]
    assert locations and all(":" in where and " " not in where.split(" (+")[0] for where in locations)
    # Wrapped summary lines start under the rule name, not at the left margin.
    heads = [i for i, line in enumerate(lines) if line.startswith("ERROR")]
    wrapped = [lines[i + 1] for i in heads if i + 1 < len(lines) and "evidence" not in lines[i + 1]]
    assert wrapped and all(line.startswith("        ") for line in wrapped)


def test_evidence_paths_stay_whole_under_a_long_clone_location_at_any_width(tmp_path):
    """A clone about 20 characters deeper once split `evidence:` from its path at 80 columns."""
    vm = tmp_path / ("a-clone-location-that-is-long-" * 4) / "vm-modern"
    shutil.copytree(REPO / "sample_logs" / "vm-modern", vm)
    assert len(str(vm)) > 120
    for columns in (40, 80, 120):
        lines = screen_lines(on_terminal("analyze", str(vm), columns=columns, cwd=tmp_path))
        evidence = [line for line in lines if "evidence:" in line]
        assert len(evidence) >= 5, lines
        assert all(regex.fullmatch(rf"\s+evidence: {regex.escape(str(vm))}/\S+:\d+( .*)?", line) for line in evidence), (
            columns,
            evidence,
        )


def test_piped_output_is_never_wrapped():
    run = loglens("analyze", str(REPO / "sample_logs"))
    finding_lines = [line for line in run.stdout.splitlines() if line.startswith(("ERROR ", "WARNING ", "INFO "))]
    evidence = [line for line in run.stdout.splitlines() if line.startswith("        evidence: ")]
    assert finding_lines and evidence
    # A wrapped line would start neither with a severity nor with the evidence indent.
    body = run.stdout.split("Other errors")[0].splitlines()[1:]
    assert all(line.startswith(("ERROR ", "WARNING ", "INFO ", "        ")) for line in body)
    assert all(line == line.rstrip() for line in body)


def test_parse_table_fits_a_narrow_terminal(tmp_path):
    shown = on_terminal("parse", SAMPLE, "--out", str(tmp_path / "narrow.parquet"), columns=80)
    lines = screen_lines(shown)
    rows = [line for line in lines if line.rstrip().endswith((" yes", " NO"))]
    # One row per source (27 of them), none wider than the terminal, each path elided in the middle.
    assert len(rows) == 27 and all(len(line) <= 80 for line in rows), rows
    assert any(
        "…" in line and line.split()[0].endswith(("waagent.log", ".status", ".settings", ".json")) for line in rows
    )


def test_help_loads_no_data_libraries():
    """`loglens --help` starts at once: Polars, plotly and the parsers load only for real work."""
    probe = "import sys, loglens.cli; print(sorted(m for m in ('polars', 'plotly', 'jinja2', 'parsers') if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
    assert loglens("--help").returncode == 0


def test_help_shows_what_a_user_types_not_python_annotations():
    """Typer 0.2x writes `<list[Path]>`, `<bool>` beside flags, `<int range> [x>=1]` and `{paths}...`;
    every command's help shows metavars (`PATH...`, `FILE`, `N`) and nothing beside a flag."""
    commands = ([], ["parse"], ["analyze"], ["rules"], ["fleet"], ["lnav-format"])
    for command in commands:
        shown = loglens(*command, "--help").stdout
        assert not regex.search(r"<[a-z][\w\[\], |]*>|\{\w+|\[x[<>]=", shown), (command, shown)
        assert "Usage: loglens" in shown
    assert "Usage: loglens analyze [OPTIONS] PATH..." in loglens("analyze", "--help").stdout
    assert "Usage: loglens fleet [OPTIONS] SOURCE..." in loglens("fleet", "--help").stdout
    assert "Usage: loglens rules [OPTIONS] [ID]" in loglens("rules", "--help").stdout
    flags = [line for line in loglens("analyze", "--help").stdout.splitlines() if "--open" in line or "--quiet" in line]
    assert flags and all(regex.search(r"--(open|quiet)(\s+-q)?\s{3,}(Open|Print)", line) for line in flags), flags


def completions(*words: str) -> list[str]:
    """What bash completion offers after ``loglens WORDS`` (the last word is the one being typed)."""
    env = {**os.environ, "_LOGLENS_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(["loglens", *words])}
    env["COMP_CWORD"] = str(len(words))
    run = subprocess.run([sys.executable, "-m", "loglens"], env=env, capture_output=True, text=True, timeout=60)
    return run.stdout.split()


def test_completion_offers_fail_on_levels_and_rule_ids():
    assert completions("analyze", SAMPLE, "--fail-on", "") == ["error", "warning", "never"]
    assert completions("analyze", SAMPLE, "--fail-on", "w") == ["warning"]
    assert "wireserver-unreachable" in completions("rules", "")
    assert completions("rules", "unsupp") == ["unsupported-os"]


def test_progress_shows_percent_and_time_left_on_one_line_and_nothing_when_piped(tmp_path):
    """A big log read on a terminal shows a bar with the percent of bytes read and the time left
    (it showed a spinner and a byte count before); piped, stderr holds no progress at all."""
    from benchmarks.generate import generate

    log = tmp_path / "waagent.log"
    generate(log, 70)  # three analysis chunks: the bar moves between them
    shown = on_terminal("analyze", str(log), "--json", str(tmp_path / "r.json"), columns=100)
    frames = [regex.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", f) for f in regex.split(r"\r|\x1b\[2K", shown)]
    bars = [f for f in frames if regex.search(r"reading .* \d{1,3}% \d+:\d\d:\d\d\s*$", f)]
    assert bars, frames[:20]
    # One line: the display never wraps onto a second row of the 100-column terminal.
    assert all("\n" not in f.strip("\n") and len(f.rstrip()) <= 100 for f in bars)
    piped = loglens("analyze", str(log), "--json", str(tmp_path / "r.json"))
    assert piped.returncode == 0 and "%" not in piped.stderr and "reading" not in piped.stderr, piped.stderr

"""Charts that read at any size: reports made by the CLI, opened in headless Chromium, checked
from the SVG plotly drew (see `charts_seen.problems` for what counts as a problem).

Each case is a problem seen in a real report: the samples (labels over each other, cut off at
the right edge, legends over the axis title), one record or one minute of logs (empty frames on
placeholder axes, ticks like `00:02:59.9996`), and a big log whose hundreds of bars made the
labels a black smear. The issue's 300 MB log was checked by hand once
(`python -m benchmarks.generate --size-mb 300`, then `loglens analyze --html`, then these checks:
no problems); the test uses 30 MB, which crowds the timeline the same way (its 400-bar cap)
and keeps the test fast.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.reports.charts_seen import Chart, look, problems
from tests.reports.conftest import REPO

SAMPLES = REPO / "sample_logs"
#: A wide desktop window and a narrow one (plotly lays the same figure out again for each).
WIDTHS = (1300, 800)
#: One record: the agent saying it started, as the first line of a real waagent.log does.
ONE_RECORD = "2025-06-10T11:41:05.330172Z INFO Daemon Daemon Azure Linux Agent Version: 2.15.0.1\n"


def _report(tmp: Path, name: str, *paths: Path) -> Path:
    out = tmp / f"{name}.html"
    done = subprocess.run(
        [sys.executable, "-m", "loglens", "analyze", *map(str, paths), "--html", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


def _vm(tmp: Path, name: str, log: str) -> Path:
    """A VM tree holding only `var/log/waagent.log`."""
    logs = tmp / name / "var" / "log"
    logs.mkdir(parents=True)
    (logs / "waagent.log").write_text(log)
    return tmp / name


def _readable(report: Path, chromium: str, shots: Path) -> dict[str, Chart]:
    """The charts of ``report`` as drawn at the widest width, once a reader would trip over
    nothing at any of them."""
    seen = look(report, chromium, shots, WIDTHS)
    for width, charts in seen.items():
        found = [p for chart in charts for p in problems(chart)]
        assert found == [], f"at {width} px (screenshots in {shots}): {found[:10]}"
    return {chart.id: chart for chart in seen[WIDTHS[0]]}


@pytest.mark.parametrize("sources", [["vm-modern"], ["."]], ids=["vm-modern", "all-samples"])
def test_sample_charts_have_no_label_over_another_or_cut_off(sources, tmp_path, chromium, chart_shots):
    report = _report(tmp_path, f"samples-{'-'.join(sources).strip('.') or 'all'}", *(SAMPLES / s for s in sources))
    charts = _readable(report, chromium, chart_shots)
    assert set(charts) == {"chart-timeline", "chart-events", "chart-versions", "chart-other-errors"}
    assert all(chart.note is None for chart in charts.values())
    # The legend stands clear of the time axis's title (they used to share the bottom margin).
    assert any(t["kind"] == "g-xtitle" and t["text"] == "time (UTC)" for t in charts["chart-events"].texts)


def test_one_record_gets_one_sentence_per_missing_chart_not_an_empty_frame(tmp_path, chromium, chart_shots):
    report = _report(tmp_path, "one-record", _vm(tmp_path, "vm-one", ONE_RECORD))
    charts = _readable(report, chromium, chart_shots)
    notes = {name: chart.note for name, chart in charts.items() if chart.note}
    assert notes == {
        "chart-timeline": "No extension operations or timed findings in these logs: no timeline to draw.",
        "chart-other-errors": "No error or warning in these logs is left unexplained: no template chart to draw.",
    }
    # The one record, and the agent version it names, are drawn on axes around its own time
    # (not around January 2000).
    for name in ("chart-events", "chart-versions"):
        ticks = [t["text"] for t in charts[name].texts if t["kind"] == "xtick"]
        assert any("Jun 10, 2025" in tick for tick in ticks), (name, ticks)


def test_a_minute_of_records_gets_ticks_on_whole_seconds(tmp_path, chromium, chart_shots):
    lines = "".join(f"2025-06-10T11:41:{s:02d}.330172Z INFO ExtHandler ExtHandler heartbeat\n" for s in range(0, 60, 5))
    report = _report(tmp_path, "one-minute", _vm(tmp_path, "vm-minute", lines))
    ticks = [t["text"] for t in _readable(report, chromium, chart_shots)["chart-events"].texts if t["kind"] == "xtick"]
    assert len(ticks) >= 3 and all(tick.startswith("11:4") for tick in ticks), ticks


def test_a_big_log_draws_its_many_bars_without_a_smear_of_labels(tmp_path, chromium, chart_shots):
    vm = tmp_path / "vm-big"
    (vm / "var" / "log").mkdir(parents=True)
    made = subprocess.run(
        [sys.executable, "-m", "benchmarks.generate", "--size-mb", "30", "--out", str(vm / "var/log/waagent.log")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert made.returncode == 0, made.stderr
    report = _report(tmp_path, "big-log", vm)
    timeline = _readable(report, chromium, chart_shots)["chart-timeline"]
    assert timeline.traces >= 3
    # Hundreds of bars: their labels are in the hover text only.
    assert [t["text"] for t in timeline.texts if t["kind"] == "bar"] == []

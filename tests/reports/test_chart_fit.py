"""Figure data that makes charts read at any size: the browser test (`test_chart_layout`) sees
the result; these say, without a browser, which labels, ranges and sentences the figures carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from loglens import api
from loglens.reports import figures
from loglens.reports.chart_fit import MAX_LABELLED_BARS, fit_time_axes, labelled, note_of, wrapped
from tests.reports.conftest import REPO

T0 = datetime(2025, 6, 11, 13, 36, tzinfo=UTC)


def _bars(*spans: tuple[str, int, int]) -> pl.DataFrame:
    """(row, start minute, end minute) -> the frame `labelled` reads, labelled `row@start`."""
    return pl.DataFrame(
        {
            "row": [r for r, _, _ in spans],
            "start": [T0 + timedelta(minutes=a) for _, a, _ in spans],
            "end": [T0 + timedelta(minutes=b) for _, _, b in spans],
            "label": [f"{r}@{a}" for r, a, _ in spans],
        }
    )


def test_of_overlapping_bars_on_a_row_only_the_longest_keeps_its_label():
    bars = _bars(
        ("AMA", 4, 6),  # overlaps the next one, which is longer
        ("AMA", 0, 5),
        ("AMA", 6, 9),  # starts where the last ended: keeps its own
        ("AMA", 30, 31),
        ("AMA", 30, 31),  # the same stretch again: one label of the two
        ("CSE", 0, 60),  # another row: no clash with AMA
    )
    assert labelled(bars).to_list() == ["", "AMA@0", "AMA@6", "AMA@30", "", "CSE@0"]


def test_many_bars_have_no_labels_at_all():
    bars = _bars(*[("AMA", 2 * i, 2 * i + 1) for i in range(MAX_LABELLED_BARS + 1)])
    assert set(labelled(bars).to_list()) == {""}


def test_a_time_axis_spans_the_data_with_room_even_for_one_instant():
    import plotly.graph_objects as go

    figure = fit_time_axes(go.Figure(go.Scatter(x=[T0], y=[1])))
    start, end = (datetime.fromisoformat(t).replace(tzinfo=UTC) for t in figure.layout.xaxis.range)
    assert start < T0 < end and end - start == timedelta(seconds=90)
    assert list(figure.layout.xaxis.autotickangles) == [0, 90]


def test_sample_figures_carry_labels_without_clashes_and_hover_names_everything():
    analysis = api.analyze([REPO / "sample_logs" / "vm-modern"])
    timeline = figures.timeline(analysis)
    bars = [t for t in timeline.data if t.type == "bar"]
    names = [c[0] for t in bars for c in t.customdata]
    labels = [x for t in bars for x in t.text]
    # AMA's Disable, Update, Uninstall, Install and Enable within a minute: drawn, named on hover.
    assert "Update 1.33.2" in names and len(labels) == len(names)
    assert set(labels) <= set(names) | {""}
    assert all(t.textposition == "inside" for t in bars) and timeline.layout.uniformtext.mode == "hide"
    assert timeline.layout.legend.x > 1  # right of the plot, clear of the axis title


def test_missing_data_is_a_sentence_not_a_figure():
    analysis = api.analyze([REPO / "sample_logs" / "vm-healthy"])
    assert note_of(figures.other_errors(analysis)) == (
        "No error or warning in these logs is left unexplained: no template chart to draw."
    )
    assert note_of(figures.timeline(analysis)) is None


def test_long_legend_names_wrap_at_spaces():
    assert wrapped("platform limit (20 min; 90 for CustomScript, Chef, DSC)") == (
        "platform limit (20 min; 90<br>for CustomScript, Chef, DSC)"
    )

"""Fitting a chart to its data and its page: the shared layout, time axes, bar labels, and the
sentence drawn instead of a chart with no data.

Plotly left to itself draws a chart with no data on a placeholder axis (January to November
2000, y from -1 to 4), zooms a single bar to fractions of a millisecond, and lets bar labels
spill over each other and past the plot's edge. These helpers give every time axis a range
taken from what is drawn, and label a bar only where no other bar's label can meet it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
import polars as pl

#: Room on either side of the data on a time axis, as a share of its span...
_PAD_SHARE = 0.03
#: ...and at least this much, so a single instant or a one-minute log gets a readable axis
#: (ticks on whole seconds or minutes, never on fractions of one).
_MIN_PAD = timedelta(seconds=45)
#: Above this many bars, labels are left to the hover text: they could only be a smear.
MAX_LABELLED_BARS = 60
#: Bar labels smaller than this are hidden rather than shrunk (plotly's `uniformtext`).
LABEL_MIN_SIZE = 10


def nothing_to_draw(note: str) -> go.Figure:
    """A figure that is only the sentence saying why there is no chart (no axes, no frame).

    The HTML report prints the sentence instead of a chart (`note_of`); a notebook shows it.
    """
    figure = go.Figure()
    figure.update_layout(
        meta={"nothing_to_draw": note},
        xaxis={"visible": False},
        yaxis={"visible": False},
        height=80,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        template="plotly_white",
        annotations=[{"text": note, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0, "xanchor": "left"}],
    )
    return figure


def note_of(figure: go.Figure) -> str | None:
    """The sentence a `nothing_to_draw` figure stands for, or None for a real chart."""
    meta = figure.layout.meta
    return meta.get("nothing_to_draw") if isinstance(meta, dict) else None


def _instant(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _trace_times(trace) -> list[datetime]:
    """Every instant a trace draws: point times, and both ends of bars laid along the time axis."""
    if trace.type == "bar" and trace.orientation == "h":
        if trace.base is None:
            return []
        starts = [_instant(b) for b in trace.base]
        return starts + [t + timedelta(milliseconds=ms) for t, ms in zip(starts, trace.x, strict=True)]
    times = [_instant(x) for x in trace.x or []]
    if trace.type == "bar" and trace.width is not None:
        # A bar spans [x + offset, x + offset + width] (the events chart sets both).
        offset, width = timedelta(milliseconds=float(trace.offset or 0)), timedelta(milliseconds=float(trace.width))
        times = [t + offset for t in times] + [t + offset + width for t in times]
    return times


def fit_time_axes(figure: go.Figure) -> go.Figure:
    """Give each time axis the range of what is drawn on it, padded (each subplot its own)."""
    spans: dict[str, list[datetime]] = {}
    for trace in figure.data:
        spans.setdefault(trace.xaxis or "x", []).extend(_trace_times(trace))
    for axis, times in spans.items():
        if not times:
            continue
        first, last = min(times), max(times)
        pad = max((last - first) * _PAD_SHARE, _MIN_PAD)
        name = "xaxis" + axis.removeprefix("x")
        figure.layout[name].update(
            type="date",
            range=[_plotly_time(first - pad), _plotly_time(last + pad)],
            # Crowded labels turn upright rather than slant: slanted ones still reach their neighbours.
            autotickangles=[0, 90],
            # Clear of the y axis's lowest label, which sits level with the axis line.
            ticklabelstandoff=4,
        )
    return figure


def _plotly_time(moment: datetime) -> str:
    # Plotly dates carry no zone; the charts are in UTC.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def labelled(bars: pl.DataFrame) -> pl.Series:
    """Each bar's label, or "" where it could collide with another bar's label.

    ``bars`` has `row`, `start`, `end` and `label`. Labels are drawn inside their own bar (the
    charts set `textposition="inside"` and hide what does not fit), so two labels can only meet
    where bars on one row overlap in time. Of each run of overlapping bars only the longest keeps
    its label: it is the one with room for it. Over `MAX_LABELLED_BARS`, no labels at all.
    """
    if bars.height > MAX_LABELLED_BARS:
        return pl.Series("label", [""] * bars.height, dtype=pl.String)
    run = ["row", "run"]
    checked = (
        bars.with_columns(order=pl.int_range(pl.len()), end=pl.coalesce("end", "start"))
        .sort("row", "start", "end")
        # A run starts where a bar starts after every earlier bar on its row has ended.
        .with_columns(reach=pl.col("end").shift(1).cum_max().over("row"))
        .with_columns(run=(pl.col("reach").is_null() | (pl.col("start") >= pl.col("reach"))).cum_sum().over("row"))
        .with_columns(length=pl.col("end") - pl.col("start"))
        .with_columns(keep=pl.col("length").arg_max().over(run) == pl.int_range(pl.len()).over(run))
        .sort("order")
    )
    return checked.select(pl.when(pl.col("keep")).then(pl.col("label")).otherwise(pl.lit("")).alias("label"))["label"]


def inside_labels() -> dict:
    """Layout for labels drawn inside bars: hidden where they would not fit at a readable size."""
    return {"uniformtext": {"mode": "hide", "minsize": LABEL_MIN_SIZE}}


#: Legend entries wrap at about this many characters: a long one would take the plot's width.
LEGEND_LINE = 28


def wrapped(name: str, width: int = LEGEND_LINE) -> str:
    """``name`` broken into lines (`<br>`) of about ``width`` characters, at spaces."""
    lines: list[str] = []
    for word in name.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def layout(
    figure: go.Figure, title: str, x_title: str, y_title: str, height: int = 420, subtitle: str = ""
) -> go.Figure:
    """The look every loglens chart shares (the fleet charts too).

    The legend stands right of the plot, where plotly keeps room for it: below the plot it shares
    the bottom margin with the tick labels and the axis title and covers them, and above it the
    title. It is shown even for a single trace, so every colour on a chart is named. The title
    (and its subtitle) push the plot down as far as they need (`automargin`).
    """
    for trace in figure.data:
        if trace.name:
            trace.name = wrapped(trace.name)
    figure.update_layout(
        title={
            "text": title,
            "subtitle": {"text": subtitle},
            "automargin": True,
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": 12},
        },
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        template="plotly_white",
        showlegend=True,
        # A gap for the last time tick, centred on the plot's right edge, to stick out into.
        legend={"orientation": "v", "x": 1.06, "xanchor": "left", "y": 1, "yanchor": "top"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        hoverlabel={"namelength": -1},
    )
    return figure

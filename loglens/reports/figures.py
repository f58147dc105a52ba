"""Charts of an analysis: pure functions from frames and findings to plotly Figures.

The same figures appear in the HTML report and in notebooks. Every chart has a title, axis
titles and a UTC time axis where it has time. Outcomes and levels are told apart by pattern
and marker shape as well as colour, so a black-and-white print still reads. Chart data is
aggregated (time buckets, one bar per operation, top templates), so a huge log still makes a
small report.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePosixPath

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from loglens.engine import Analysis
from loglens.knowledge import CATEGORIES, LIMITS_LABEL, WARN_SHARE
from loglens.reports.chart_fit import (
    MAX_LABELLED_BARS,
    fit_time_axes,
    inside_labels,
    labelled,
    layout,
    nothing_to_draw,
    wrapped,
)
from loglens.versions import EXTENSION_HANDLER

#: Outcome -> (colour, bar pattern) for the operation timeline.
OUTCOME_STYLE = {
    "succeeded": ("#2e7d32", ""),
    "failed": ("#c62828", "x"),
    "still running": ("#ef6c00", "/"),
}
#: Level -> (colour, bar pattern) for events over time.
LEVEL_STYLE = {
    "ERROR": ("#c62828", "x"),
    "WARNING": ("#ef6c00", "/"),
    "INFO": ("#90a4ae", ""),
    "VERBOSE": ("#cfd8dc", "."),
}
_SEVERITY_COLOUR = {"error": "#b71c1c", "warning": "#e65100", "info": "#1565c0"}
#: Time buckets of the events chart, from fine to coarse; the first giving <= 200 buckets wins.
_BUCKETS = ("1m", "5m", "15m", "1h", "3h", "6h", "1d", "7d")
_BUCKET_SPAN = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "3h": 180, "6h": 360, "1d": 1440, "7d": 10080}
#: Other-error templates charted.
TOP_TEMPLATES = 10
#: Their labels wrap at about this many characters.
TEMPLATE_LINE = 45
#: Operations drawn on the timeline: every failed or running one and the longest others, up to this many.
MAX_TIMELINE_BARS = 400


def _short(extension: str | None) -> str:
    return (extension or "agent / VM").removeprefix("Microsoft.").removeprefix("Azure.")


def _most_telling(analysis: Analysis, count: int) -> pl.DataFrame:
    """The ``count`` operations that failed or are still running, then the longest (ties: the
    earliest started), in the order they started; picked a part at a time, never all at once."""
    order = [(pl.col("outcome") != "succeeded").cast(pl.Int8), pl.col("took"), pl.col("started")]
    descending = [True, True, False]
    picked = [
        part.sort(order, descending=descending, maintain_order=True).head(count) for part in analysis.operation_parts()
    ]
    best = pl.concat(picked).sort(order, descending=descending, maintain_order=True).head(count)
    return best.sort("started", maintain_order=True)


def _row(name: pl.Expr, several: bool) -> pl.Expr:
    """A chart row label: the short component name, after its VM's name when several VMs are loaded."""
    short = name.cast(pl.String).fill_null("?").str.strip_prefix("Microsoft.").str.strip_prefix("Azure.")
    if not several:
        return short
    # The last part of the collection's path, as `_vm_short` names it.
    vm = pl.col("collection").cast(pl.String).str.strip_chars_end("/").str.replace(r"^.*/", "")
    return pl.concat_str(vm, pl.lit(" · "), short)


def _vm_short(collection: str) -> str:
    return PurePosixPath(collection).name or collection


def _finding_row(analysis: Analysis, finding: dict, row: str) -> str:
    return f"{_vm_short(finding['collection'])} · {row}" if analysis.several_vms else row


def _timed_findings(analysis: Analysis) -> pl.DataFrame:
    return analysis.findings.table.filter(pl.col("first_seen").is_not_null())


def _finding_markers(figure: go.Figure, analysis: Analysis, y_of) -> None:
    """One marker trace per category: findings at their first time, with the summary on hover."""
    timed = _timed_findings(analysis)
    for category in CATEGORIES:
        found = timed.filter(pl.col("category") == category.name).to_dicts()
        if not found:
            continue
        figure.add_trace(
            go.Scatter(
                x=[f["first_seen"] for f in found],
                y=[y_of(f) for f in found],
                mode="markers",
                name=f"finding: {category.name}",
                marker={
                    "symbol": category.symbol,
                    "size": 13,
                    "color": [_SEVERITY_COLOUR[f["severity"]] for f in found],
                    "line": {"width": 1, "color": "black"},
                },
                text=[f"{f['severity']}: {f['summary']}" for f in found],
                hovertemplate="%{text}<extra></extra>",
            )
        )


def timeline(analysis: Analysis) -> go.Figure:
    """Extension operations as bars per extension, by outcome, with the platform limits and findings."""
    count = analysis.operation_count
    if count == 0 and _timed_findings(analysis).height == 0:
        return nothing_to_draw("No extension operations or timed findings in these logs: no timeline to draw.")
    figure = go.Figure()
    shown_note = ""
    if count > MAX_TIMELINE_BARS:
        # Routine quick successes would bury the story: keep what failed or ran long.
        ops = _most_telling(analysis, MAX_TIMELINE_BARS)
        shown_note = f"{ops.height:,} of {count:,} operations: all failed or running, then the longest"
    else:
        ops = analysis.operations
    if ops.height:
        ops = ops.with_columns(row=_row(pl.col("extension"), analysis.several_vms))
        _operation_bars(figure, ops)
        _limit_markers(figure, ops)
    _finding_markers(figure, analysis, lambda f: _finding_row(analysis, f, _short(f["extension"])))
    rows = ops["row"].n_unique() if ops.height else 0
    if analysis.several_vms:
        # VMs logged years apart would shrink every bar to a point on one shared axis.
        figure = _split_by_vm(figure, [_vm_short(c) for c in analysis.collections])
    fit_time_axes(figure)
    figure.update_layout(inside_labels())
    figure.update_yaxes(categoryorder="category descending")  # top to bottom alphabetical: a VM's rows together
    return layout(
        figure,
        "Extension operations (bars) and findings",
        _time_title(analysis),
        "extension",
        height=max(360, 60 * rows + 120 * len(analysis.collections) * analysis.several_vms + 200),
        subtitle=shown_note,
    )


def _limit_markers(figure: go.Figure, ops: pl.DataFrame) -> None:
    """Where each operation would reach its platform limit; on a crowded timeline only where it
    matters (failed, running, or near the limit): one marker per quick success is a smear there."""
    # Each operation carries its limit (`OPERATION_COLUMNS`).
    near = pl.col("took") >= pl.col("limit") * WARN_SHARE
    shown = ops.filter((pl.col("outcome") != "succeeded") | near) if ops.height > MAX_LABELLED_BARS else ops
    limits = shown.with_columns(limit_at=pl.col("started") + pl.col("limit"))
    figure.add_trace(
        go.Scatter(
            x=limits["limit_at"].to_list(),
            y=limits["row"].to_list(),
            mode="markers",
            name=LIMITS_LABEL,
            marker={"symbol": "line-ns-open", "size": 18, "color": "black", "line": {"width": 2}},
            hovertemplate="limit reached at %{x}<extra></extra>",
        )
    )


#: Per-point trace properties carried over when a trace is split by VM.
_POINT_FIELDS = ("x", "y", "base", "text", "customdata")


def _split_by_vm(figure: go.Figure, vms: list[str]) -> go.Figure:
    """The same traces on one subplot per VM, each with its own time range (rows are `VM · name`)."""
    vms = [vm for vm in dict.fromkeys(vms)]
    split = make_subplots(rows=len(vms), cols=1, subplot_titles=vms, vertical_spacing=0.3 / len(vms))
    in_legend: set[str] = set()
    for trace in figure.data:
        labels = list(trace.y or [])
        for index, vm in enumerate(vms, start=1):
            keep = [i for i, label in enumerate(labels) if str(label).startswith(f"{vm} · ")]
            if not keep:
                continue
            part = trace.to_plotly_json()
            for field in _POINT_FIELDS:
                if part.get(field) is not None and not isinstance(part[field], str):
                    part[field] = [list(part[field])[i] for i in keep]
            colours = (part.get("marker") or {}).get("color")
            if isinstance(colours, (list, tuple)):
                part["marker"] = {**part["marker"], "color": [colours[i] for i in keep]}
            part["y"] = [str(label).split(" · ", 1)[1] for label in part["y"]]
            part["legendgroup"], part["showlegend"] = trace.name, trace.name not in in_legend
            in_legend.add(trace.name)
            split.add_trace(type(trace)(part), row=index, col=1)
    return split


def _operation_bars(figure: go.Figure, ops: pl.DataFrame) -> None:
    """One bar trace per outcome; a bar is labelled only where the label has the bar to itself."""
    name = pl.concat_str(pl.col("operation"), pl.lit(" "), pl.col("extension_version").fill_null("")).str.strip_chars()
    ops = ops.with_columns(name=name, start=pl.col("started"), end=pl.col("started") + pl.col("took"))
    ops = ops.with_columns(label=labelled(ops.select("row", "start", "end", label="name")))
    for outcome, (colour, pattern) in OUTCOME_STYLE.items():
        # Many bars a pixel wide: black outlines would make one black smear of them.
        edge = "black" if ops.height <= MAX_LABELLED_BARS else colour
        part = ops.filter(pl.col("outcome") == outcome)
        if part.height == 0:
            continue
        figure.add_trace(
            go.Bar(
                orientation="h",
                base=part["started"].to_list(),
                x=[t.total_seconds() * 1000 for t in part["took"].to_list()],
                y=part["row"].to_list(),
                name=f"{outcome}",
                marker={"color": colour, "pattern": {"shape": pattern}, "line": {"width": 1, "color": edge}},
                text=part["label"].to_list(),
                textposition="inside",
                insidetextanchor="middle",
                customdata=[[n, str(t).split(".")[0]] for n, t in zip(part["name"], part["took"], strict=True)],
                hovertemplate="%{y}: %{customdata[0]}<br>started %{base}<br>took %{customdata[1]}<extra>"
                + outcome
                + "</extra>",
            )
        )


def events_over_time(analysis: Analysis) -> go.Figure:
    """Records per time bucket by level, stacked, with findings marked by category."""
    timeline = analysis.timeline
    if timeline.height == 0:
        return nothing_to_draw("No timestamped records in these logs: no events chart to draw.")
    figure = go.Figure()
    if timeline.height:
        spans = pl.concat([c.spans for c in analysis.contexts])
        span = (spans["last_seen"].max() - spans["first_seen"].min()) or timedelta(minutes=1)
        bucket = next((b for b in _BUCKETS if span / timedelta(minutes=_BUCKET_SPAN[b]) <= 200), "7d")
        # Every bucket is whole minutes, so minutes truncate to the bucket their records would.
        counts = (
            timeline.select(bucket=pl.col("minute").dt.truncate(bucket), level=pl.col("level"), count=pl.col("count"))
            .group_by("bucket", "level")
            .agg(pl.col("count").sum())
            .with_columns(pl.col("level").cast(pl.String))
            .sort("bucket")
        )
        for level, (colour, pattern) in LEVEL_STYLE.items():
            part = counts.filter(pl.col("level") == level)
            if part.height:
                figure.add_trace(
                    go.Bar(
                        x=part["bucket"].to_list(),
                        y=part["count"].to_list(),
                        name=level,
                        # Each bar covers its bucket, from its start: the axis then spans whole buckets.
                        width=_BUCKET_SPAN[bucket] * 60_000,
                        offset=0,
                        marker={"color": colour, "pattern": {"shape": pattern}},
                        hovertemplate=f"{level}: %{{y}} records<br>%{{x}}<extra></extra>",
                    )
                )
        peak = counts.group_by("bucket").agg(pl.col("count").sum())["count"].max() or 1
        _finding_markers(figure, analysis, lambda f: peak * 1.08)
        figure.update_layout(barmode="stack")
        title = f"Log records per {bucket} by level, findings marked by category"
    fit_time_axes(figure)
    figure.update_yaxes(rangemode="tozero")
    return layout(figure, title, "time (UTC)", "records")


#: Rules whose findings mark a version change on the versions chart.
_VERSION_CHANGES = ("agent-update", "agent-update-failed", "extension-upgrade")


def versions(analysis: Analysis) -> go.Figure:
    """Which agent and extension version ran when; upgrades and rollbacks marked."""
    spans = (
        analysis.versions.with_columns(row=_row(pl.col("component"), analysis.several_vms))
        .group_by("row", "version")
        .agg(pl.col("first_seen").min(), pl.col("last_seen").max())
        .filter(pl.col("first_seen").is_not_null())
        .sort("row", "first_seen")
        # A version seen once still gets a bar a minute wide.
        .with_columns(end=pl.max_horizontal(pl.col("last_seen"), pl.col("first_seen") + timedelta(minutes=1)))
    )
    if spans.height == 0 and _timed_findings(analysis).filter(pl.col("rule").is_in(_VERSION_CHANGES)).height == 0:
        return nothing_to_draw("No agent or extension versions with a time in these logs: no versions chart to draw.")
    figure = go.Figure()
    if spans.height:
        label = labelled(spans.select("row", "end", start="first_seen", label="version"))
        figure.add_trace(
            go.Bar(
                orientation="h",
                base=spans["first_seen"].to_list(),
                x=[(b - a).total_seconds() * 1000 for a, b in zip(spans["first_seen"], spans["end"], strict=True)],
                y=spans["row"].to_list(),
                text=label.to_list(),
                textposition="inside",
                insidetextanchor="start",
                customdata=spans["version"].to_list(),
                name="version seen in the logs",
                marker={"color": "#78909c", "pattern": {"shape": "."}, "line": {"width": 1, "color": "black"}},
                hovertemplate="%{y} %{customdata}<br>first %{base}<extra></extra>",
            )
        )
    _change_markers(figure, analysis)
    if analysis.several_vms:
        figure = _split_by_vm(figure, [_vm_short(c) for c in analysis.collections])
    fit_time_axes(figure)
    figure.update_layout(inside_labels())
    height = max(320, 45 * spans["row"].n_unique() + 120 * len(analysis.collections) * analysis.several_vms + 200)
    return layout(figure, "Agent and extension versions over time", _time_title(analysis), "component", height=height)


def _time_title(analysis: Analysis) -> str:
    # Per-VM subplots name their VM above each axis; an axis title there would collide with it.
    return "" if analysis.several_vms else "time (UTC)"


def _change_markers(figure: go.Figure, analysis: Analysis) -> None:
    """Upgrades (info) and failed or rolled-back ones, on their component's row."""
    changes = _timed_findings(analysis).filter(pl.col("rule").is_in(_VERSION_CHANGES))

    def row(f: dict) -> str:
        name = _short(f["extension"]) if f["extension"] != "WALinuxAgent" else EXTENSION_HANDLER
        return _finding_row(analysis, f, name)

    for label, symbol, chosen in (
        ("upgrade", "triangle-up", changes.filter(pl.col("severity") == "info")),
        ("failed or rolled back", "triangle-down", changes.filter(pl.col("severity") != "info")),
    ):
        if chosen.height:
            found = chosen.to_dicts()
            figure.add_trace(
                go.Scatter(
                    x=[f["first_seen"] for f in found],
                    y=[row(f) for f in found],
                    mode="markers",
                    name=label,
                    marker={"symbol": symbol, "size": 14, "color": "black" if label == "upgrade" else "#b71c1c"},
                    text=[f["summary"] for f in found],
                    hovertemplate="%{text}<extra></extra>",
                )
            )


def other_errors(analysis: Analysis) -> go.Figure:
    """The most frequent error/warning templates no rule explains."""
    top = analysis.other_errors.sort("count", descending=True, maintain_order=True).head(TOP_TEMPLATES).reverse()
    if top.height == 0:
        return nothing_to_draw("No error or warning in these logs is left unexplained: no template chart to draw.")
    templates = top["template"].to_list()
    figure = go.Figure(
        go.Bar(
            orientation="h",
            x=top["count"].to_list(),
            # Two or three short lines each: one long line would take the plot's width (or run off it).
            y=[wrapped((t or "")[:120] + ("..." if len(t or "") > 120 else ""), TEMPLATE_LINE) for t in templates],
            marker={"color": "#546e7a", "pattern": {"shape": "\\"}},
            text=top["count"].to_list(),
            textposition="outside",
            hovertemplate="%{y}: %{x} records<extra></extra>",
            name="records",
        )
    )
    # Whole-number ticks from zero, with room for the labels: one-off templates stay readable bars.
    most = max(top["count"].to_list(), default=1)
    figure.update_xaxes(
        rangemode="tozero", range=[0, most * 1.15 + 0.5], tickformat="d", dtick=None if most > 10 else 1
    )
    return layout(
        figure,
        "Errors and warnings no rule explains (top templates)",
        "records",
        "message template",
        height=max(300, 40 * top.height + 160),
    )


FIGURES = {
    "timeline": timeline,
    "events": events_over_time,
    "versions": versions,
    "other-errors": other_errors,
}

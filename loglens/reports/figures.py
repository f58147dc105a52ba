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

from loglens.engine import Analysis
from loglens.operations import DEFAULT_LIMIT, LONG_LIMIT, LONG_LIMIT_EXTENSIONS, handler_of
from loglens.records import records as record_view

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
#: Category -> marker symbol for findings drawn on time charts.
CATEGORY_SYMBOL = {
    "upgrade": "triangle-up",
    "timeout": "hourglass",
    "unsupported-os": "square-x",
    "wireserver": "diamond",
    "lock-contention": "star",
    "command-failure": "x",
    "disk-space": "pentagon",
    "agent-health": "cross",
}
_SEVERITY_COLOUR = {"error": "#b71c1c", "warning": "#e65100", "info": "#1565c0"}
#: Time buckets of the events chart, from fine to coarse; the first giving <= 200 buckets wins.
_BUCKETS = ("1m", "5m", "15m", "1h", "3h", "6h", "1d", "7d")
_BUCKET_SPAN = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "3h": 180, "6h": 360, "1d": 1440, "7d": 10080}
#: Other-error templates charted.
TOP_TEMPLATES = 10
#: Operations drawn on the timeline: every failed or running one and the longest others, up to this many.
MAX_TIMELINE_BARS = 400


def _short(extension: str | None) -> str:
    return (extension or "agent / VM").removeprefix("Microsoft.").removeprefix("Azure.")


def _vm_names(analysis: Analysis) -> dict[str, str] | None:
    """Per source path, a short name of its VM collection; None when only one VM is loaded."""
    if not analysis.several_vms:
        return None
    return {path: _vm_short(name) for path, name in analysis.load.collections().items()}


def _vm_short(collection: str) -> str:
    return PurePosixPath(collection).name or collection


def _with_vm_rows(frame: pl.DataFrame, names: dict[str, str] | None) -> pl.DataFrame:
    """Prefix `row` with the VM's name when several VMs are loaded, so their rows stay apart."""
    if names is None:
        return frame
    vm = pl.col("source_path").replace_strict(names, default="?", return_dtype=pl.String)
    return frame.with_columns(row=pl.concat_str(vm, pl.lit(" · "), pl.col("row")))


def _vm_row(names: dict[str, str] | None, finding, row: str) -> str:
    if names is None or finding.collection is None:
        return row
    return f"{_vm_short(finding.collection)} · {row}"


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str, height: int = 420) -> go.Figure:
    figure.update_layout(
        title={"text": title},
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        hoverlabel={"namelength": -1},
    )
    return figure


def _finding_markers(figure: go.Figure, analysis: Analysis, y_of) -> None:
    """One marker trace per category: findings at their first time, with the summary on hover."""
    for category, symbol in CATEGORY_SYMBOL.items():
        found = [f for f in analysis.findings if f.category == category and f.first_seen is not None]
        if not found:
            continue
        figure.add_trace(
            go.Scatter(
                x=[f.first_seen for f in found],
                y=[y_of(f) for f in found],
                mode="markers",
                name=f"finding: {category}",
                marker={
                    "symbol": symbol,
                    "size": 13,
                    "color": [_SEVERITY_COLOUR[f.severity] for f in found],
                    "line": {"width": 1, "color": "black"},
                },
                text=[f"{f.severity}: {f.summary}" for f in found],
                hovertemplate="%{text}<extra></extra>",
            )
        )


def timeline(analysis: Analysis) -> go.Figure:
    """Extension operations as bars per extension, by outcome, with the platform limits and findings."""
    ops = analysis.operations
    names = _vm_names(analysis)
    figure = go.Figure()
    shown_note = ""
    if ops.height > MAX_TIMELINE_BARS:
        # Routine quick successes would bury the story: keep what failed or ran long.
        notable = (pl.col("outcome") != "succeeded").cast(pl.Int8)
        kept = ops.sort([notable, pl.col("took")], descending=[True, True]).head(MAX_TIMELINE_BARS)
        shown_note = f" ({kept.height:,} of {ops.height:,} operations: all failed or running, then the longest)"
        ops = kept.sort("started")
    if ops.height:
        ops = ops.with_columns(
            row=pl.col("extension").fill_null("?").str.strip_prefix("Microsoft.").str.strip_prefix("Azure.")
        )
        ops = _with_vm_rows(ops, names)
        for outcome, (colour, pattern) in OUTCOME_STYLE.items():
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
                    marker={"color": colour, "pattern": {"shape": pattern}, "line": {"width": 1, "color": "black"}},
                    text=[
                        f"{o} {v or ''}".strip()
                        for o, v in zip(part["operation"], part["extension_version"], strict=True)
                    ],
                    customdata=[str(t).split(".")[0] for t in part["took"].to_list()],
                    hovertemplate="%{y}: %{text}<br>started %{base}<br>took %{customdata}<extra>"
                    + outcome
                    + "</extra>",
                )
            )
        limits = ops.with_columns(
            limit_at=pl.col("started")
            + pl.when(handler_of(pl.col("extension")).is_in(LONG_LIMIT_EXTENSIONS))
            .then(pl.lit(LONG_LIMIT))
            .otherwise(pl.lit(DEFAULT_LIMIT))
        )
        figure.add_trace(
            go.Scatter(
                x=limits["limit_at"].to_list(),
                y=limits["row"].to_list(),
                mode="markers",
                name="platform limit (20 min; 90 for CustomScript, Chef, DSC)",
                marker={"symbol": "line-ns-open", "size": 18, "color": "black", "line": {"width": 2}},
                hovertemplate="limit reached at %{x}<extra></extra>",
            )
        )
    _finding_markers(figure, analysis, lambda f: _vm_row(names, f, _short(f.extension)))
    figure.update_xaxes(type="date")
    figure.update_yaxes(categoryorder="category descending")  # top to bottom alphabetical: a VM's rows together
    return _layout(
        figure,
        "Extension operations (bars) and findings" + shown_note,
        "time (UTC)",
        "extension",
        height=max(360, 60 * ops["row"].n_unique() + 200) if ops.height else 360,
    )


def events_over_time(analysis: Analysis) -> go.Figure:
    """Records per time bucket by level, stacked, with findings marked by category."""
    records = record_view(analysis.load.frames).filter(pl.col("timestamp").is_not_null())
    figure = go.Figure()
    if records.height:
        span = (records["timestamp"].max() - records["timestamp"].min()) or timedelta(minutes=1)
        bucket = next((b for b in _BUCKETS if span / timedelta(minutes=_BUCKET_SPAN[b]) <= 200), "7d")
        counts = (
            records.select(bucket=pl.col("timestamp").dt.truncate(bucket), level=pl.col("level"))
            .group_by("bucket", "level")
            .agg(count=pl.len())
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
                        marker={"color": colour, "pattern": {"shape": pattern}},
                        hovertemplate=f"{level}: %{{y}} records<br>%{{x}}<extra></extra>",
                    )
                )
        peak = counts.group_by("bucket").agg(pl.col("count").sum())["count"].max() or 1
        _finding_markers(figure, analysis, lambda f: peak * 1.08)
        figure.update_layout(barmode="stack")
        title = f"Log records per {bucket} by level, findings marked by category"
    else:
        title = "Log records over time (no timestamped records)"
    figure.update_xaxes(type="date")
    return _layout(figure, title, "time (UTC)", "records")


def versions(analysis: Analysis) -> go.Figure:
    """Which agent and extension version ran when; upgrades and rollbacks marked."""
    records = record_view(analysis.load.frames).filter(pl.col("timestamp").is_not_null())
    names = _vm_names(analysis)
    running = records.filter(pl.col("extension_version").is_not_null() & pl.col("extension").is_not_null()).select(
        "extension", "extension_version", "timestamp", "source_path"
    )
    agent = (
        records.filter(
            (pl.col("kind") == "waagent")
            & (
                pl.col("message").str.starts_with("Agent WALinuxAgent-")
                | pl.col("message").str.starts_with("Azure Linux Agent")
            )
        )
        .with_columns(
            extension_version=pl.coalesce(
                pl.col("message").str.extract(r"^Agent WALinuxAgent-(\d+(?:\.\d+)+) is running as the", 1),
                pl.col("message").str.extract(r"Goal State Agent version (\d+(?:\.\d+)+)", 1),
                pl.col("message").str.extract(r"^Azure Linux Agent Version: ?(\d+(?:\.\d+)+)", 1),
            ),
            extension=pl.when(pl.col("message").str.contains(r"^Azure Linux Agent Version"))
            .then(pl.lit("WALinuxAgent (daemon)"))
            .otherwise(pl.lit("WALinuxAgent (extension handler)")),
        )
        .filter(pl.col("extension_version").is_not_null())
        .select("extension", "extension_version", "timestamp", "source_path")
    )
    # Reduce to spans per source first: the row labels are then made on a handful of rows.
    per_source = (
        pl.concat([agent, running])
        .group_by("extension", "extension_version", "source_path")
        .agg(first=pl.col("timestamp").min(), last=pl.col("timestamp").max())
        .with_columns(row=pl.col("extension").str.strip_prefix("Microsoft.").str.strip_prefix("Azure."))
    )
    spans = (
        _with_vm_rows(per_source, names)
        .group_by("row", "extension_version")
        .agg(pl.col("first").min(), pl.col("last").max())
        .sort("row", "first")
    )
    figure = go.Figure()
    if spans.height:
        rows = spans["row"].to_list()
        widths = [
            max((b - a).total_seconds() * 1000, 60_000) for a, b in zip(spans["first"], spans["last"], strict=True)
        ]
        figure.add_trace(
            go.Bar(
                orientation="h",
                base=spans["first"].to_list(),
                x=widths,
                y=rows,
                text=spans["extension_version"].to_list(),
                textposition="inside",
                insidetextanchor="start",
                name="version seen in the logs",
                marker={"color": "#78909c", "pattern": {"shape": "."}, "line": {"width": 1, "color": "black"}},
                hovertemplate="%{y} %{text}<br>first %{base}<extra></extra>",
            )
        )
    changes = [f for f in analysis.findings if f.rule in ("agent-update", "agent-update-failed", "extension-upgrade")]
    for label, symbol, chosen in (
        ("upgrade", "triangle-up", [f for f in changes if f.severity == "info"]),
        ("failed or rolled back", "triangle-down", [f for f in changes if f.severity != "info"]),
    ):
        if chosen:
            figure.add_trace(
                go.Scatter(
                    x=[f.first_seen for f in chosen],
                    y=[
                        _vm_row(
                            names,
                            f,
                            _short(f.extension)
                            if f.extension != "WALinuxAgent"
                            else "WALinuxAgent (extension handler)",
                        )
                        for f in chosen
                    ],
                    mode="markers",
                    name=label,
                    marker={"symbol": symbol, "size": 14, "color": "black" if label == "upgrade" else "#b71c1c"},
                    text=[f.summary for f in chosen],
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    figure.update_xaxes(type="date")
    height = max(320, 45 * spans["row"].n_unique() + 200) if spans.height else 320
    return _layout(figure, "Agent and extension versions over time", "time (UTC)", "component", height=height)


def other_errors(analysis: Analysis) -> go.Figure:
    """The most frequent error/warning templates no rule explains."""
    top = sorted(analysis.other_errors, key=lambda o: o.count, reverse=True)[:TOP_TEMPLATES][::-1]
    figure = go.Figure(
        go.Bar(
            orientation="h",
            x=[o.count for o in top],
            y=[o.template[:90] + ("..." if len(o.template) > 90 else "") for o in top],
            marker={"color": "#546e7a", "pattern": {"shape": "\\"}},
            text=[o.count for o in top],
            textposition="outside",
            hovertemplate="%{y}: %{x} records<extra></extra>",
            name="records",
        )
    )
    return _layout(
        figure,
        "Errors and warnings no rule explains (top templates)",
        "records",
        "message template",
        height=max(300, 40 * len(top) + 160),
    )


FIGURES = {
    "timeline": timeline,
    "events": events_over_time,
    "versions": versions,
    "other-errors": other_errors,
}

"""Fleet charts (plotly): the VM x category matrix, findings by extension version, incident onset.

Each takes a `Fleet` and returns a figure; the HTML report embeds them and a notebook shows them.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from loglens.knowledge import SEVERITIES
from loglens.reports.chart_fit import fit_time_axes, layout, nothing_to_draw

#: VMs drawn in the matrix: the worst first (the VM table lists them all).
MATRIX_VMS = 150
#: Extension versions drawn.
EXTENSION_BARS = 25
_SEVERITY_COLOURS = {"error": "#b71c1c", "warning": "#ef6c00", "info": "#1565c0"}


def _whole_ticks(largest: int) -> dict:
    """Axis ticks on whole VM counts, about eight of them."""
    return {"tickformat": "d", "tick0": 0, "dtick": max(1, -(-int(largest) // 8))}


def matrix(fleet) -> go.Figure:
    """Worst severity per VM and category, the VMs with most errors on top."""
    order = fleet.vm_table().head(MATRIX_VMS).get_column("vm").to_list()
    cells = fleet.matrix()
    if not order or cells.width < 2:
        return nothing_to_draw("No VM has a finding: no VM x category matrix to draw.")
    categories = [c for c in cells.columns if c != "vm"]
    cells = pl.DataFrame({"vm": order}).join(cells, on="vm", how="left")
    # Severity as a number for the colour scale: 3 error, 2 warning, 1 info, 0 none.
    score = {s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}
    z = [[score.get(row[c], 0) for c in categories] for row in cells.iter_rows(named=True)]
    text = [[row[c] or "" for c in categories] for row in cells.iter_rows(named=True)]
    scale = [[0, "#f5f5f5"], [0.25, "#f5f5f5"], [0.25, "#90caf9"], [0.5, "#90caf9"]]
    scale += [[0.5, "#ffb74d"], [0.75, "#ffb74d"], [0.75, "#e57373"], [1, "#e57373"]]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=categories,
            y=order,
            text=text,
            # Each score in the middle of its quarter of the colour scale.
            zmin=-0.5,
            zmax=len(SEVERITIES) + 0.5,
            colorscale=scale,
            # Every colour named: a colour bar of the four bands, each labelled.
            showscale=True,
            colorbar={
                "title": {"text": "worst finding"},
                "tickvals": list(range(len(SEVERITIES) + 1)),
                "ticktext": ["none", *reversed(SEVERITIES)],
                "len": min(1.0, 300 / max(300, 120 + 18 * len(order))),
                "yanchor": "top",
                "y": 1,
            },
            xgap=2,
            ygap=1,
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", type="category", dtick=1)  # every VM named: rows are 18 px
    # Category names that do not fit side by side stand upright (slanted, they still touch).
    figure.update_xaxes(autotickangles=[0, 90])
    total = fleet.counts()["vms"]
    shown = f"the {len(order)} worst of {total:,} VMs" if len(order) < total else ""
    height = max(300, 120 + 18 * len(order))
    return layout(figure, "VMs by category: worst finding", "", "", height=height, subtitle=shown)


def extensions(fleet) -> go.Figure:
    """VMs with an error or warning finding per extension version, stacked by category."""
    rows = fleet.by_extension()
    if rows.height == 0:
        return nothing_to_draw("No VM has an error or warning finding about an extension: no rollout chart to draw.")
    label = pl.concat_str(
        pl.col("extension").str.strip_prefix("Microsoft.").str.strip_prefix("Azure."),
        pl.lit(" "),
        pl.col("version").fill_null("(version unknown)"),
    )
    rows = rows.with_columns(label=label)
    top = rows.group_by("label").agg(pl.col("vms").sum()).sort("vms", "label", descending=[True, False])
    labels = top.head(EXTENSION_BARS).get_column("label").to_list()
    figure = go.Figure()
    for category, part in rows.filter(pl.col("label").is_in(labels)).partition_by("category", as_dict=True).items():
        figure.add_bar(
            y=part["label"].to_list(),
            x=part["vms"].to_list(),
            name=category[0],
            orientation="h",
            hovertemplate="%{y}<br>" + category[0] + ": %{x} VM(s)<extra></extra>",
        )
    figure.update_layout(barmode="stack")
    figure.update_yaxes(categoryorder="array", categoryarray=labels[::-1], type="category")
    figure.update_xaxes(rangemode="tozero", **_whole_ticks(top["vms"].max() if top.height else 1))
    title = "Which rollout fails: VMs with findings by extension version"
    return layout(figure, title, "VMs", "", height=160 + 24 * max(len(labels), 4))


def onset(fleet) -> go.Figure:
    """VMs showing each category over time: when did it start, how fast did it spread."""
    rows = fleet.onset()
    if rows.height == 0:
        return nothing_to_draw("No VM has a timed error or warning finding: no onset to draw.")
    figure = go.Figure()
    for category, part in rows.partition_by("category", as_dict=True, maintain_order=True).items():
        figure.add_scatter(
            x=part["first_seen"].to_list(),
            y=part["vms"].to_list(),
            name=category[0],
            mode="lines+markers",
            line_shape="hv",
            text=part["vm"].to_list(),
            hovertemplate="%{x}<br>" + category[0] + ": %{y} VM(s), latest %{text}<extra></extra>",
        )
    fit_time_axes(figure)
    figure.update_yaxes(rangemode="tozero", **_whole_ticks(rows["vms"].max() if rows.height else 1))
    return layout(figure, "Incident onset: VMs with each category over time", "first seen on the VM (UTC)", "VMs")


FIGURES = {"matrix": matrix, "extensions": extensions, "onset": onset}

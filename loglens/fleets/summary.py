"""A finished fleet dataset as lazy frames, and the tables every fleet output shows.

`Fleet` is what `loglens.fleet(DIR)` returns in a notebook; the HTML, Markdown and terminal
fleet reports are views of the same tables, so they always agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from loglens.fleets import dataset
from loglens.knowledge import CATEGORY_NAMES, SEVERITIES

#: Causes named in the verdict.
VERDICT_CAUSES = 3
#: Unexplained templates listed.
TOP_TEMPLATES = 15


class Fleet:
    """A fleet dataset (`loglens fleet --out DIR`) opened read-only.

    Attributes:
        vms, findings, evidence, other_errors: the dataset's parts as Polars lazy frames (the
            tables below read each part once, when first asked: open the dataset again after a rerun).

    Example:
        >>> fleet = loglens.fleet("out/")  # doctest: +SKIP
        >>> fleet.findings.filter(pl.col("category") == "unsupported-os").collect()  # doctest: +SKIP
    """

    def __init__(self, out: Path | str, vms: Iterable[str] | None = None) -> None:
        self.out = Path(out)
        if not (self.out / "vms").is_dir():
            from loglens.errors import InputError

            raise InputError(f"{self.out}: not a loglens fleet dataset (no vms/ directory)")
        only = None if vms is None else pl.Series(list(vms), dtype=pl.String)
        parts = {part: dataset.scan(self.out, part) for part in dataset.PARTS}
        if only is not None:
            parts = {name: frame.filter(pl.col("vm").is_in(only)) for name, frame in parts.items()}
        self.vms = parts["vms"]
        self.findings = parts["findings"]
        self.evidence = parts["evidence"]
        self.other_errors = parts["other_errors"]
        self._tables: dict[str, pl.DataFrame] = {}

    def _table(self, part: str) -> pl.LazyFrame:
        """A part as read once: a report asks for each several times, and a scan opens every VM's file."""
        if part not in self._tables:
            self._tables[part] = getattr(self, part).collect()
        return self._tables[part].lazy()

    def vm_table(self) -> pl.DataFrame:
        """One row per VM, worst first: status, versions, finding counts, top categories."""
        worst = (
            self._table("findings")
            .filter(pl.col("severity") != "info")
            .group_by("vm")
            .agg(categories=pl.col("category").unique().sort())
        )
        return (
            self._table("vms")
            .join(worst, on="vm", how="left")
            .sort(
                [pl.col("status") == "ok", "errors", "warning_findings", "vm"],
                descending=[False, True, True, False],
                nulls_last=True,
            )
            .collect()
        )

    def counts(self) -> dict[str, int]:
        """VMs in all, failed to analyse, with an error finding, with warnings only, clean."""
        vms = self._table("vms").select("status", "errors", "warning_findings").collect()
        ok = vms.filter(pl.col("status") == "ok")
        errors = ok.filter(pl.col("errors") > 0).height
        warnings = ok.filter((pl.col("errors") == 0) & (pl.col("warning_findings") > 0)).height
        return {
            "vms": vms.height,
            "failed": vms.height - ok.height,
            "errors": errors,
            "warnings": warnings,
            "clean": ok.height - errors - warnings,
        }

    def causes(self) -> pl.DataFrame:
        """Per category and rule: VMs with an error or warning finding, findings, onset and last time."""
        return (
            self._table("findings")
            .filter(pl.col("severity") != "info")
            .group_by("category", "rule", "severity")
            .agg(
                vms=pl.col("vm").n_unique(),
                findings=pl.len(),
                since=pl.col("first_seen").min(),
                until=pl.col("last_seen").max(),
                title=pl.col("title").first(),
            )
            .with_columns(rank=pl.col("severity").replace_strict(list(SEVERITIES), range(len(SEVERITIES))))
            .sort(["rank", "vms", "findings", "rule"], descending=[False, True, True, False])
            .drop("rank")
            .collect()
        )

    def verdict(self) -> str:
        """One paragraph: how many VMs, how many with errors, the top causes."""
        c = self.counts()
        text = (
            f"{c['vms']:,} VM(s): {c['errors']:,} with errors, {c['warnings']:,} with warnings only, "
            f"{c['clean']:,} without either"
        )
        text += f", {c['failed']:,} could not be analysed." if c["failed"] else "."
        causes = self.causes().filter(pl.col("severity") == "error").head(VERDICT_CAUSES)
        if causes.height:
            named = [
                f"{row['rule']} on {row['vms']:,} VM(s)"
                + (f" since {row['since']:%Y-%m-%d %H:%M} UTC" if row["since"] else "")
                for row in causes.iter_rows(named=True)
            ]
            text += " Top causes: " + "; ".join(named) + "."
        return text

    def matrix(self) -> pl.DataFrame:
        """VM x category: the worst severity of the VM's findings in that category (null: none)."""
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        cells = (
            self._table("findings")
            .group_by("vm", "category")
            .agg(pl.col("severity").replace_strict(rank, return_dtype=pl.Int8).min().alias("worst"))
            .collect()
        )
        names = {i: s for s, i in rank.items()}
        wide = cells.with_columns(pl.col("worst").replace_strict(names, return_dtype=pl.String)).pivot(
            on="category", index="vm", values="worst"
        )
        categories = [c for c in CATEGORY_NAMES if c in wide.columns]
        return self._table("vms").select("vm").collect().join(wide, on="vm", how="left").select("vm", *categories)

    def by_extension(self) -> pl.DataFrame:
        """Per extension and version: VMs with an error or warning finding about it, by category."""
        return (
            self._table("findings")
            .filter(pl.col("extension").is_not_null() & (pl.col("severity") != "info"))
            .group_by("extension", "version", "category")
            .agg(vms=pl.col("vm").n_unique(), findings=pl.len(), since=pl.col("first_seen").min())
            .sort(["vms", "findings", "extension", "version"], descending=[True, True, False, False], nulls_last=True)
            .collect()
        )

    def onset(self) -> pl.DataFrame:
        """Per category, when each VM first showed it (errors and warnings): `vms` counts up over time."""
        return (
            self._table("findings")
            .filter((pl.col("severity") != "info") & pl.col("first_seen").is_not_null())
            .group_by("category", "vm")
            .agg(pl.col("first_seen").min())
            .sort("category", "first_seen", "vm")
            .with_columns(vms=pl.int_range(1, pl.len() + 1).over("category"))
            .collect()
        )

    def top_templates(self, limit: int = TOP_TEMPLATES) -> pl.DataFrame:
        """Unexplained error templates across the fleet: on most VMs first, with one example."""
        return (
            self._table("other_errors")
            .group_by("template")
            .agg(
                vms=pl.col("vm").n_unique(),
                count=pl.col("count").sum(),
                example_vm=pl.col("vm").first(),
                path=pl.col("path").first(),
                line=pl.col("line").first(),
            )
            .sort(["vms", "count", "template"], descending=[True, True, False])
            .head(limit)
            .collect()
        )

    # -- figures and reports (notebook conveniences over `loglens.fleets.figures` and `.report`) --

    def matrix_chart(self):
        """Plotly figure: worst severity per VM and category.

        Example:
            >>> loglens.fleet("out/").matrix_chart()  # doctest: +SKIP
        """
        from loglens.fleets import figures

        return figures.matrix(self)

    def extensions_chart(self):
        """Plotly figure: VMs with findings per extension version (which rollout fails)."""
        from loglens.fleets import figures

        return figures.extensions(self)

    def onset_chart(self):
        """Plotly figure: VMs showing each category over time (when did it start)."""
        from loglens.fleets import figures

        return figures.onset(self)

    def report(self, html: Path | str | None = None, markdown: Path | str | None = None, *, run=None):
        """Write the fleet report as HTML and/or Markdown (as `loglens fleet --html/--markdown`);
        returns the typed report they render (`loglens.fleets.model`), built once (``run``: the
        `FleetRun` that just wrote the dataset, for the terminal summary).

        Raises:
            InputError: a file cannot be written.
        """
        from loglens.api import writing
        from loglens.fleets import model, report
        from loglens.version import __version__

        built = model.build(self, version=__version__, charts=html is not None, run=run)
        for out, write in ((html, report.write_html), (markdown, report.write_markdown)):
            if out is not None:
                with writing(out):
                    write(built, out)
        return built

    def _repr_html_(self) -> str:
        from html import escape

        return f"<p><b>loglens Fleet</b> {escape(str(self.out))}: {escape(self.verdict())}</p>"

    def __repr__(self) -> str:
        return f"Fleet({str(self.out)!r}): {self.verdict()}"

"""The notebook API: a `Lens` over everything loaded from a VM.

Example:
    >>> import loglens
    >>> lens = loglens.load("sample_logs/vm-modern")          # doctest: +SKIP
    >>> lens.waagent.filter(pl.col("level") == "ERROR")        # doctest: +SKIP
    >>> findings = lens.findings                               # doctest: +SKIP
    >>> findings.frame.select("severity", "rule", "summary")   # doctest: +SKIP
    >>> lens.extension("CustomScript").timeline()              # doctest: +SKIP
    >>> lens.window("2025-06-11 03:00", "2025-06-11 07:00").report("window.html")  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from loglens import api
from loglens.engine import Analysis
from loglens.findings import Findings
from loglens.redact import redact_frame, redact_texts
from loglens.reports import figures
from parsers import LoadResult, SourceAccount


def load(paths: Iterable[Path | str] | Path | str, *, tz: str | None = None, redact: bool = True) -> Lens:
    """Load every source under ``paths`` into a `Lens` (arguments and errors as `loglens.api.read`).

    ``redact`` (default on) hides secrets in every frame the lens hands out, as in every other
    output; turn it off only to look at raw values on a machine you trust. Rules always read the
    raw text, so findings are the same either way.

    Returns:
        A `Lens`: the named frames (``waagent``, ``extension_logs``, ``status``,
        ``instance_view``, ``config``, ...; see docs/schema.md), per-source accounting and
        warnings, findings, charts and reports.

    Raises:
        InputError: ``tz`` is not a valid offset or zone.

    Example:
        >>> lens = load("sample_logs/vm-modern")  # doctest: +SKIP
        >>> lens.waagent.filter(pl.col("level") == "ERROR")  # doctest: +SKIP
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return Lens(api.read(paths, tz=tz), description=", ".join(str(p) for p in paths), redact=redact)


class Lens:
    """Frames, accounting, findings and charts for one set of collected VM logs.

    Every frame named in docs/schema.md is an attribute (``lens.waagent``, ``lens.status``,
    ``lens.instance_view``, ...) and an entry of ``lens.frames``; ``lens.lazy`` has the same
    as LazyFrames. Narrowing (``window``, ``extension``) returns a new Lens and leaves this one as it is.
    """

    def __init__(self, result: LoadResult, *, description: str = "", redact: bool = True) -> None:
        self._result = result
        self.description = description
        self.redact = redact

    # -- data -------------------------------------------------------------------------------

    @cached_property
    def frames(self) -> dict[str, pl.DataFrame]:
        """Frame name -> Polars DataFrame (schemas in docs/schema.md), secrets redacted unless the
        lens was loaded with ``redact=False``."""
        if not self.redact:
            return self._result.frames
        return {name: redact_frame(frame) for name, frame in self._result.frames.items()}

    @property
    def lazy(self) -> dict[str, pl.LazyFrame]:
        """The frames as LazyFrames, for queries Polars should plan and stream.

        Example:
            >>> lens.lazy["waagent"].filter(pl.col("level") == "ERROR").group_by("extension").len().collect()  # doctest: +SKIP
        """
        return {name: frame.lazy() for name, frame in self.frames.items()}

    def __getattr__(self, name: str) -> pl.DataFrame:
        names = self.__dict__["_result"].frames if "_result" in self.__dict__ else {}
        if name in names:
            return self.frames[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r} (frames: {', '.join(names)})")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._result.frames))

    @property
    def accounts(self) -> list[SourceAccount]:
        """Per-source line accounting and warnings."""
        return self._result.accounts

    @property
    def warnings(self) -> list[str]:
        """Every warning about the input."""
        return redact_texts(self._result.warnings) if self.redact else self._result.warnings

    @property
    def notes(self) -> list[str]:
        return self._result.notes

    @property
    def ignored(self) -> list[str]:
        """Files found but not read (not a source loglens knows)."""
        return self._result.ignored

    def accounting(self) -> pl.DataFrame:
        """The per-source accounting as a frame: lines = records + continuations + unparsed + skipped."""
        return pl.DataFrame(
            [{**a.row(), "warnings": len(a.warnings)} for a in self.accounts],
            schema={
                "path": pl.String,
                "kind": pl.String,
                "recognised_by": pl.String,
                "lines": pl.Int64,
                "records": pl.Int64,
                "continuations": pl.Int64,
                "unparsed": pl.Int64,
                "skipped": pl.Int64,
                "balanced": pl.Boolean,
                "warnings": pl.Int64,
            },
        ).rename({"balanced": "adds_up"})

    # -- analysis and charts ----------------------------------------------------------------

    @cached_property
    def analysis(self) -> Analysis:
        """Every rule run over this lens (once; the result is kept): findings and derived frames."""
        return api.analyze(self._result)

    @property
    def verdict(self) -> str:
        """The report's verdict paragraph: how many problems, and the most severe ones.

        Example:
            >>> print(lens.verdict)  # doctest: +SKIP
        """
        from loglens.reports.model import verdict

        return verdict(self.analysis)

    @property
    def findings(self) -> Findings:
        """The findings of `analysis` (every rule runs once, on first use).

        Example:
            >>> lens.findings.frame.filter(pl.col("severity") == "error")  # doctest: +SKIP
        """
        return self.analysis.findings

    def timeline(self) -> go.Figure:
        """Extension operations per extension, coloured and patterned by outcome, with limits and findings."""
        return figures.timeline(self.analysis)

    def events_over_time(self) -> go.Figure:
        """Records per time bucket by level, with findings marked by category."""
        return figures.events_over_time(self.analysis)

    def versions(self) -> go.Figure:
        """Which agent and extension versions ran when; upgrades and rollbacks marked."""
        return figures.versions(self.analysis)

    def other_errors_chart(self) -> go.Figure:
        """The most frequent errors and warnings no rule explains."""
        return figures.other_errors(self.analysis)

    def report(self, path: Path | str) -> Path:
        """Write the HTML report (the same as `loglens analyze --html`).

        Example:
            >>> lens.report("triage.html")  # doctest: +SKIP
        """
        return api.write_html(self.analysis, path)

    # -- narrowing --------------------------------------------------------------------------

    def window(self, start: datetime | str | None = None, end: datetime | str | None = None) -> Lens:
        """A lens with only timestamped rows in ``[start, end)`` (UTC); frames without time are kept whole.

        Example:
            >>> lens.window("2025-06-11 03:00", "2025-06-11 07:00")  # doctest: +SKIP
        """
        low, high = _utc(start), _utc(end)
        frames = {}
        for name, frame in self._result.frames.items():
            if "timestamp" not in frame.columns:
                frames[name] = frame
                continue
            keep = pl.lit(True)
            if low is not None:
                keep &= pl.col("timestamp") >= low
            if high is not None:
                keep &= pl.col("timestamp") < high
            frames[name] = frame.filter(keep.fill_null(False))
        return self._narrowed(frames, f"{low or '...'} to {high or '...'}")

    def extension(self, name: str) -> Lens:
        """A lens with only rows about extensions whose name contains ``name`` (case-insensitive).

        Frames without an extension column (config, agent version) are kept whole.

        Example:
            >>> lens.extension("CustomScript").waagent  # doctest: +SKIP
        """
        frames = {}
        for frame_name, frame in self._result.frames.items():
            if "extension" not in frame.columns:
                frames[frame_name] = frame
                continue
            keep = pl.col("extension").str.contains(name, literal=True) | pl.col(
                "extension"
            ).str.to_lowercase().str.contains(name.lower(), literal=True)
            frames[frame_name] = frame.filter(keep.fill_null(False))
        return self._narrowed(frames, f"extension {name}")

    @property
    def collections(self) -> list[str]:
        """The VM collections loaded (an archive, or the directory holding a VM's `var/`), in load order.

        Example:
            >>> loglens.load("sample_logs").collections  # doctest: +SKIP
            ['sample_logs/vm-healthy', 'sample_logs/vm-legacy', ...]
        """
        return list(dict.fromkeys(self._result.collections().values()))

    def vm(self, collection: str) -> Lens:
        """A lens over one VM collection's sources only (a name from ``collections``).

        Raises:
            KeyError: no collection has that name.

        Example:
            >>> loglens.load("sample_logs").vm("sample_logs/vm-modern").findings  # doctest: +SKIP
        """
        parts = self._result.by_collection()
        if collection not in parts:
            raise KeyError(f"no collection {collection!r}; loaded: {', '.join(parts)}")
        description = " · ".join(p for p in (self.description, f"VM {collection}") if p)
        return Lens(parts[collection], description=description, redact=self.redact)

    def _narrowed(self, frames: dict[str, pl.DataFrame], what: str) -> Lens:
        result = LoadResult(frames=frames, accounts=self.accounts, notes=self.notes, ignored=self.ignored)
        return Lens(result, description=" · ".join(p for p in (self.description, what) if p), redact=self.redact)

    # -- display ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        rows = {name: frame.height for name, frame in self._result.frames.items() if frame.height}
        return f"Lens({self.description or 'all'}: {len(self.accounts)} source(s), rows {rows})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td style='text-align:right'>{frame.height:,}</td></tr>"
            for name, frame in self._result.frames.items()
        )
        warnings = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (
            f"<div><strong>loglens Lens</strong> {html.escape(self.description)}"
            f"<p>{len(self.accounts)} source(s), {sum(a.lines for a in self.accounts):,} lines; "
            f"every source adds up: {all(a.balanced for a in self.accounts)}</p>"
            f"{self.accounting()._repr_html_()}"
            f"<table><tr><th>frame</th><th>rows</th></tr>{rows}</table>"
            + (f"<p>Warnings:</p><ul>{warnings}</ul>" if warnings else "")
            + "</div>"
        )


def _utc(moment: datetime | str | None) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

"""The one surface the CLI and notebooks both call."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from loglens.engine import Analysis
from loglens.errors import InputError
from loglens.lens import Lens
from loglens.redact import redact_frame
from parsers import LoadResult, TimezoneError, VmTimezone, load_sources

#: File types `export_records` writes, by suffix; any other `--out` is a directory of Parquet files.
EXPORT_SUFFIXES = (".parquet", ".csv", ".ndjson", ".jsonl")


def load(paths: Iterable[Path | str] | Path | str, *, tz: str | None = None) -> Lens:
    """Load every source under ``paths`` (files, VM trees, log-collector zips, tar/zip bundles).

    Args:
        paths: a file, directory or archive, or several.
        tz: the VM's UTC offset (``+05:30``) or IANA zone, applied to sources written in local
            time (old agents, Python extensions). Default UTC.

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
    if isinstance(paths, (str, Path)):
        paths = [paths]
    try:
        zone = VmTimezone.parse(tz)
    except TimezoneError as exc:
        raise InputError(str(exc)) from exc
    paths = list(paths)
    return Lens(load_sources(paths, tz=zone), description=", ".join(str(p) for p in paths))


def export_records(frame: pl.DataFrame, out: Path | str) -> Path:
    """Write one frame as Parquet, CSV or NDJSON (chosen by suffix), secrets redacted.

    Raises:
        InputError: the suffix is not one of ``EXPORT_SUFFIXES`` or the file cannot be written.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise InputError(f"{out}: unknown output type {suffix or '(none)'}; use one of {', '.join(EXPORT_SUFFIXES)}")
    frame = redact_frame(frame)
    with _writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".parquet":
            frame.write_parquet(out)
        elif suffix == ".csv":
            # CSV has no list type: join list columns (setting names) with commas.
            frame.with_columns(pl.col(pl.List(pl.String)).list.join(",")).write_csv(out)
        else:
            frame.write_ndjson(out)
    return out


def export_frames(result: LoadResult | Lens, out_dir: Path | str) -> list[Path]:
    """Write every frame as ``<out_dir>/<name>.parquet`` (empty frames too), secrets redacted.

    Raises:
        InputError: the directory cannot be created or written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(
            f"{out_dir}: exists and is not a directory; give a directory or a {'/'.join(EXPORT_SUFFIXES)} file"
        )
    return [export_records(frame, out_dir / f"{name}.parquet") for name, frame in result.frames.items()]


def export(result: LoadResult | Lens, out: Path | str) -> list[Path]:
    """Write a load result: a ``.parquet``/``.csv``/``.ndjson``/``.jsonl`` file gets the waagent
    records; a directory (existing, or a new path without a suffix) gets one Parquet file per frame.

    Raises:
        InputError: ``out`` has an unknown suffix, or cannot be written.
    """
    out = Path(out)
    if out.suffix.lower() in EXPORT_SUFFIXES:
        return [export_records(result.frames["waagent"], out)]
    if out.suffix and not out.is_dir():
        raise InputError(
            f"{out}: unknown output type {out.suffix}; give a directory (no suffix) or a file ending in "
            f"{', '.join(EXPORT_SUFFIXES)}"
        )
    return export_frames(result, out)


def analyze(paths: Iterable[Path | str], *, tz: str | None = None) -> Analysis:
    """Load ``paths`` and run every rule: findings, unexplained errors and the load itself.

    Example:
        >>> analysis = analyze(["sample_logs/vm-modern"])  # doctest: +SKIP
        >>> [f.summary for f in analysis.findings if f.severity == "error"]  # doctest: +SKIP
    """
    return load(paths, tz=tz)._analysis


def write_document(analysis: Analysis, out: Path | str | None) -> str:
    """The JSON report document; written to ``out`` unless it is None or `-` (then returned only).

    Raises:
        InputError: the file cannot be written.
    """
    import json

    from loglens import __version__
    from loglens.reports.document import build

    text = json.dumps(build(analysis, __version__), indent=2, ensure_ascii=False) + "\n"
    if out is not None and str(out) != "-":
        with _writing(out):
            Path(out).write_text(text, encoding="utf-8")
    return text


def write_html(analysis: Analysis, out: Path | str) -> Path:
    """Write the self-contained HTML report (charts included; opens offline).

    Raises:
        InputError: the file cannot be written.
    """
    from loglens import __version__
    from loglens.reports import html

    with _writing(out):
        return html.write(analysis, out, version=__version__)


def write_markdown(analysis: Analysis, out: Path | str) -> Path:
    """Write the Markdown report (verdict, findings, inputs; no charts).

    Raises:
        InputError: the file cannot be written.
    """
    from loglens import __version__
    from loglens.reports import markdown

    with _writing(out):
        return markdown.write(analysis, out, version=__version__)


@contextmanager
def _writing(out: Path | str) -> Iterator[None]:
    """Turn a failed write of ``out`` into an InputError naming it."""
    try:
        yield
    except OSError as exc:
        raise InputError(f"{out}: cannot write output: {exc.strerror or exc}") from exc

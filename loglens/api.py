"""The one surface the CLI and notebooks both call: read, analyze, write.

`loglens.lens.Lens` (the notebook object, made by `loglens.load`) is a facade over these
functions; the CLI calls them and renders.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import polars as pl

from loglens import atomic, engine
from loglens.engine import Analysis
from loglens.errors import InputError
from loglens.redact import redact_frame
from loglens.outputs import (  # noqa: F401 - the api's writing half, re-exported
    check_writable,
    report_model,
    write_document,
    write_html,
    write_markdown,
    write_text,
    writing,
)
from parsers import LoadResult, TimezoneError, VmTimezone, load_sources
from parsers.chunks import DEFAULT_CHUNK_BYTES, STREAM_CHUNK_BYTES

#: File types `export_records` writes, by suffix; any other `--out` is a directory of Parquet files.
EXPORT_SUFFIXES = (".parquet", ".csv", ".ndjson", ".jsonl")


def read(
    paths: Iterable[Path | str] | Path | str,
    *,
    tz: str | None = None,
    progress: Callable[[str], None] | None = None,
    waagent_sink: Callable[[Iterator[pl.DataFrame]], None] | None = None,
    waagent_transform: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> LoadResult:
    """Read every source under ``paths`` (files, VM trees, log-collector zips, tar/zip bundles).

    Args:
        paths: a file, directory or archive, or several.
        tz: the VM's UTC offset (``+05:30``) or IANA zone, applied to sources written in local
            time (old agents, Python extensions). Default UTC.
        progress: called with a short line on what is being read (the CLI's progress display).
        waagent_sink: stream the agent's records to it instead of keeping them (`stream_records`),
            each chunk first through ``waagent_transform`` in the parsing threads.
        chunk_bytes: bytes per parsing chunk of the big text logs (three are in flight).

    Returns:
        The parser frames, per-source accounting and warnings.

    Raises:
        InputError: ``tz`` is not a valid offset or zone.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return load_sources(
        list(paths),
        tz=_zone(tz),
        progress=progress,
        waagent_sink=waagent_sink,
        waagent_transform=waagent_transform,
        chunk_bytes=chunk_bytes,
    )


def require_lines(result: LoadResult) -> None:
    """Raise when nothing at all could be read, carrying the load's warnings.

    Raises:
        InputError: no source had a single line.
    """
    if not any(a.lines for a in result.accounts):
        seen = [
            f"{name}: not read: {result.looked_like.get(name, 'not a log, by its name')}" for name in result.ignored
        ]
        if len(seen) > _SEEN_LISTED:
            seen = [*seen[:_SEEN_LISTED], f"... and {len(seen) - _SEEN_LISTED} more file(s) not read"]
        files = len(result.accounts) + len(result.ignored)
        what = f"{files} file(s) found, none with a readable line" if files else "no files found at the paths given"
        raise InputError(f"no log lines could be read: {what}", warnings=[*result.warnings, *seen])


def require_paths(paths: list[Path | str]) -> None:
    """Raise before any work when a path given does not exist: a typo among several paths would
    otherwise pass as a smaller input and, if the rest is healthy, a healthy verdict. (`parse`
    exports what exists and warns about the rest.)

    Raises:
        InputError: one line naming every missing path.
    """
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise InputError(f"{_listed(missing)}: no such file or directory")


#: Unread files listed one by one when nothing could be read.
_SEEN_LISTED = 20


def require_recognised(analysis: Analysis) -> None:
    """Raise when not one line was recognised, no catalogue message was seen in any file and no
    rule found anything in the plain text.

    Text loglens does not understand must never read as a clean bill of health.

    Raises:
        InputError: every line of every source was unparsed and nothing was found.
    """
    accounts = analysis.load.accounts
    # A file whose lines carry catalogue messages (`parsers.sniff`) is analysed, records or not.
    if any(a.records for a in accounts) or len(analysis.findings) or any(a.recognised_by == "content" for a in accounts):
        return
    lines = sum(a.lines for a in accounts)
    raise InputError(
        f"no agent, extension or Azure text recognised in {lines:,} line(s) of "
        f"{_listed([a.path for a in accounts])}; nothing to diagnose (is this the right file?)",
        warnings=analysis.load.warnings,
    )


def _listed(paths: list[str], shown: int = 5) -> str:
    return ", ".join(paths[:shown]) + (f" and {len(paths) - shown} more" if len(paths) > shown else "")


def export_records(frame: pl.DataFrame, out: Path | str) -> Path:
    """Write one frame as Parquet, CSV or NDJSON (chosen by suffix), secrets redacted.

    Raises:
        InputError: the suffix is not one of ``EXPORT_SUFFIXES`` or the file cannot be written.
    """
    out = Path(out)
    suffix = _export_suffix(out)
    frame = redact_frame(frame)
    with writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic.replacing(out) as temporary:
            _sink(frame.lazy(), suffix, temporary)
    return out


def _export_suffix(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise InputError(f"{out}: unknown output type {suffix or '(none)'}; use one of {', '.join(EXPORT_SUFFIXES)}")
    return suffix


def _sink(records: pl.LazyFrame, suffix: str, target: Path) -> None:
    """Write records as Parquet, CSV or NDJSON, streaming when they come from a stream."""
    if suffix == ".parquet":
        records.sink_parquet(target)
    elif suffix == ".csv":
        # CSV has no list type: join list columns (setting names) with commas.
        joined = records.with_columns(pl.col(pl.List(pl.String)).list.join(","))
        joined.with_columns(_formula_safe(pl.col(pl.String))).sink_csv(target)
    else:
        records.sink_ndjson(target)


#: A cell a spreadsheet would run as a formula starts with one of these (OWASP's CSV injection rule).
_FORMULA_START = r"^[=+\-@\t\r]"


def _formula_safe(text: pl.Expr) -> pl.Expr:
    """Text cells that start like a formula (`=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`), with a
    `'` in front: a spreadsheet then shows them as text. Numbers are numeric columns: untouched."""
    return text.str.replace(_FORMULA_START, "'$0")


def stream_records(
    paths: Iterable[Path | str] | Path | str,
    out: Path | str,
    *,
    tz: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[LoadResult, int]:
    """Read ``paths`` and write the waagent records to ``out`` (by suffix, as `export_records`)
    chunk by chunk, secrets redacted: memory stays bounded whatever the logs' size.

    Returns:
        The load (every account complete; its `waagent` frame empty, the records being in ``out``)
        and the number of records written.

    Raises:
        InputError: an unknown suffix, nothing readable (then nothing is written), or a failed write.
    """
    from polars.io.plugins import register_io_source

    from parsers.schema import WAAGENT_COLUMNS, polars_schema

    out = Path(out)
    suffix = _export_suffix(out)
    written = [0]

    def write(frames: Iterator[pl.DataFrame], target: Path) -> None:
        def source(with_columns, predicate, n_rows, batch_size):
            # Redacted already, in the parsing threads: Polars work inside this callback would run
            # on the sink's own thread and be several times slower.
            for frame in frames:
                written[0] += frame.height
                yield frame.select(with_columns) if with_columns is not None else frame

        _sink(register_io_source(source, schema=polars_schema(WAAGENT_COLUMNS)), suffix, target)

    with writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        # Written beside ``out`` and renamed only when something was read: no half or empty file.
        with atomic.replacing(out) as temporary:
            result = read(
                paths,
                tz=tz,
                progress=progress,
                waagent_sink=lambda frames: write(frames, temporary),
                waagent_transform=redact_frame,
                chunk_bytes=STREAM_CHUNK_BYTES,
            )
            require_lines(result)
    return result, written[0]


def export_frames(result, out_dir: Path | str) -> list[Path]:
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


def export(result, out: Path | str) -> list[Path]:
    """Write a load result: a ``.parquet``/``.csv``/``.ndjson``/``.jsonl`` file gets the waagent
    records; a directory (existing, or a new path without a suffix) gets one Parquet file per frame.

    Raises:
        InputError: ``out`` has an unknown suffix, or cannot be written.
    """
    out = Path(out)
    if check_export(out) == "file":
        return [export_records(result.frames["waagent"], out)]
    return export_frames(result, out)


def check_export(out: Path | str) -> str:
    """What `export` would write to ``out`` (`file` or `directory`), checked before any work.

    Raises:
        InputError: an unknown suffix, or a place that cannot be written.
    """
    out = Path(out)
    if out.suffix.lower() in EXPORT_SUFFIXES:
        check_writable(out)
        return "file"
    if out.suffix and not out.is_dir():
        raise InputError(
            f"{out}: unknown output type {out.suffix}; give a directory (no suffix) or a file ending in "
            f"{', '.join(EXPORT_SUFFIXES)}"
        )
    check_writable(out, directory=True)
    return "directory"


def analyze(
    source: Iterable[Path | str] | Path | str | LoadResult,
    *,
    tz: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Analysis:
    """Run every rule over paths, or over what `read` loaded: findings, unexplained errors, the load.

    The one way in for every surface (`loglens.pipeline`). Over paths the text logs stream: memory
    stays bounded whatever their size, and the result's `waagent` frame holds only the records the
    rules could read. Over a `LoadResult` (a notebook's `Lens`) the same pipeline runs on the
    loaded frames, which stay whole.

    Raises:
        InputError: bad ``tz``, no line could be read at all, or nothing read was recognised and
            nothing was found in it (paths only: a load is analysed as it is).

    Example:
        >>> analysis = analyze(["sample_logs/vm-modern"])  # doctest: +SKIP
        >>> analysis.findings.frame.filter(pl.col("severity") == "error")  # doctest: +SKIP
    """
    from loglens import pipeline

    if isinstance(source, LoadResult):
        return pipeline.analyze_loaded(source)
    paths = [source] if isinstance(source, (str, Path)) else list(source)
    require_paths(paths)
    analysis = pipeline.analyze_paths(paths, tz=_zone(tz), progress=progress, check_lines=require_lines)
    require_recognised(analysis)
    return analysis


def _zone(tz: str | None) -> VmTimezone:
    try:
        return VmTimezone.parse(tz)
    except TimezoneError as exc:
        raise InputError(str(exc)) from exc

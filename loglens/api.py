"""The one surface the CLI and notebooks both call."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from loglens.errors import InputError
from loglens.redact import redact_frame
from parsers import ParseResult, TimezoneError, VmTimezone, find_waagent_logs, read_waagent

#: Output file types `export_records` writes, by suffix.
EXPORT_SUFFIXES = (".parquet", ".csv", ".ndjson", ".jsonl")


def parse(paths: Iterable[Path | str], *, tz: str | None = None) -> ParseResult:
    """Parse every waagent.log (and rotated copy) found in ``paths`` into one record frame.

    Args:
        paths: files or directories; directories are searched recursively for ``waagent.log*``.
        tz: the VM's UTC offset (``+05:30``) or IANA zone, applied to lines old agents and
            extensions wrote in local time. Default UTC.

    Returns:
        The record frame (schema ``parsers.schema.WAAGENT_COLUMNS``) and per-file accounting;
        directory problems are on the first account's warnings or the result's ``notes``.

    Raises:
        InputError: ``tz`` is not a valid offset or zone.

    Example:
        >>> result = parse(["sample_logs"])  # doctest: +SKIP
        >>> result.frame.filter(pl.col("level") == "ERROR").select("timestamp", "message")  # doctest: +SKIP
    """
    try:
        zone = VmTimezone.parse(tz)
    except TimezoneError as exc:
        raise InputError(str(exc)) from exc
    found = find_waagent_logs(paths)
    result = read_waagent(found.files, tz=zone)
    result.notes.extend(found.warnings)
    return result


def export_records(frame: pl.DataFrame, out: Path | str) -> Path:
    """Write a record frame as Parquet, CSV or NDJSON (chosen by suffix), secrets redacted.

    Raises:
        InputError: the suffix is not one of ``EXPORT_SUFFIXES`` or the file cannot be written.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise InputError(f"{out}: unknown output type {suffix or '(none)'}; use one of {', '.join(EXPORT_SUFFIXES)}")
    frame = redact_frame(frame)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".parquet":
            frame.write_parquet(out)
        elif suffix == ".csv":
            frame.write_csv(out)
        else:
            frame.write_ndjson(out)
    except OSError as exc:
        raise InputError(f"{out}: cannot write output: {exc.strerror or exc}") from exc
    return out

"""The one declaration of loglens frame schemas.

Every frame a parser emits is conformed to one of the column lists below; rules and reports
rely on nothing else. ``docs/schema.md`` is rendered from this module (``render_markdown``)
and a test fails when it is stale.

The module lives in ``parsers`` (not ``loglens``) because parsers emit these frames and the
import arrows point one way: ``loglens`` imports ``parsers``, never the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

#: Log levels across every source, least to most severe. The agent writes only VERBOSE, INFO,
#: WARNING and ERROR; DEBUG and CRITICAL come from extension logs.
LEVELS = ("VERBOSE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
Level = pl.Enum(list(LEVELS))

#: How a waagent.log record was recognised (see docs/schema.md for the grammar behind each).
LINE_FORMATS = ("agent-iso", "agent-legacy", "extension", "unparsed")
LineFormat = pl.Enum(list(LINE_FORMATS))

UTC_TIMESTAMP = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Column:
    """One documented column: its name, Polars dtype and one-line meaning."""

    name: str
    dtype: pl.DataType
    meaning: str


#: Columns every record frame carries, whatever its source (waagent.log, extension logs, ...).
COMMON_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "File the record came from (archive members as `archive!member`)."),
    Column("line_first", pl.UInt32(), "1-based physical line number of the record's first line."),
    Column("line_last", pl.UInt32(), "1-based physical line number of the record's last line (continuations folded in)."),
    Column("timestamp", UTC_TIMESTAMP, "When the record was written, in UTC; null for unparsed lines."),
    Column(
        "timestamp_local_assumed",
        pl.Boolean(),
        "True when the source wrote VM local time and the offset given with `--tz` (default UTC) was applied.",
    ),
    Column("level", Level, "Severity: VERBOSE, DEBUG, INFO, WARNING, ERROR or CRITICAL; null when the line has none."),
    Column(
        "extension",
        pl.String(),
        "Extension handler name (`Publisher.Type`, multi-config `Publisher.Type.Name`) the record is about, if any.",
    ),
    Column("extension_version", pl.String(), "Handler version from the `[Name-Version]` prefix, if present."),
    Column("operation", pl.String(), "Operation named by the record (e.g. the `op=` of an `Event:` line), if any."),
    Column("message", pl.String(), "Message text after the header; continuation lines joined with `\\n`."),
)

#: Columns only the waagent.log frame carries, after the common ones.
WAAGENT_COLUMNS: tuple[Column, ...] = COMMON_COLUMNS + (
    Column(
        "line_format",
        LineFormat,
        "agent-iso (agent 2.2.46+, UTC), agent-legacy (agent up to 2.2.45, local time), "
        "extension (lines extensions write in their own `YYYY/MM/DD HH:MM:SS` form, local time), "
        "or unparsed (kept visible, not dropped).",
    ),
    Column("thread", pl.String(), "Agent thread name (agent 2.2.47+), e.g. ExtHandler, EnvHandler, MonitorHandler."),
    Column("process", pl.String(), "Agent process prefix: Daemon, ExtHandler, LogCollector or Firewall, if given."),
    Column("event_name", pl.String(), "`name=` field of an `Event:` record (extension name or WALinuxAgent)."),
    Column("event_message", pl.String(), "`message=` field of an `Event:` record, multi-line text included."),
    Column("event_duration_ms", pl.Int64(), "`duration=` field of an `Event:` record, milliseconds."),
)

FRAME_SCHEMAS: dict[str, tuple[Column, ...]] = {
    "waagent": WAAGENT_COLUMNS,
}


def polars_schema(columns: tuple[Column, ...]) -> pl.Schema:
    """Return the Polars schema for a column list."""
    return pl.Schema({c.name: c.dtype for c in columns})


def conform(frame: pl.DataFrame, columns: tuple[Column, ...]) -> pl.DataFrame:
    """Select, order and cast ``frame`` to ``columns``; missing columns become nulls."""
    exprs = [
        (pl.col(c.name) if c.name in frame.columns else pl.lit(None)).cast(c.dtype).alias(c.name)
        for c in columns
    ]
    return frame.select(exprs)


def empty_frame(columns: tuple[Column, ...]) -> pl.DataFrame:
    """An empty frame with exactly the declared columns."""
    return pl.DataFrame(schema=polars_schema(columns))


def _dtype_label(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Enum):
        return "Enum"
    if isinstance(dtype, pl.Datetime):
        return f"Datetime[{dtype.time_unit}, {dtype.time_zone}]"
    return str(dtype)


def render_markdown() -> str:
    """Render every frame schema as Markdown tables (the content of docs/schema.md)."""
    out = [
        "# Frame schemas",
        "",
        "Generated from `parsers/schema.py` by `python -m parsers.schema > docs/schema.md`;",
        "a test fails when this file is stale. Do not edit by hand.",
        "",
        f"Levels, least to most severe: {', '.join(f'`{lv}`' for lv in LEVELS)}.",
        "",
    ]
    for name, columns in FRAME_SCHEMAS.items():
        out += [f"## `{name}`", "", "| column | dtype | meaning |", "|---|---|---|"]
        for c in columns:
            out.append(f"| `{c.name}` | {_dtype_label(c.dtype)} | {c.meaning} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown())

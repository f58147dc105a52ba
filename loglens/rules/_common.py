"""Helpers shared by rule modules: version parsing, output tails, config lookups, row shaping."""

from __future__ import annotations

import polars as pl
import regex

from loglens.context import Context
from loglens.knowledge import version_key
from loglens.redact import redact_text
from loglens.timefmt import minute
from parsers.schema import Level

#: Columns every hit row set carries (see `loglens.findings.Hit`).
HIT_COLUMNS = ("record", "source_path", "line_first", "timestamp", "message", "extension", "extension_version", "level")


def upgrade_kind(old: str, new: str) -> str:
    """major, minor or hotfix, by the first differing version part; `downgrade` when lower."""
    a, b = version_key(old), version_key(new)
    if b < a:
        return "downgrade"
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return ("major", "minor")[index] if index < 2 else "hotfix"
    return "hotfix"


def stderr_tail(message: str | None, lines: int = 3) -> str | None:
    """The last non-empty lines of a record's `[stderr]` section, if any."""
    if not message or "[stderr]" not in message:
        return None
    # Redacted whole before it is split, cut and joined: a header and its token on two lines, or
    # a key block, is one secret only while the lines are together.
    section = redact_text(message.split("[stderr]", 1)[1])
    kept = [line.strip() for line in section.splitlines() if line.strip() and not line.startswith(", duration=")]
    return " | ".join(kept[-lines:]) or None


def config_rows(context: Context, key: str, values: tuple[str, ...]) -> pl.DataFrame:
    """waagent.conf settings of ``key`` whose value is one of ``values`` (case-insensitive), as hit rows.

    Values are as the agent reads them (`parsers.formats.agent_config`): comment cut, quotes stripped.
    """
    config = context.frames["config"]
    matched = config.filter(
        (pl.col("key") == key) & pl.col("value").str.to_lowercase().is_in([v.lower() for v in values])
    )
    return matched.select(
        pl.lit(None, pl.UInt32).alias("record"),
        "source_path",
        pl.col("line").alias("line_first"),
        pl.lit(None, pl.Datetime("us", "UTC")).alias("timestamp"),
        pl.concat_str([pl.col("key"), pl.col("value")], separator="=").alias("message"),
        pl.lit(None, pl.String).alias("extension"),
        pl.lit(None, pl.String).alias("extension_version"),
        pl.lit(None, Level).alias("level"),
    )


def at_minute(moment) -> str:
    """` at 2025-06-11 03:17 UTC`, or nothing for text without times (a paste)."""
    return f" at {minute(moment)} UTC" if moment else ""


def span_text(rows: pl.DataFrame) -> str:
    """`from T1 to T2` (UTC, minutes) for a row set, or `` when it has no timestamps."""
    stamps = rows["timestamp"].drop_nulls()
    if stamps.len() == 0:
        return ""
    first, last = minute(stamps.min()), minute(stamps.max())
    # Times are shown to the minute, so a span inside one minute is one time.
    return f"at {first} UTC" if first == last else f"from {first} to {last} UTC"


def duration_text(seconds: float) -> str:
    """Human duration: `45 s`, `12 min`, `2 h 05 min`."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def duration_expr(seconds: pl.Expr) -> pl.Expr:
    """`duration_text` as an expression, for many durations at once (both round half to even)."""
    minutes = (seconds / 60).round(0).cast(pl.Int64)
    return (
        pl.when(seconds < 120)
        .then(pl.format("{} s", seconds.round(0).cast(pl.Int64)))
        .when(minutes < 120)
        .then(pl.format("{} min", minutes))
        .otherwise(pl.format("{} h {} min", minutes // 60, (minutes % 60).cast(pl.String).str.zfill(2)))
    )


def version_of(rows: pl.DataFrame) -> str | None:
    """The newest handler version of a row set: prefix versions, else `/<Name>-<version>/` in command paths."""
    versions = {v for v in rows["extension_version"].to_list() if v}
    if not versions:
        for message in rows["message"].to_list():
            versions.update(regex.findall(r"/var/lib/waagent/[^/\s]+?-(\d+(?:\.\d+)+)/", message or ""))
    return max(versions, key=version_key) if versions else None


def stated_field(frame: pl.DataFrame, name: str) -> str:
    """The column of a catalogue field in a tagged frame: `stated_<name>` where the record view has
    a column of that name (`extension`, `operation`; see `catalogue.match.tag`), else the field."""
    return f"stated_{name}" if f"stated_{name}" in frame.columns else name

"""Text whose lines start with a time of day alone, or with `date`'s stamp: pasted console output.

Pasted logs and console captures stamp their lines in forms no agent writes: a time of day with no
date (`06:25:20.58 Enable failed ...`) or the `date` command's default output (`Thu Dec  3 06:25:20
UTC 2026`, `Mon Jun 10 10:15:01 2024`). In a chunk without a single agent header (the only chunks
that come here, so agent logs never change), each such stamp starts a record and any other line
continues it; lines before the first stamp, and damaged ones, stay unparsed rows.

Times: a `date` stamp gives the time; with `UTC`/`GMT` or a numeric offset it is exact, and with no
zone or another abbreviation (`CET`, `EST` mean different offsets in different places) it is taken
as the VM's local time (`--tz`) and marked assumed. A time of day alone has no date, so the
record's timestamp is null (its date is never guessed from other lines) and the stamp stays at the
start of its message, where the time can still be read. A level word right after the stamp
(`ERROR:`, `WARNING `) sets the record's level (it stays in the message); otherwise it is null.
"""

from __future__ import annotations

import polars as pl

from parsers import schema
from parsers.folding import fold
from parsers.timezones import VmTimezone

_DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
#: `06:25:20`, `06:25:20.58`, `6:25:20,123`: a time of day and nothing else, then a space or the
#: line's end (a record's first line may be followed by its continuations).
TIME_ONLY = r"^[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]{1,9})?(?:[ \n]|$)"
#: `Thu Dec  3 06:25:20 UTC 2026`: `date`'s default form (C locale); the zone may be missing,
#: an abbreviation or a numeric offset (`+03`, `-0530`).
DATE_COMMAND = (
    rf"^(?:{_DAYS}) (?P<month>{_MONTHS}) +(?P<day>[0-9]{{1,2}}) (?P<time>[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}})"
    r" (?:(?P<zone>[A-Z]{2,5}|[+-][0-9]{2}(?:[0-9]{2})?) )?(?P<year>[0-9]{4})(?:[ \n]|$)"
)
#: Either stamp at a line start, without captures: what `parsers.sniff` takes for a log line too.
LINE_START = rf"(?:{TIME_ONLY[1:]}|(?:{_DAYS}) (?:{_MONTHS}) +[0-9]{{1,2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} )"
#: Zone abbreviations that name UTC itself; any other abbreviation is read as local time.
UTC_NAMES = ("UTC", "GMT", "UCT", "Z")
_LEVEL = r"^(VERBOSE|INFO|WARNING|ERROR)(?::| |$)"

#: Lines with what the parser must make of them: the format's own test data (timestamps in UTC, `--tz UTC`).
SAMPLE_LINES: tuple[tuple[str, dict[str, object]], ...] = (
    (
        "06:25:20.58 Enable failed: exit status=1",
        {"line_format": "time-only", "timestamp": None, "message": "06:25:20.58 Enable failed: exit status=1"},
    ),
    (
        "06:25:22 ERROR:Exception: something broke",
        {"line_format": "time-only", "level": "ERROR", "message": "06:25:22 ERROR:Exception: something broke"},
    ),
    (
        "Thu Dec  3 06:25:20 UTC 2026",
        {"line_format": "date-command", "timestamp": "2026-12-03T06:25:20", "local": False, "message": ""},
    ),
    (
        "Mon Jun 10 10:15:01 2024 [ExtensionOperationError] Non-zero exit code: 127",
        {
            "line_format": "date-command",
            "timestamp": "2024-06-10T10:15:01",
            "local": True,
            "message": "[ExtensionOperationError] Non-zero exit code: 127",
        },
    ),
    (
        "Tue Jun 11 10:15:01 -0530 2024 Enable succeeded",
        {"line_format": "date-command", "timestamp": "2024-06-11T15:45:01", "local": False},
    ),
)


def parse_stamped(
    lines: pl.DataFrame, source_path: str, zone: VmTimezone
) -> tuple[pl.DataFrame, tuple[int, int, int]] | None:
    """Records of a chunk whose lines (`line_no`, `text`, maybe `damaged`) start with these stamps;
    None when no line does.

    Returns:
        The records (`WAAGENT_COLUMNS`) and the counts (records, continuations, unparsed).
    """
    text = lines.get_column("text")
    dated = text.str.contains(DATE_COMMAND)
    is_start = dated | text.str.contains(TIME_ONLY)
    if "damaged" in lines.columns:
        is_start = is_start & ~lines.get_column("damaged")
    if not is_start.any():
        return None
    started = is_start.cum_sum() > 0
    lost = ~started if "damaged" not in lines.columns else ~started | (lines.get_column("damaged") & ~is_start)
    starts = lines.select("line_no", "text").filter(is_start).with_columns(dated=dated.filter(is_start))
    continuations = lines.select("line_no", "text").filter(~is_start & ~lost)
    orphans = lines.filter(lost)
    records = _finish(fold(starts, continuations, "text"), zone)
    unparsed = orphans.select(line_first="line_no", line_last="line_no", message="text", line_format=pl.lit("unparsed"))
    frame = pl.concat([schema.conform(f, schema.WAAGENT_COLUMNS) for f in (records, unparsed)]).sort("line_first")
    frame = frame.with_columns(
        source_path=pl.lit(source_path), timestamp_local_assumed=pl.col("timestamp_local_assumed").fill_null(False)
    )
    return frame, (starts.height, continuations.height, orphans.height)


def _finish(records: pl.DataFrame, zone: VmTimezone) -> pl.DataFrame:
    """Timestamp, level, message and format of folded records (`text` starts with the stamp)."""
    text = pl.col("text")
    fields = records.with_columns(stamp=text.str.extract_groups(DATE_COMMAND)).unnest("stamp")
    wall = pl.concat_str(
        [pl.col("year"), pl.col("month"), pl.col("day").str.zfill(2), pl.col("time")], separator=" "
    ).str.to_datetime("%Y %b %d %H:%M:%S", time_unit="us", strict=False)
    named_utc = pl.col("zone").is_in(list(UTC_NAMES))
    sign = pl.when(pl.col("zone").str.starts_with("-")).then(-1).otherwise(1)
    hours, minutes = (pl.col("zone").str.slice(at, 2).cast(pl.Int32, strict=False) for at in (1, 3))
    offset = pl.when(pl.col("zone").str.contains(r"^[+-]")).then(sign * (hours * 60 + minutes.fill_null(0)))
    head = text.str.extract(DATE_COMMAND, 0).str.len_bytes().fill_null(0)
    finished = fields.with_columns(
        timestamp=pl.when(named_utc)
        .then(wall.dt.replace_time_zone("UTC"))
        .when(offset.is_not_null())
        .then((wall - pl.duration(minutes=offset)).dt.replace_time_zone("UTC"))
        .otherwise(zone.to_utc(wall)),
        timestamp_local_assumed=pl.col("dated") & ~(named_utc | offset.is_not_null()).fill_null(False),
        message=text.str.slice(head),
        line_format=pl.when("dated").then(pl.lit("date-command")).otherwise(pl.lit("time-only")),
    )
    # The level word follows the stamp; a time-only record keeps its stamp in the message.
    after = pl.when("dated").then(pl.col("message")).otherwise(pl.col("message").str.replace(TIME_ONLY, ""))
    return finished.with_columns(level=after.str.extract(_LEVEL, 1))

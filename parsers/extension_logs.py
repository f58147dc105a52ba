"""Per-extension logs under `/var/log/azure/<extension>/` (reference: extension-logs.md, 1.2).

Formats, recognised per line:

* go-logfmt (CustomScript v2, RunCommand v1/v2): ``time=<RFC 3339> version=v<ver>/git@... operation=<op> [seq=<n>] key=value...``
* go-slog (ApplicationHealth): ``time=<RFC 3339 ms> level=<LEVEL> version=... key=value...``
* python (HandlerUtil extensions): ``YYYY/MM/DD HH:MM:SS [ERROR:|WARNING:][ ][[Name-Ver][:] ]msg`` in local time,
  with status echoes ``Operation,status,code,message``
* platform (azure-extension-platform `log_<n>`): ``Info|Warning|Error YYYY/MM/DD HH:MM:SS msg`` in UTC

A Go handler log also holds its shell wrapper's lines (``+ nohup ...``, placeholder notices): they
become ``shim`` records without a timestamp. In python and platform logs a line of no known form
continues the record before it (an ``Error`` line's goroutine dump). A log in a format loglens
does not know is still read line by line, each line a ``text`` record with its timestamp sniffed
where a common form is found.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

import polars as pl
import regex

from parsers import schema
from parsers.chunks import Damage, decode_chunk, iter_raw_chunks
from parsers.folding import fold
from parsers.reader import Source, SourceAccount
from parsers.timezones import VmTimezone

KIND = "extension_log"

#: Handler log folders some Go extensions hard-code instead of `/var/log/azure/<Publisher.Type>`.
LEGACY_LOG_DIRS = {
    "custom-script": "Microsoft.Azure.Extensions.CustomScript",
    "run-command": "Microsoft.CPlat.Core.RunCommandLinux",
    "run-command-handler": "Microsoft.CPlat.Core.RunCommandHandlerLinux",
    "applicationhealth-extension": "Microsoft.ManagedServices.ApplicationHealthLinux",
}

_RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
#: go-kit logfmt head: time and version first, always in that order.
LOGFMT = r"^time=" + _RFC3339 + r" version=\S*"
#: slog text head: time then level.
SLOG = r"^time=" + _RFC3339 + r" level=(?:DEBUG|INFO|WARN|ERROR)"
#: Python waagent-2.0 logger: local time, optional level marker (ERROR: with or without a space).
PYTHON = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?: |$)"
#: azure-extension-platform logger, with or without its UTC date and time.
PLATFORM = r"^(?:Info|Warning|Error) \d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?: |$)"
#: Timestamps sniffed in logs of unknown format: ISO-like, or `date`'s default output.
_SNIFFED_ISO = r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
#: Where the next record may start, for cutting big files into chunks.
RECORD_START = regex.compile(rb"time=|\d{4}/\d\d/\d\d |(?:Info|Warning|Error) |\+ ")

#: Lines in each format, with what the parser must read from them: the formats' own test data
#: (reference extension-logs.md, 1.2). Each is checked by `tests/parsers/test_extension_logs.py`.
SAMPLE_LINES: tuple[tuple[str, dict[str, object]], ...] = (
    (
        'time=2025-03-14T09:14:10Z version=v2.1.19/git@1a2b3c4-clean operation=enable seq=4 event="failed to handle" '
        'error="failed to execute command: command terminated with exit status=127"',
        {
            "log_format": "go-logfmt",
            "level": "ERROR",
            "operation": "enable",
            "sequence": 4,
            "event": "failed to handle",
        },
    ),
    (
        "time=2025-03-14T09:30:00.103Z level=INFO version=v2.0.29/git@9f8e7d6-clean pid=4242 operation=enable seq=1 event=pre-check",
        {"log_format": "go-slog", "level": "INFO", "operation": "enable", "sequence": 1, "event": "pre-check"},
    ),
    (
        "2025/03/14 10:20:33 [Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2] Install,failed,51,Unsupported operating system: debian 9.13",
        {"log_format": "python", "level": "INFO", "status": "failed", "status_code": 51, "extension_version": "1.33.2"},
    ),
    (
        "2025/03/14 10:20:33 ERROR:Unsupported operating system: debian 9.13",
        {"log_format": "python", "level": "ERROR", "message": "Unsupported operating system: debian 9.13"},
    ),
    (
        "Error 2025/03/14 09:12:05 Enable failed: connection refused",
        {"log_format": "platform", "level": "ERROR", "message": "Enable failed: connection refused"},
    ),
    (
        "+ /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.19/bin/custom-script-extension install",
        {"log_format": "shim", "timestamp": None},
    ),
)
_FORMAT_CODES = {"go-logfmt": 1, "go-slog": 2, "python": 3, "platform": 4}


def extension_from_path(path: PurePosixPath) -> tuple[str | None, str | None]:
    """(extension, version) from a log path: the folder after `azure/`, and a version folder under it."""
    parts = path.parts
    if "azure" not in parts[:-1]:
        return None, None
    at = len(parts) - 1 - parts[::-1].index("azure")
    folder = parts[at + 1] if at + 1 < len(parts) - 1 else None
    if folder is None:
        return None, None
    extension = LEGACY_LOG_DIRS.get(folder, folder)
    below = parts[at + 2] if at + 2 < len(parts) - 1 else None
    version = below if below and regex.fullmatch(r"\d+(?:\.\d+)+", below) else None
    return extension, version


def read_extension_logs(sources: Iterable[Source], *, tz: VmTimezone) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Parse extension logs into one frame (schema ``EXTENSION_LOG_COLUMNS``) and their accounting."""
    frames, accounts = [], []
    for source in sources:
        account = SourceAccount(path=source.name, kind=KIND)
        accounts.append(account)
        extension, version = extension_from_path(source.logical_path)
        damage, dominant = Damage(), None
        for raw in iter_raw_chunks(source, account, record_start=RECORD_START):
            chunk = decode_chunk(raw.load())
            damage.add(chunk.damage)
            lines = _classify(chunk.lines.with_row_index("line_no", offset=account.lines + 1))
            dominant = dominant or _dominant_format(lines)
            records, counts = _records(lines, dominant, chunk.damaged)
            account.lines += chunk.lines.height
            account.records += counts[0]
            account.continuations += counts[1]
            account.unparsed += counts[2]
            frames.append(_finish(records, source.name, extension, version, tz))
            account.saw_times(frames[-1]["timestamp"])
        damage.report(account)
    frame = pl.concat(frames) if frames else schema.empty_frame(schema.EXTENSION_LOG_COLUMNS)
    return frame, accounts


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    text = pl.col("text")
    form = (
        pl.when(text.str.contains(SLOG))
        .then(pl.lit(2))
        .when(text.str.contains(LOGFMT))
        .then(pl.lit(1))
        .when(text.str.contains(PYTHON))
        .then(pl.lit(3))
        .when(text.str.contains(PLATFORM))
        .then(pl.lit(4))
        .otherwise(pl.lit(0))
    )
    return lines.with_columns(form=form.cast(pl.UInt8))


def _dominant_format(lines: pl.DataFrame) -> str:
    """The file's format: the most frequent recognised form, or `text` when none is recognised."""
    counts = lines.filter(pl.col("form") > 0)["form"].value_counts(sort=True)
    if counts.height == 0:
        return "text"
    code = counts["form"][0]
    return next(name for name, c in _FORMAT_CODES.items() if c == code)


def _records(lines: pl.DataFrame, dominant: str, damaged: bool) -> tuple[pl.DataFrame, tuple[int, int, int]]:
    """Decide what each line is and fold continuations into the record before them."""
    text, form = pl.col("text"), pl.col("form")
    if dominant in ("go-logfmt", "go-slog", "text"):
        # Every non-empty line is a record: shim lines in Go logs, each line of an unknown log.
        starts = (form > 0) | (text.str.strip_chars() != "")
    else:
        starts = form > 0
    lines = lines.with_columns(is_start=starts)
    orphan = pl.col("is_start").cum_sum() == 0
    bad = pl.col("damaged") if damaged else pl.lit(False)
    lines = lines.with_columns(is_unparsed=~pl.col("is_start") & (orphan | bad))
    starts_frame = lines.filter(pl.col("is_start"))
    continuations = lines.filter(~pl.col("is_start") & ~pl.col("is_unparsed"))
    unparsed = lines.filter(pl.col("is_unparsed"))
    starts_frame = fold(starts_frame, continuations, "text")
    unparsed = unparsed.with_columns(
        line_first=pl.col("line_no"), line_last=pl.col("line_no"), form=pl.lit(255, pl.UInt8)
    )
    records = pl.concat([starts_frame, unparsed], how="diagonal_relaxed").sort("line_first")
    return records.with_columns(dominant=pl.lit(dominant)), (starts_frame.height, continuations.height, unparsed.height)


def _logfmt_value(key: str) -> pl.Expr:
    """A logfmt value: bare, or double-quoted with JSON-style escapes (decoded here)."""
    raw = pl.col("text").str.extract(r"(?:^| )" + key + r'=("(?:[^"\\]|\\.)*"|[^\s"]*)', 1)
    quoted = raw.str.starts_with('"')
    # JSON-style escapes; a doubled backslash is parked on NUL so `\\n` stays a backslash and an n.
    unquoted = (
        raw.str.slice(1, raw.str.len_chars() - 2)
        .str.replace_all("\\\\", "\x00", literal=True)
        .str.replace_all("\\n", "\n", literal=True)
        .str.replace_all("\\t", "\t", literal=True)
        .str.replace_all('\\"', '"', literal=True)
        .str.replace_all("\x00", "\\", literal=True)
    )
    value = pl.when(quoted).then(unquoted).otherwise(raw)
    return pl.when((value == "") | (value == "null")).then(None).otherwise(value)


#: The head of a python line, with named parts (the level marker may or may not have a space after it).
PYTHON_HEAD = (
    r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ?(?:(?P<py_level>ERROR|WARNING): ?)?"
    r"(?:\[(?P<py_ext>[^\]\s]+?)-(?P<py_ver>\d+(?:\.\d+)*)\](?P<py_colon>:?) )?"
)
#: The fixed keys at the start of a Go handler line; the message is what follows them.
_GO_HEAD = r"^time=\S+ (?:level=\S+ )?version=\S* (?:pid=\S+ )?(?:operation=\S+ ?)?(?:seq=\d+ ?)?"
_PLATFORM_HEAD = r"^(?:Info|Warning|Error) \d{4}/\d\d/\d\d \d\d:\d\d:\d\d ?"
#: A status echo HandlerUtil writes on every status write: `Operation,status,code,message`.
_ECHO = r"^(?P<echo_operation>[A-Za-z][\w-]*),(?P<echo_status>[A-Za-z]+),(?P<echo_code>-?\d*),"


#: Line forms `_finish` reads (0: no known head; 255: unparsed).
_GO_LOGFMT, _GO_SLOG, _PYTHON, _PLATFORM = 1, 2, 3, 4


def _finish(
    records: pl.DataFrame, source_path: str, extension: str | None, version: str | None, tz: VmTimezone
) -> pl.DataFrame:
    """Derive the schema columns of each record from its format's fields."""
    form, message = pl.col("form"), pl.col("message")
    python, platform = form == _PYTHON, form == _PLATFORM
    records = _format_fields(records)
    records = records.with_columns(
        timestamp=_timestamp(tz),
        # Python extensions and zone-less sniffed stamps write the VM's local time.
        timestamp_local_assumed=(
            python | ((form == 0) & pl.col("sniffed").is_not_null() & ~_sniffed_zoned())
        ).fill_null(False),
        level=_level(),
        extension=pl.coalesce("py_ext", pl.lit(extension, pl.String)),
        # The ADE tag `[Name-1.0]: ` carries the HandlerEnvironment schema version, not the extension's.
        extension_version=pl.coalesce(
            pl.when(pl.col("py_colon") == "").then(pl.col("py_ver")), "go_version", pl.lit(version, pl.String)
        ),
        operation=pl.coalesce(
            "echo_operation",
            "go_operation",
            pl.when(platform).then(message.str.extract(r"^Running operation (\w+)", 1)),
        ),
        sequence=pl.coalesce(
            pl.col("go_sequence"), pl.when(platform).then(message.str.extract(r"for seqNo (\d+)", 1))
        ).cast(pl.Int64, strict=False),
        status=pl.col("echo_status"),
        status_code=pl.col("echo_code").cast(pl.Int64, strict=False),
        log_format=_log_format(),
        source_path=pl.lit(source_path),
    )
    return schema.conform(records, schema.EXTENSION_LOG_COLUMNS)


def _format_fields(records: pl.DataFrame) -> pl.DataFrame:
    """Each form's own fields as columns (null on rows of other forms), and the message."""
    text, form = pl.col("text"), pl.col("form")
    go, python, platform = (form == _GO_LOGFMT) | (form == _GO_SLOG), form == _PYTHON, form == _PLATFORM
    records = records.with_columns(
        py=pl.when(python).then(text).str.extract_groups(PYTHON_HEAD),
        message=pl.when(python)
        .then(text.str.replace(PYTHON_HEAD, ""))
        .when(platform)
        .then(text.str.replace(_PLATFORM_HEAD, ""))
        .when(go)
        .then(text.str.replace(_GO_HEAD, ""))
        .otherwise(text),
        go_time=pl.when(go).then(text.str.extract(r"^time=(\S+)", 1)),
        go_level=pl.when(form == _GO_SLOG).then(text.str.extract(r" level=(\w+)", 1)),
        go_version=pl.when(go).then(text.str.extract(r" version=v(\d+(?:\.\d+)*)", 1)),
        go_operation=pl.when(go).then(text.str.extract(r" operation=(\w+)", 1)),
        go_sequence=pl.when(go).then(text.str.extract(r" seq=(\d+)", 1)),
        event=pl.when(go).then(_logfmt_value("event")),
        error=pl.when(go).then(_logfmt_value("error")),
        platform_level=pl.when(platform).then(text.str.extract(r"^(Info|Warning|Error) ", 1)),
        platform_time=pl.when(platform).then(text.str.extract(r"^\w+ (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)", 1)),
        sniffed=pl.when(form == 0).then(text.str.extract(_SNIFFED_ISO, 1)),
    ).unnest("py")
    return records.with_columns(echo=pl.when(python).then(pl.col("message")).str.extract_groups(_ECHO)).unnest("echo")


def _sniffed_zoned() -> pl.Expr:
    return pl.col("sniffed").str.contains(r"(?:Z|[+-]\d\d:?\d\d)$")


def _timestamp(tz: VmTimezone) -> pl.Expr:
    """The record's time in UTC, from whichever form's stamp it has."""
    sniffed = pl.col("sniffed").str.replace(",", ".", literal=True).str.replace(" ", "T", literal=True)
    zoned = _sniffed_zoned()
    return pl.coalesce(
        pl.col("go_time").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_zone="UTC", time_unit="us", strict=False),
        pl.col("platform_time")
        .str.to_datetime("%Y/%m/%d %H:%M:%S", time_unit="us", strict=False)
        .dt.replace_time_zone("UTC"),
        tz.to_utc(
            pl.when(pl.col("form") == _PYTHON)
            .then(pl.col("text").str.slice(0, 19))
            .str.to_datetime("%Y/%m/%d %H:%M:%S", time_unit="us", strict=False)
        ),
        pl.when(zoned)
        .then(sniffed)
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_zone="UTC", time_unit="us", strict=False),
        tz.to_utc(pl.when(~zoned).then(sniffed).str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)),
    )


def _level() -> pl.Expr:
    form = pl.col("form")
    level = pl.coalesce(
        "py_level",
        pl.col("go_level").replace({"WARN": "WARNING"}),
        pl.col("platform_level").replace({"Info": "INFO", "Warning": "WARNING", "Error": "ERROR"}),
        # go-kit lines carry no level: an error value or a failure event is an error.
        pl.when((form == _GO_LOGFMT) & (pl.col("error").is_not_null() | pl.col("event").str.contains("fail"))).then(
            pl.lit("ERROR")
        ),
        pl.when(form.is_in([_PYTHON, _PLATFORM, _GO_LOGFMT])).then(pl.lit("INFO")),
    )
    # A level word no format defines (`level=INFOx`) is no level at all, not a crash.
    return pl.when(level.is_in(list(schema.LEVELS))).then(level)


def _log_format() -> pl.Expr:
    form = pl.col("form")
    return (
        pl.when(form == 255)
        .then(pl.lit("unparsed"))
        .when(form == _GO_LOGFMT)
        .then(pl.lit("go-logfmt"))
        .when(form == _GO_SLOG)
        .then(pl.lit("go-slog"))
        .when(form == _PYTHON)
        .then(pl.lit("python"))
        .when(form == _PLATFORM)
        .then(pl.lit("platform"))
        .when(pl.col("dominant").str.starts_with("go-"))
        .then(pl.lit("shim"))
        .otherwise(pl.lit("text"))
    )

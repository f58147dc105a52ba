"""The schema columns of extension-log records, derived from each line's form (see `extension_logs`).

`finish` takes records that carry their form code, raw `text`, `dominant` format and their file's
path-derived `source_path`, `path_extension` and `path_version`, and returns them in the
`EXTENSION_LOG_COLUMNS` shape. Records of many files are finished in one pass.
"""

from __future__ import annotations

import polars as pl

from parsers import schema
from parsers.timezones import VmTimezone

#: Timestamps sniffed in logs of unknown format: ISO-like, or `date`'s default output.
SNIFFED_ISO = r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"


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


#: The code of each known line form (0: no known head; 255: an unparsed line).
FORM_CODES = {"go-logfmt": 1, "go-slog": 2, "python": 3, "platform": 4}
UNPARSED = 255
_GO_LOGFMT, _GO_SLOG, _PYTHON, _PLATFORM = FORM_CODES.values()


def finish(records: pl.DataFrame, tz: VmTimezone) -> pl.DataFrame:
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
        extension=pl.coalesce("py_ext", "path_extension"),
        # The ADE tag `[Name-1.0]: ` carries the HandlerEnvironment schema version, not the extension's.
        extension_version=pl.coalesce(
            pl.when(pl.col("py_colon") == "").then(pl.col("py_ver")), "go_version", "path_version"
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
        sniffed=pl.when(form == 0).then(text.str.extract(SNIFFED_ISO, 1)),
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
        pl.when(form == UNPARSED)
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

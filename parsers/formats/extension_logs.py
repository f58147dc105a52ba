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
from dataclasses import dataclass
from pathlib import PurePosixPath

import polars as pl
import regex

from parsers import schema
from parsers.chunks import DEFAULT_CHUNK_BYTES, iter_raw_chunks
from parsers.formats.extension_fields import FORM_CODES, UNPARSED, finish
from parsers.folding import fold
from parsers.formats.declaration import Clue, Format
from parsers.lines import Damage, clean_line_count, decode_chunk
from parsers.reader import Source, SourceAccount
from parsers.timezones import VmTimezone

KIND = "extension_log"
#: Extension log names: handler.log, extension.log, CommandExecution.log, log_<unix time>, rotations.
_LOG_FILE = regex.compile(r"^(?:.+\.log(?:\.\d+)?(?:\.gz)?|log_\d+|.+\.log-\d+(?:\.gz)?)$")

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


#: Files are parsed together up to this many bytes at once, so thousands of tiny logs (one per
#: extension and version in a log-collector zip) cost a few batches, not thousands of passes.
_BATCH_BYTES = DEFAULT_CHUNK_BYTES


@dataclass
class _File:
    """One log file being read: its account, what its path says, and its format once known."""

    account: SourceAccount
    name: str
    extension: str | None
    version: str | None
    #: Set by the file's first chunk; later chunks of a big file keep it.
    dominant: str | None = None


def read_extension_logs(sources: Iterable[Source], *, tz: VmTimezone) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Parse extension logs into one frame (schema ``EXTENSION_LOG_COLUMNS``) and their accounting."""
    frames, accounts = [], []
    batch: list[_Piece] = []
    batch_bytes = 0

    def flush() -> None:
        nonlocal batch_bytes
        if batch:
            frames.append(_parse_batch(batch, tz))
            batch.clear()
            batch_bytes = 0

    for source in sources:
        account = SourceAccount(path=source.name, kind=KIND)
        accounts.append(account)
        file = _File(account, source.name, *extension_from_path(source.logical_path))
        damage = Damage()
        for index, raw in enumerate(iter_raw_chunks(source, account, record_start=RECORD_START)):
            if index:
                flush()  # a later chunk needs the format its file's first chunk decided
            try:
                data = raw.load()
            except OSError as exc:  # the file shrank or went away while it was read
                account.warn(f"read error: {exc}; lines before it were kept")
                break
            count = clean_line_count(data)
            if count is None:
                chunk = decode_chunk(data)
                damage.add(chunk.damage)
                piece, count = chunk.lines, chunk.lines.height
            else:
                piece = data  # split into lines with the rest of the batch
            batch.append(_Piece(file, piece, account.lines, count))
            account.lines += count
            batch_bytes += raw.length
            if batch_bytes >= _BATCH_BYTES:
                flush()
        damage.report(account)
    flush()
    frame = pl.concat(frames) if frames else schema.empty_frame(schema.EXTENSION_LOG_COLUMNS)
    return frame, accounts


@dataclass(frozen=True)
class _Piece:
    """A chunk of one file waiting in a batch: its lines, or its bytes when they need no repair."""

    file: _File
    lines: pl.DataFrame | bytes
    #: Lines of the file before this chunk.
    offset: int
    count: int


def _batch_lines(batch: list[_Piece]) -> pl.DataFrame:
    """The pieces' lines in order, with `part` (the piece's index) and `line_no` (within its file)."""
    clean = [p.lines if p.lines.endswith(b"\n") else p.lines + b"\n" for p in batch if isinstance(p.lines, bytes)]
    split = pl.read_lines(b"".join(clean), name="text") if clean else None
    frames, at = [], 0
    for piece in batch:
        if isinstance(piece.lines, bytes):
            frames.append(split.slice(at, piece.count))
            at += piece.count
        else:
            frames.append(piece.lines)
    counts = pl.Series([p.count for p in batch], dtype=pl.UInt32)
    offsets = pl.Series([p.offset for p in batch], dtype=pl.UInt32)
    part = pl.select(pl.int_range(len(batch), dtype=pl.UInt32).repeat_by(counts).explode()).to_series()
    lines = pl.concat(frames, how="diagonal_relaxed").with_columns(part=part)
    return lines.with_columns(
        line_no=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("part") + offsets.gather(part), form=_form()
    )


def _parse_batch(batch: list[_Piece], tz: VmTimezone) -> pl.DataFrame:
    """Records of several files' chunks (each file at most once), parsed in one pass."""
    files = [piece.file for piece in batch]
    lines = _batch_lines(batch)
    _decide_formats(lines, files)
    dominant = pl.Series([file.dominant for file in files], dtype=pl.String).gather(lines["part"])
    records, counts = _records(lines.with_columns(dominant=dominant))
    for row in counts.iter_rows(named=True):
        account = files[row["part"]].account
        account.records += row["records"]
        account.continuations += row["continuations"]
        account.unparsed += row["unparsed"]
    by_part = records["part"]
    records = records.with_columns(
        source_path=pl.Series([f.name for f in files], dtype=pl.String).gather(by_part),
        path_extension=pl.Series([f.extension for f in files], dtype=pl.String).gather(by_part),
        path_version=pl.Series([f.version for f in files], dtype=pl.String).gather(by_part),
    )
    finished = finish(records, tz)
    spans = (
        pl.DataFrame({"part": by_part, "timestamp": finished["timestamp"]})
        .group_by("part")
        .agg(low=pl.col("timestamp").min(), high=pl.col("timestamp").max())
    )
    for row in spans.iter_rows(named=True):
        files[row["part"]].account.saw_times(pl.Series([row["low"], row["high"]]))
    return finished


def _form() -> pl.Expr:
    """Each line's form code (`FORM_CODES`; 0 for no known head)."""
    text = pl.col("text")
    return (
        pl.when(text.str.contains(SLOG))
        .then(pl.lit(FORM_CODES["go-slog"]))
        .when(text.str.contains(LOGFMT))
        .then(pl.lit(FORM_CODES["go-logfmt"]))
        .when(text.str.contains(PYTHON))
        .then(pl.lit(FORM_CODES["python"]))
        .when(text.str.contains(PLATFORM))
        .then(pl.lit(FORM_CODES["platform"]))
        .otherwise(pl.lit(0))
        .cast(pl.UInt8)
    )


def _decide_formats(lines: pl.DataFrame, files: list[_File]) -> None:
    """Give each file without a format yet its most frequent recognised form, or `text` when none is."""
    undecided = [index for index, file in enumerate(files) if file.dominant is None]
    if not undecided:
        return
    names = {code: name for name, code in FORM_CODES.items()}
    modes = (
        lines.filter((pl.col("form") > 0) & pl.col("part").is_in(undecided))
        .group_by("part", "form")
        .len()
        .sort(["part", "len", "form"], descending=[False, True, False])
        .unique("part", keep="first", maintain_order=True)
    )
    for row in modes.iter_rows(named=True):
        files[row["part"]].dominant = names[row["form"]]
    for index in undecided:
        files[index].dominant = files[index].dominant or "text"


def _records(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decide what each line is and fold continuations into the record before them in its file.

    Returns the records (in file and line order) and, per part, its record, continuation and
    unparsed line counts.
    """
    text, form = pl.col("text"), pl.col("form")
    # In Go logs and logs of unknown format every non-empty line is a record (shim lines, plain text).
    every_line = pl.col("dominant").is_in(["go-logfmt", "go-slog", "text"])
    lines = lines.with_columns(
        is_start=(form > 0) | (every_line & (text.str.strip_chars() != "")), row=pl.int_range(pl.len())
    )
    orphan = pl.col("is_start").cum_sum().over("part") == 0
    bad = pl.col("damaged").fill_null(False) if "damaged" in lines.columns else pl.lit(False)
    lines = lines.with_columns(is_unparsed=~pl.col("is_start") & (orphan | bad))
    counts = lines.group_by("part").agg(
        records=pl.col("is_start").sum(),
        unparsed=pl.col("is_unparsed").sum(),
        continuations=(~pl.col("is_start") & ~pl.col("is_unparsed")).sum(),
    )
    starts = lines.filter(pl.col("is_start"))
    continuations = lines.filter(~pl.col("is_start") & ~pl.col("is_unparsed"))
    # A continuation always has a start before it in its own file (else it is an orphan).
    continuations = continuations.with_columns(
        owner=starts["row"].search_sorted(continuations["row"], side="right") - 1
    )
    starts = fold(starts, continuations, "text")
    unparsed = lines.filter(pl.col("is_unparsed")).with_columns(
        line_first=pl.col("line_no"), line_last=pl.col("line_no"), form=pl.lit(UNPARSED, pl.UInt8)
    )
    return pl.concat([starts, unparsed], how="diagonal_relaxed").sort("row"), counts


def in_extension_log_folder(path: PurePosixPath) -> bool:
    """True for a file below an `azure/` folder (`/var/log/azure/<extension>/...`)."""
    return "azure" in path.parts[:-1]


FORMAT = Format(
    name=KIND,
    summary="An extension's own logs (handler.log, extension.log, log_<n>, rotations) under `/var/log/azure/`.",
    frames=(("extension_logs", schema.EXTENSION_LOG_COLUMNS),),
    read=lambda sources, options: read_extension_logs(sources, tz=options.zone),
    paths=(
        Clue(
            71,
            lambda path: in_extension_log_folder(path) and bool(_LOG_FILE.match(path.name)),
            "`/var/log/azure/<extension>/*.log*`, `log_<n>`",
        ),
    ),
    record_kind="extension_log",
    samples=(
        "sample_logs/vm-modern/var/log/azure/Microsoft.Azure.Extensions.CustomScript/handler.log",
        "sample_logs/vm-modern/var/log/azure/Microsoft.Azure.Monitor.AzureMonitorLinuxAgent/extension.log",
    ),
)

"""The `/var/log/waagent.log` format: every guest-agent generation plus extension-written lines.

Grammar (see ``shared/reference/waagent-log.md``, section 1):

* agent-iso (agent 2.2.46+, UTC): ``2024-05-13T17:34:12.409342Z LEVEL [thread] [prefix] msg``
* agent-legacy (agent 2.1 - 2.2.45, local time): ``2017/08/14 20:21:57.123456 LEVEL [prefix] msg``
* extension (written by extensions, local time): ``2017/08/14 20:21:57 [ERROR:|WARNING:][[Name-Ver] ]msg``,
  also with a fraction but no level token.

Any other line continues the record before it (command ``[stdout]``/``[stderr]`` output,
tracebacks, iptables dumps). Extension-shaped lines inside an agent record's ``[stdout]`` block
are output, not records, until the block closes with ``, duration=N`` or the next agent line.
Lines before a file's first record, and damaged lines (NUL bytes, invalid UTF-8) outside an
output block, are kept as ``unparsed`` rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import regex

from parsers import schema
from parsers.reader import DEFAULT_CHUNK_BYTES, LineChunk, SourceAccount, iter_line_chunks
from parsers.timezones import VmTimezone

KIND = "waagent"
#: Chunks parsed at once: the CI-class machine has two cores.
_PARALLEL_CHUNKS = 2

#: Thread names the agent sets (2.2.47+), a whitelist so a prefix-less message's first word is
#: not taken for a thread; Python >= 3.10 default names carry a " (target)" suffix.
THREAD_NAMES = (
    "Daemon",
    "ExtHandler",
    "EnvHandler",
    "MonitorHandler",
    "SendTelemetryHandler",
    "TelemetryEventsCollector",
    "CollectLogsHandler",
    "LogCollectorMonitorHandler",
    "MainThread",
    "Firewall",
)
#: Process prefixes the agent writes in place of an extension prefix.
PROCESS_NAMES = ("Daemon", "ExtHandler", "LogCollector", "Firewall")

_LEVEL = r"VERBOSE|INFO|WARNING|ERROR"
_THREAD = "|".join(THREAD_NAMES) + r"|Thread-\d+(?: \([^)]*\))?|Dummy-\d+"
_PROCESS = "|".join(PROCESS_NAMES)
#: `[Publisher.Type-1.2.3]`: split at the last '-', version is dotted digits ([CGI], [PERIODIC] fail).
_EXT_PREFIX = r"\[(?P<{n}>[^\]\s]+)-(?P<{v}>\d+(?:\.\d+)*)\]"

#: One anchored pattern recognises every header form; the three branches are tried in order
#: (an ISO agent line, a legacy agent line with a level, an extension-written line), and the
#: whole header is captured as `head` so the message is the text after it.
HEADER_PATTERN = (
    r"^(?P<head>"
    r"(?P<iso_ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?)Z (?P<iso_level>" + _LEVEL + r")(?: |$)"
    r"(?:(?P<thread>" + _THREAD + r") )?"
    r"(?:(?:(?P<iso_process>" + _PROCESS + r")|" + _EXT_PREFIX.format(n="iso_ext", v="iso_ver") + r")(?: |$))?"
    r"|(?P<leg_ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{1,9}) (?P<leg_level>" + _LEVEL + r")(?: |$)"
    r"(?:(?:(?P<leg_process>Daemon|ExtHandler)|" + _EXT_PREFIX.format(n="leg_ext", v="leg_ver") + r")(?: |$))?"
    r"|(?P<ext_ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})?)(?: |$)"
    r"(?:(?P<ext_level>ERROR|WARNING):)?"
    r"(?:" + _EXT_PREFIX.format(n="ext_ext", v="ext_ver") + r" )?"
    r")"
)
#: Standard-width headers, recognised by anchored matches (DFA, no captures) on the hot path.
_ISO_STD = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (?:" + _LEVEL + r")(?: |$)"
_LEGACY_STD = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} (?:" + _LEVEL + r")(?: |$)"
_EXTENSION_STD = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?: |$)"
_ANY_STD = "|".join(f"(?:{p})" for p in (_ISO_STD, _LEGACY_STD, _EXTENSION_STD))
_NONE, _ISO, _LEGACY, _EXTENSION = 0, 1, 2, 3
_LEVEL_BY_INITIAL = {"V": "VERBOSE", "I": "INFO", "W": "WARNING", "E": "ERROR"}
#: Characters after the level that can hold a thread name and an `[extension-version]` prefix.
_WORD_WINDOW = 192
#: A whole `[Name-1.2.3]` word, capturing its version.
_EXT_TOKEN_VERSION = r"^\[[^\]\s]+-(\d+(?:\.\d+)*)\]$"
#: Telemetry echo `Event: name=..., op=..., message=...[, duration=N]`; the message may span lines,
#: and with an empty stderr the `, duration=N` tail sits alone on the record's last line.
EVENT_PATTERN = (
    r"(?s)^Event: name=(?P<event_name>[^,]*), op=(?P<event_op>[^,]*), message=(?P<event_message>.*?)"
    r"\n?(?:, duration=(?P<event_duration_ms>\d+))?$"
)
#: Last line of an `Event:` record (agent 2.2.15+): closes a `[stdout]` block.
_DURATION_TAIL = r", duration=\d+$"
#: A newline followed by an agent header: a safe place to cut the stream into chunks.
RECORD_START = regex.compile(
    rb"\n(?=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.Z]|\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+ (?:" + _LEVEL.encode() + rb") )"
)
#: File names of the agent log and its rotations (pre-2.2.46 `.N[.gz]`, 2.2.46+ dateext `-DATE-EPOCH.gz`).
FILE_NAME = regex.compile(r"^waagent\.log(?:\.(?P<n>\d+)|-(?P<date>\d{4}-?\d\d-?\d\d)(?:-(?P<epoch>\d+))?)?(?:\.gz)?$")

#: Lines in each generation's form, with what the parser must extract: the format's own test data.
SAMPLE_LINES: tuple[tuple[str, dict[str, object]], ...] = (
    (
        "2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler Self-update discovered new Regular upgrade",
        {"line_format": "agent-iso", "level": "INFO", "thread": "ExtHandler", "process": "ExtHandler",
         "message": "Self-update discovered new Regular upgrade"},
    ),
    (
        "2025-04-03T09:12:44.101233Z INFO ExtHandler [Contoso.Ops.LinuxBootstrap-1.4.0] Install extension [bin/setup.sh install]",
        {"line_format": "agent-iso", "thread": "ExtHandler", "process": "ExtHandler", "extension": "Contoso.Ops.LinuxBootstrap",
         "extension_version": "1.4.0", "message": "Install extension [bin/setup.sh install]"},
    ),
    (
        "2019/12/01 10:00:00.000001Z INFO [Microsoft.Azure.Extensions.CustomScript-2.1.3] not iso",
        {"line_format": "unparsed"},
    ),
    (
        "2020-01-15T08:00:01.123456Z INFO [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.2] Target handler state: enabled",
        {"line_format": "agent-iso", "thread": None, "extension": "Microsoft.OSTCExtensions.VMAccessForLinux",
         "extension_version": "1.5.2"},
    ),
    (
        "2025-05-20T04:31:40.118833Z WARNING MonitorHandler ExtHandler Error in SendHostPluginHeartbeat: x",
        {"level": "WARNING", "thread": "MonitorHandler", "process": "ExtHandler", "message": "Error in SendHostPluginHeartbeat: x"},
    ),
    (
        "2025-01-22T07:15:40.126390Z INFO ExtHandler ExtHandler [CGI] Started extension in unit 'install_9b2e.scope'",
        {"extension": None, "message": "[CGI] Started extension in unit 'install_9b2e.scope'"},
    ),
    (
        "2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler ",
        {"thread": "ExtHandler", "process": "ExtHandler", "message": ""},
    ),
    (
        "2024-02-01T03:04:05.000000Z INFO Thread-3 (run) Daemon Resource disk mounted",
        {"thread": "Thread-3 (run)", "process": "Daemon", "message": "Resource disk mounted"},
    ),
    (
        "2019/06/18 09:14:10.882417 INFO Determined Agent WALinuxAgent-2.2.38 to be the latest agent",
        {"line_format": "agent-legacy", "level": "INFO", "thread": None, "process": None,
         "message": "Determined Agent WALinuxAgent-2.2.38 to be the latest agent"},
    ),
    (
        "2019/06/18 09:14:11.104558 INFO ExtHandler Agent WALinuxAgent-2.2.38 is running as the goal state agent",
        {"line_format": "agent-legacy", "thread": None, "process": "ExtHandler"},
    ),
    (
        "2019/06/20 02:31:05.963540 INFO [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.1] Disable extension [vmaccess.py -disable]",
        {"line_format": "agent-legacy", "extension": "Microsoft.OSTCExtensions.VMAccessForLinux",
         "extension_version": "1.5.1", "message": "Disable extension [vmaccess.py -disable]"},
    ),
    (
        "2017/09/12 16:40:33 OmsAgentForLinux started to handle.",
        {"line_format": "extension", "level": "INFO", "message": "OmsAgentForLinux started to handle."},
    ),
    (
        "2025/01/22 07:21:09 ERROR:[Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2] Unsupported operating system: flatcar 4152.2.0",
        {"line_format": "extension", "level": "ERROR", "extension": "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent",
         "extension_version": "1.33.2", "message": "Unsupported operating system: flatcar 4152.2.0"},
    ),
    (
        "2017/08/14 20:21:57.25 LinuxAzureDiagnostic started to handle.",
        {"line_format": "extension", "level": "INFO", "message": "LinuxAzureDiagnostic started to handle."},
    ),
    (
        "2017/09/12 16:40:34.882630 ERROR Event: name=Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux, op=Install, "
        "message=[000003] Non-zero exit code: 51, omsagent_shim.sh -install",
        {"level": "ERROR", "event_name": "Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux", "operation": "Install",
         "extension": "Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux",
         "event_message": "[000003] Non-zero exit code: 51, omsagent_shim.sh -install", "event_duration_ms": None},
    ),
    (
        "2018/03/05 11:20:45.118273 INFO Event: name=WALinuxAgent, op=ProcessGoalState, message=Incarnation 12, duration=1834",
        {"event_name": "WALinuxAgent", "operation": "ProcessGoalState", "extension": None,
         "event_message": "Incarnation 12", "event_duration_ms": 1834},
    ),
)


@dataclass
class ParseResult:
    """What parsing a set of inputs produced.

    Attributes:
        frame: one row per record (and per unparsed line), files oldest first, in file order;
            columns as ``schema.WAAGENT_COLUMNS``.
        accounts: per-input line accounting and warnings, in the order read.
        notes: warnings not tied to one file (e.g. a directory without logs).
    """

    frame: pl.DataFrame
    accounts: list[SourceAccount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """Every input warning: notes first, then per file in input order."""
        return self.notes + [w for a in self.accounts for w in a.warnings]


def rotation_sort_key(path: Path) -> tuple:
    """Order rotated copies oldest first, the live `waagent.log` last.

    `waagent.log.N[.gz]`: higher N is older. `waagent.log-DATE[-EPOCH][.gz]`: earlier is older.
    The numbered scheme predates the dated one, so numbered copies sort first.
    """
    match = FILE_NAME.match(path.name)
    if match is None:
        return (str(path.parent), 3, 0, "", path.name)
    if match["n"] is not None:
        return (str(path.parent), 0, -int(match["n"]), "", path.name)
    if match["date"] is not None:
        return (str(path.parent), 1, int(match["epoch"] or 0), match["date"].replace("-", ""), path.name)
    return (str(path.parent), 2, 0, "", path.name)


def read_waagent(
    paths: Iterable[Path | str],
    *,
    tz: VmTimezone | str | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    display_names: dict[Path, str] | None = None,
) -> ParseResult:
    """Parse waagent.log files (plain or .gz) into one record frame.

    Args:
        paths: log files; they are read in the order given (use ``rotation_sort_key`` to sort).
        tz: the VM's UTC offset or zone, applied to local-time lines (default UTC).
        chunk_bytes: decompressed bytes per processing chunk; bounds peak memory.
        display_names: optional names to show instead of a path (archive members).

    Returns:
        A ParseResult; bad inputs become warnings on their account, never exceptions.

    Example:
        >>> result = read_waagent(["sample_logs/vm-legacy/var/log/waagent.log"])  # doctest: +SKIP
        >>> result.frame.select("timestamp", "level", "message").head()  # doctest: +SKIP
    """
    zone = tz if isinstance(tz, VmTimezone) else VmTimezone.parse(tz)
    frames: list[pl.DataFrame] = []
    accounts: list[SourceAccount] = []
    for raw in paths:
        path = Path(raw)
        account = SourceAccount(path=(display_names or {}).get(path, str(path)), kind=KIND)
        accounts.append(account)
        chunks = iter_line_chunks(path, account, record_start=RECORD_START, chunk_bytes=chunk_bytes)
        for records, counts in _parse_in_parallel(chunks, account.path, zone):
            frames.append(records)
            account.records += counts[0]
            account.continuations += counts[1]
            account.unparsed += counts[2]
    frame = pl.concat(frames, how="vertical") if frames else schema.empty_frame(schema.WAAGENT_COLUMNS)
    return ParseResult(frame=frame, accounts=accounts)


def _parse_in_parallel(
    chunks: Iterator[LineChunk], source_path: str, zone: VmTimezone
) -> Iterator[tuple[pl.DataFrame, tuple[int, int, int]]]:
    """Parse chunks two at a time (Polars releases the GIL), keeping file order and bounded memory."""
    with ThreadPoolExecutor(max_workers=_PARALLEL_CHUNKS) as pool:
        pending: deque[Future] = deque()
        for chunk in chunks:
            pending.append(pool.submit(parse_chunk, chunk, source_path, zone))
            if len(pending) >= _PARALLEL_CHUNKS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def parse_chunk(chunk: LineChunk, source_path: str, zone: VmTimezone) -> tuple[pl.DataFrame, tuple[int, int, int]]:
    """Turn one chunk of lines into schema-conforming records.

    Returns:
        The records and the counts (records, continuation lines, unparsed lines).
    """
    lines = _classify(chunk)
    starts = lines.filter(pl.col("is_start"))
    unparsed = lines.filter(pl.col("is_unparsed"))
    continuations = lines.filter(~pl.col("is_start") & ~pl.col("is_unparsed"))
    records = _fold(starts, continuations)
    records = _finish_records(records, source_path, zone)
    if unparsed.height:
        rows = unparsed.select(
            source_path=pl.lit(source_path),
            line_first=pl.col("line_no"),
            line_last=pl.col("line_no"),
            timestamp_local_assumed=pl.lit(False),
            message=pl.col("text"),
            line_format=pl.lit("unparsed"),
        )
        records = pl.concat([records, schema.conform(rows, schema.WAAGENT_COLUMNS)]).sort("line_first")
    return records, (starts.height, continuations.height, unparsed.height)


def _classify(chunk: LineChunk) -> pl.DataFrame:
    """Per line: header fields, and whether it starts a record, continues one, or is unparsed."""
    text = pl.col("text")
    lines = _header_fields(chunk.lines.with_row_index("line_no", offset=chunk.first_line))
    form = pl.col("form")
    is_agent = (form == _ISO) | (form == _LEGACY)
    lines = lines.with_columns(
        is_agent=is_agent,
        stdout_mark=(text == "[stdout]").cast(pl.UInt32),
        duration_tail=text.str.contains(_DURATION_TAIL).cast(pl.UInt32),
    )
    # An agent record's output block opens at an exact "[stdout]" line and closes at a
    # ", duration=N" tail or the next agent header; extension-shaped lines inside it are output.
    # Counts are cumulative and rebased at each agent header (no per-record window needed).
    marks, tails = pl.col("stdout_mark").cum_sum(), pl.col("duration_tail").cum_sum()
    mark_base = pl.when(pl.col("is_agent")).then(marks).forward_fill().fill_null(0)
    tail_base = pl.when(pl.col("is_agent")).then(tails).forward_fill().fill_null(0)
    in_block = (
        (pl.col("is_agent").cum_sum() > 0)
        & ~pl.col("is_agent")
        & (marks - mark_base > 0)
        & (tails - pl.col("duration_tail") - tail_base == 0)
    )
    is_start = pl.col("is_agent") | ((form == _EXTENSION) & ~in_block)
    lines = lines.with_columns(in_block=in_block, is_start=is_start)
    damaged = pl.col("damaged") if chunk.damaged else pl.lit(False)
    orphan = pl.col("is_start").cum_sum() == 0
    return lines.with_columns(
        is_unparsed=~pl.col("is_start") & (orphan | (damaged & ~pl.col("in_block"))),
    )


def _header_fields(lines: pl.DataFrame) -> pl.DataFrame:
    """Recognise headers and split them into fields without a capturing regex per line.

    Standard-width headers are recognised with anchored DFA matches and cut at fixed offsets;
    the two or three words after the level are tested for being a thread name or a prefix.
    Headers of other widths (a fraction that is not six digits) go through ``HEADER_PATTERN``.
    """
    text = pl.col("text")
    # One DFA pass finds standard headers; characters 4 and 19 then tell the three forms apart.
    standard = text.str.contains(_ANY_STD)
    form = (
        pl.when(~standard).then(pl.lit(_NONE))
        .when(text.str.slice(4, 1) == "-").then(pl.lit(_ISO))
        .when(text.str.slice(19, 1) == ".").then(pl.lit(_LEGACY))
        .otherwise(pl.lit(_EXTENSION))
    )
    lines = lines.with_columns(form=form.cast(pl.UInt8))
    form = pl.col("form")
    level_at = pl.when(form == _ISO).then(pl.lit(28, pl.UInt32)).otherwise(pl.lit(27, pl.UInt32))
    level = text.str.slice(level_at, 1).replace_strict(_LEVEL_BY_INITIAL, default=None, return_dtype=pl.String)
    lines = lines.with_columns(
        ts_text=pl.when(form == _EXTENSION).then(text.str.slice(0, 19)).when(form != _NONE).then(text.str.slice(0, 26)),
        level=pl.when((form == _ISO) | (form == _LEGACY)).then(level),
    )
    rest_at = pl.when(form == _EXTENSION).then(pl.lit(20, pl.UInt32)).otherwise(
        level_at + pl.col("level").str.len_bytes() + 1
    )
    lines = lines.with_columns(rest_at=rest_at)
    words = text.str.slice(pl.col("rest_at"), _WORD_WINDOW).str.split_exact(" ", 2)
    lines = lines.with_columns(w=pl.when(form != _NONE).then(words)).unnest("w")
    lines = _thread_and_prefix(lines)
    lines = lines.with_columns(head_len=pl.col("rest_at") + pl.col("consumed"))
    odd = lines.filter((form == _NONE) & text.str.contains(HEADER_PATTERN))
    if odd.height:
        lines = lines.update(_odd_width_headers(odd), on="line_no")
    return lines


def _thread_and_prefix(lines: pl.DataFrame) -> pl.DataFrame:
    """Thread, process or `[extension-version]` prefix from the words after the level."""
    w1, w2, w3, form = pl.col("field_0"), pl.col("field_1"), pl.col("field_2"), pl.col("form")
    iso, legacy, ext = form == _ISO, form == _LEGACY, form == _EXTENSION
    threadish = iso & (w1.is_in(THREAD_NAMES) | w1.str.starts_with("Thread-") | w1.str.starts_with("Dummy-"))
    lines = lines.with_columns(
        threadish=threadish,
        ext_level=pl.when(ext & w1.str.starts_with("ERROR:")).then(pl.lit("ERROR")).when(
            ext & w1.str.starts_with("WARNING:")
        ).then(pl.lit("WARNING")),
    )
    threadish, xlevel = pl.col("threadish"), pl.col("ext_level")
    # Python >= 3.10 names unnamed threads "Thread-3 (run)": two words.
    two_word = threadish & w2.str.starts_with("(") & w2.str.ends_with(")")
    xlevel_len = (xlevel.str.len_bytes() + 1).fill_null(0)
    lines = lines.with_columns(
        two_word=two_word,
        xlevel_len=xlevel_len,
        candidate=pl.when(two_word).then(w3).when(threadish).then(w2).when(iso | legacy).then(w1)
        .when(ext & w2.is_not_null()).then(w1.str.slice(xlevel_len)),
    )
    two_word, candidate = pl.col("two_word"), pl.col("candidate")
    lines = lines.with_columns(
        is_process=(iso & candidate.is_in(PROCESS_NAMES)) | (legacy & candidate.is_in(("Daemon", "ExtHandler"))),
        extension_version=pl.when(candidate.str.starts_with("[")).then(candidate).str.extract(_EXT_TOKEN_VERSION, 1),
        thread=pl.when(two_word).then(pl.concat_str([w1, w2], separator=" ")).when(threadish).then(w1),
    )
    is_process, version = pl.col("is_process"), pl.col("extension_version")
    is_ext = version.is_not_null()
    thread_len = (pl.col("thread").str.len_bytes() + 1).fill_null(0)
    prefix_len = pl.when(is_process | is_ext).then(candidate.str.len_bytes() + 1).otherwise(0)
    return lines.with_columns(
        process=pl.when(is_process).then(candidate),
        prefix_ext=pl.when(is_ext).then(candidate.str.slice(1, candidate.str.len_bytes() - version.str.len_bytes() - 3)),
        consumed=(thread_len + prefix_len + pl.col("xlevel_len")).cast(pl.UInt32),
    ).drop("field_0", "field_1", "field_2", "threadish", "two_word", "xlevel_len", "candidate", "is_process")


def _odd_width_headers(odd: pl.DataFrame) -> pl.DataFrame:
    """Headers whose timestamp is not the standard width, parsed with the full pattern."""
    g = pl.col
    return odd.select(
        "line_no", g("text").str.extract_groups(HEADER_PATTERN).alias("h")
    ).unnest("h").select(
        "line_no",
        form=pl.when(g("iso_ts").is_not_null()).then(pl.lit(_ISO))
        .when(g("leg_ts").is_not_null()).then(pl.lit(_LEGACY))
        .otherwise(pl.lit(_EXTENSION)).cast(pl.UInt8),
        ts_text=pl.coalesce("iso_ts", "leg_ts", "ext_ts"),
        level=pl.coalesce("iso_level", "leg_level"),
        thread=g("thread"),
        process=pl.coalesce("iso_process", "leg_process"),
        prefix_ext=pl.coalesce("iso_ext", "leg_ext", "ext_ext"),
        extension_version=pl.coalesce("iso_ver", "leg_ver", "ext_ver"),
        ext_level=g("ext_level"),
        head_len=g("head").str.len_chars().cast(pl.UInt32),
    )


def _fold(starts: pl.DataFrame, continuations: pl.DataFrame) -> pl.DataFrame:
    """Append each record's continuation lines to its message (records are mostly one line)."""
    header = pl.col("head_len")
    starts = starts.with_columns(message=pl.col("text").str.slice(header), line_first=pl.col("line_no"), line_last=pl.col("line_no"))
    if continuations.height == 0:
        return starts
    # Record index of every line = number of record starts at or before it (in the full chunk).
    start_lines = starts["line_no"]
    owner = start_lines.search_sorted(continuations["line_no"], side="right") - 1
    folded = (
        continuations.with_columns(owner=owner)
        .group_by("owner", maintain_order=True)
        .agg(tail=pl.col("text").str.join("\n"), last=pl.col("line_no").max())
    )
    tail = pl.repeat(None, starts.height, dtype=pl.String, eager=True).scatter(folded["owner"], folded["tail"])
    last = starts["line_no"].scatter(folded["owner"], folded["last"])
    return starts.with_columns(
        message=pl.concat_str([pl.col("message"), tail], separator="\n", ignore_nulls=True),
        line_last=last,
    )


def _finish_records(records: pl.DataFrame, source_path: str, zone: VmTimezone) -> pl.DataFrame:
    """Derive the schema columns from the header fields and the folded message."""
    form = pl.col("form")
    iso = form == _ISO
    local_ts = pl.when(~iso).then(pl.col("ts_text")).str.to_datetime("%Y/%m/%d %H:%M:%S%.f", time_unit="us", strict=False)
    iso_ts = pl.when(iso).then(pl.col("ts_text")).str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
    records = records.with_columns(
        timestamp=pl.when(iso).then(iso_ts.dt.replace_time_zone("UTC")).otherwise(zone.to_utc(local_ts)),
        timestamp_local_assumed=~iso,
        level=pl.coalesce("level", "ext_level", pl.lit("INFO")),
        line_format=pl.when(iso).then(pl.lit("agent-iso")).when(form == _LEGACY).then(pl.lit("agent-legacy")).otherwise(
            pl.lit("extension")
        ),
        process=pl.coalesce("process", pl.when(pl.col("thread").is_in(PROCESS_NAMES)).then(pl.col("thread"))),
        ev=pl.col("message").str.extract_groups(EVENT_PATTERN),
    ).unnest("ev")
    is_agent_event = pl.col("event_name") == "WALinuxAgent"
    records = records.with_columns(
        source_path=pl.lit(source_path),
        extension=pl.coalesce(
            "prefix_ext", pl.when(~is_agent_event & (pl.col("event_name") != "")).then(pl.col("event_name"))
        ),
        operation=pl.when(pl.col("event_op") != "").then(pl.col("event_op")),
        event_duration_ms=pl.col("event_duration_ms").cast(pl.Int64),
    )
    return schema.conform(records, schema.WAAGENT_COLUMNS)

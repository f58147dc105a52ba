"""The `/var/log/waagent.log` format as data: grammar, header fields, checked sample lines, file names.

The chunk engine that applies it is `parsers.waagent`.

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

from pathlib import Path

import polars as pl
import regex

from parsers import schema

KIND = "waagent"

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
PROCESS_NAMES = schema.PROCESSES

LEVELS = r"VERBOSE|INFO|WARNING|ERROR"
_THREAD = "|".join(THREAD_NAMES) + r"|Thread-\d+(?: \([^)]*\))?|Dummy-\d+"
_PROCESS = "|".join(PROCESS_NAMES)
#: `[Publisher.Type-1.2.3]`: split at the last '-', version is dotted digits ([CGI], [PERIODIC] fail).
EXT_PREFIX = r"\[(?P<ext>[^\]\s]+)-(?P<ver>\d+(?:\.\d+)*)\]"

#: What follows the timestamp, per form (section 1.9 of the reference, split after the time):
#: agent-iso: level, optional thread (a whitelist, so a message's first word is not taken for
#: one), optional process or extension prefix.
ISO_TAIL = (
    r" (?P<level>" + LEVELS + r")(?: |$)(?:(?P<thread>" + _THREAD + r") )?"
    r"(?:(?:(?P<process>" + _PROCESS + r")|" + EXT_PREFIX + r")(?: |$))?"
)
#: agent-legacy: level, optional `Daemon`/`ExtHandler` prefix or extension prefix (no threads yet).
LEGACY_TAIL = r" (?P<level>" + LEVELS + r")(?: |$)(?:(?:(?P<process>Daemon|ExtHandler)|" + EXT_PREFIX + r")(?: |$))?"
#: extension: an optional `ERROR:`/`WARNING:` marker glued to the message, optional prefix.
EXTENSION_TAIL = r"(?: (?:(?P<level>ERROR|WARNING):)?(?:" + EXT_PREFIX + r" )?|$)"
ISO_STAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z"
LOCAL_STAMP = r"[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
_UNNAMED = regex.compile(r"\?P<\w+>")
#: The whole header of any form, without captures so Polars runs it as a DFA: ISO agent line;
#: legacy agent line (fraction and level) or extension line with a fraction; extension line.
HEADER_PATTERN = _UNNAMED.sub(
    "?:",
    rf"^(?:{ISO_STAMP}{ISO_TAIL}|{LOCAL_STAMP}\.[0-9]{{1,9}}(?:{LEGACY_TAIL}|{EXTENSION_TAIL})|{LOCAL_STAMP}{EXTENSION_TAIL})",
)
_TAIL_GRAMMAR = {
    "agent-iso": regex.compile(ISO_TAIL),
    "agent-legacy": regex.compile(LEGACY_TAIL),
    "extension": regex.compile(EXTENSION_TAIL),
}
_LEVEL_WORD = regex.compile(r"^ (?:" + LEVELS + r")(?: |$)")
#: Telemetry echo `Event: name=..., op=..., message=...[, duration=N]`; the message may span lines,
#: and with an empty stderr the `, duration=N` tail sits alone on the record's last line.
EVENT_PATTERN = (
    r"(?s)^Event: name=(?P<event_name>[^,]*), op=(?P<event_op>[^,]*), message=(?P<event_message>.*?)"
    r"\n?(?:, duration=(?P<event_duration_ms>\d+))?$"
)
#: Last line of an `Event:` record (agent 2.2.15+): closes a `[stdout]` block.
DURATION_TAIL = r", duration=\d+$"
#: The start of an agent header line: a safe place to cut the stream into chunks.
RECORD_START = regex.compile(
    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.Z]|\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+ (?:" + LEVELS.encode() + rb") "
)
#: Timestamp formats by form (ISO or not) and stamp length; six-digit fractions take Polars' fast path too.
STAMP_FORMATS = {
    (True, 19): "%Y-%m-%dT%H:%M:%S",
    (True, 26): "%Y-%m-%dT%H:%M:%S.%6f",
    (False, 19): "%Y/%m/%d %H:%M:%S",
    (False, 26): "%Y/%m/%d %H:%M:%S.%6f",
}
#: File names of the agent log and its rotations (pre-2.2.46 `.N[.gz]`, 2.2.46+ dateext `-DATE-EPOCH.gz`).
FILE_NAME = regex.compile(r"^waagent\.log(?:\.(?P<n>\d+)|-(?P<date>\d{4}-?\d\d-?\d\d)(?:-(?P<epoch>\d+))?)?(?:\.gz)?$")

#: Lines in each generation's form, with what the parser must extract: the format's own test data.
SAMPLE_LINES: tuple[tuple[str, dict[str, object]], ...] = (
    (
        "2025-03-02T11:05:41.220183Z INFO ExtHandler ExtHandler Self-update discovered new Regular upgrade",
        {
            "line_format": "agent-iso",
            "level": "INFO",
            "thread": "ExtHandler",
            "process": "ExtHandler",
            "message": "Self-update discovered new Regular upgrade",
        },
    ),
    (
        "2025-04-03T09:12:44.101233Z INFO ExtHandler [Contoso.Ops.LinuxBootstrap-1.4.0] Install extension [bin/setup.sh install]",
        {
            "line_format": "agent-iso",
            "thread": "ExtHandler",
            "process": "ExtHandler",
            "extension": "Contoso.Ops.LinuxBootstrap",
            "extension_version": "1.4.0",
            "message": "Install extension [bin/setup.sh install]",
        },
    ),
    (
        "2019/12/01 10:00:00.000001Z INFO [Microsoft.Azure.Extensions.CustomScript-2.1.3] not iso",
        {"line_format": "unparsed"},
    ),
    (
        "2020-01-15T08:00:01.123456Z INFO [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.2] Target handler state: enabled",
        {
            "line_format": "agent-iso",
            "thread": None,
            "extension": "Microsoft.OSTCExtensions.VMAccessForLinux",
            "extension_version": "1.5.2",
        },
    ),
    (
        "2025-05-20T04:31:40.118833Z WARNING MonitorHandler ExtHandler Error in SendHostPluginHeartbeat: x",
        {
            "level": "WARNING",
            "thread": "MonitorHandler",
            "process": "ExtHandler",
            "message": "Error in SendHostPluginHeartbeat: x",
        },
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
        {
            "line_format": "agent-legacy",
            "level": "INFO",
            "thread": None,
            "process": None,
            "message": "Determined Agent WALinuxAgent-2.2.38 to be the latest agent",
        },
    ),
    (
        "2019/05/02 04:01:17.118230 WARNING Daemon ended with exception -- Sleep 15 seconds and restart daemon",
        {
            "line_format": "agent-legacy",
            "process": None,
            "message": "Daemon ended with exception -- Sleep 15 seconds and restart daemon",
        },
    ),
    (
        "2019/06/18 09:14:11.104558 INFO ExtHandler Agent WALinuxAgent-2.2.38 is running as the goal state agent",
        {"line_format": "agent-legacy", "thread": None, "process": "ExtHandler"},
    ),
    (
        "2019/06/20 02:31:05.963540 INFO [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.1] Disable extension [vmaccess.py -disable]",
        {
            "line_format": "agent-legacy",
            "extension": "Microsoft.OSTCExtensions.VMAccessForLinux",
            "extension_version": "1.5.1",
            "message": "Disable extension [vmaccess.py -disable]",
        },
    ),
    (
        "2017/09/12 16:40:33 OmsAgentForLinux started to handle.",
        {"line_format": "extension", "level": "INFO", "message": "OmsAgentForLinux started to handle."},
    ),
    (
        "2017/09/12 16:40:33",
        {"line_format": "extension", "level": "INFO", "message": ""},
    ),
    (
        "2025/01/22 07:21:09 ERROR:[Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2] Unsupported operating system: flatcar 4152.2.0",
        {
            "line_format": "extension",
            "level": "ERROR",
            "extension": "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent",
            "extension_version": "1.33.2",
            "message": "Unsupported operating system: flatcar 4152.2.0",
        },
    ),
    (
        "2017/08/14 20:21:57.25 LinuxAzureDiagnostic started to handle.",
        {"line_format": "extension", "level": "INFO", "message": "LinuxAzureDiagnostic started to handle."},
    ),
    (
        "2017/09/12 16:40:34.882630 ERROR Event: name=Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux, op=Install, "
        "message=[000003] Non-zero exit code: 51, omsagent_shim.sh -install",
        {
            "level": "ERROR",
            "event_name": "Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux",
            "operation": "Install",
            "extension": "Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux",
            "event_message": "[000003] Non-zero exit code: 51, omsagent_shim.sh -install",
            "event_duration_ms": None,
        },
    ),
    (
        "2018/03/05 11:20:45.118273 INFO Event: name=WALinuxAgent, op=ProcessGoalState, message=Incarnation 12, duration=1834",
        {
            "event_name": "WALinuxAgent",
            "operation": "ProcessGoalState",
            "extension": None,
            "event_message": "Incarnation 12",
            "event_duration_ms": 1834,
        },
    ),
)


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


def header_table(keys: pl.Series) -> pl.DataFrame:
    """Parse each distinct header tail (the text after the timestamp) into header fields.

    A key starting with "Z" follows an ISO stamp; one starting with a level word follows a
    local stamp with a fraction (legacy agent line); anything else is an extension line.
    """
    rows = []
    for key in keys.to_list():
        if key.startswith("Z"):
            line_format, tail = "agent-iso", key[1:]
        elif _LEVEL_WORD.match(key):
            line_format, tail = "agent-legacy", key
        else:
            line_format, tail = "extension", key
        fields = _TAIL_GRAMMAR[line_format].match(tail).groupdict()
        thread = fields.get("thread")
        process = fields.get("process") or (thread if thread in PROCESS_NAMES else None)
        rows.append(
            {
                "key": key,
                "form": FORMS.index(line_format),
                "line_format": line_format,
                "level": fields.get("level") or "INFO",
                "thread": thread,
                "process": process,
                "prefix_ext": fields.get("ext"),
                "extension_version": fields.get("ver"),
            }
        )
    return pl.DataFrame(rows, schema=HEADER_TABLE_SCHEMA)


#: Header forms, numbered as `header_table` numbers them (0: no header).
FORMS = ("unparsed", "agent-iso", "agent-legacy", "extension")
HEADER_TABLE_SCHEMA = {
    "key": pl.String,
    "form": pl.UInt8,
    "line_format": schema.LineFormat,
    "level": schema.Level,
    "thread": pl.Categorical,
    "process": schema.Process,
    "prefix_ext": pl.String,
    "extension_version": pl.String,
}


AGENT_ESCAPE = r"\\(?:x[89a-f][0-9a-f]|u[0-9a-f]{4}|U[0-9a-f]{8})"
_AGENT_ESCAPE = regex.compile(r"\\(?:x([89a-f][0-9a-f])|u([0-9a-f]{4})|U([0-9a-f]{8}))")


def unescape_agent_text(text: str) -> str:
    r"""Undo the agent's ASCII escapes; a sequence `backslashreplace` cannot write stays as it is.

    Example:
        >>> unescape_agent_text(r"caf\xe9 \u2019ok\u2019 \u00e9 C:\x41")
        'café ’ok’ \\u00e9 C:\\x41'
    """

    def character(match: regex.Match) -> str:
        latin, bmp, astral = match.groups()
        code = int(latin or bmp or astral, 16)
        if bmp and (code < 0x100 or 0xD800 <= code <= 0xDFFF):
            return match[0]  # written as \xNN, or a lone surrogate: not the agent's doing
        if astral and not 0x10000 <= code <= 0x10FFFF:
            return match[0]
        return chr(code)

    return _AGENT_ESCAPE.sub(character, text)

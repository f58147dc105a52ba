"""The one declaration of loglens frame schemas.

Every frame a parser emits is conformed to one of the column lists below; rules and reports
rely on nothing else. Which frames a load yields, and which source formats fill them, is the
source-format registry's to say (`parsers.formats.FRAME_SCHEMAS`); ``docs/schema.md`` is rendered
from both and a test fails when it is stale.

The module lives in ``parsers`` (not ``loglens``) because parsers emit these frames and the
import arrows point one way: ``loglens`` imports ``parsers``, never the reverse.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import polars as pl

#: Log levels across every source, least to most severe. The agent writes only VERBOSE, INFO,
#: WARNING and ERROR; DEBUG and CRITICAL come from extension logs.
LEVELS = ("VERBOSE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
Level = pl.Enum(list(LEVELS))

#: How a waagent.log record was recognised (see docs/schema.md for the grammar behind each).
LINE_FORMATS = ("agent-iso", "agent-legacy", "extension", "agent-bare", "date-command", "time-only", "unparsed")
LineFormat = pl.Enum(list(LINE_FORMATS))

#: Agent process prefixes (the waagent grammar's closed set).
PROCESSES = ("Daemon", "ExtHandler", "LogCollector", "Firewall")
Process = pl.Enum(list(PROCESSES))

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
    Column(
        "line_last", pl.UInt32(), "1-based physical line number of the record's last line (continuations folded in)."
    ),
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
        "agent-bare (2.0-era `ERROR:<message>` lines posted without their timestamps; no time), "
        "date-command (pasted text stamped like `date`'s output, `Thu Dec  3 06:25:20 UTC 2026`: UTC or a "
        "numeric offset when given, else local time), time-only (pasted text stamped with a time of day "
        "alone, `06:25:20.58 ...`: no date, so a null timestamp, never a date taken from other lines; the "
        "stamp stays in the message), "
        "or unparsed (kept visible, not dropped).",
    ),
    Column(
        "thread",
        pl.Categorical(),
        "Agent thread name (agent 2.2.47+), e.g. ExtHandler, EnvHandler, MonitorHandler.",
    ),
    Column("process", Process, "Agent process prefix: Daemon, ExtHandler, LogCollector or Firewall, if given."),
    Column("event_name", pl.String(), "`name=` field of an `Event:` record (extension name or WALinuxAgent)."),
    Column("event_message", pl.String(), "`message=` field of an `Event:` record, multi-line text included."),
    Column("event_duration_ms", pl.Int64(), "`duration=` field of an `Event:` record, milliseconds."),
    Column(
        "wrapper",
        pl.String(),
        "What wrapped the line, if anything: syslog, rfc3339 (journald/syslog prefixes), ci (Packer), indent.",
    ),
    Column("wrapper_host", pl.String(), "Host name in the syslog/journald prefix."),
    Column("wrapper_ident", pl.String(), "Program name in the prefix (`waagent`, `python3`, `azure-arm`)."),
    Column("wrapper_pid", pl.Int64(), "Process id in the prefix."),
)

#: How an extension log line was recognised.
EXTENSION_LOG_FORMATS = ("go-logfmt", "go-slog", "python", "platform", "shim", "text", "event", "unparsed")
ExtensionLogFormat = pl.Enum(list(EXTENSION_LOG_FORMATS))

#: Per-extension logs under `/var/log/azure/<extension>/` (handler.log, extension.log, log_<n>, ...).
EXTENSION_LOG_COLUMNS: tuple[Column, ...] = COMMON_COLUMNS + (
    Column(
        "log_format",
        ExtensionLogFormat,
        "go-logfmt (CustomScript v2, RunCommand), go-slog (ApplicationHealth), python (HandlerUtil "
        "extensions: VMAccess, AMA, OMS, DSC, LAD, ...; local time), platform (azure-extension-platform "
        "`log_<n>`, UTC), shim (a Go handler's shell wrapper lines, no timestamp), text (unknown format, "
        "timestamp sniffed where possible), event (an extension's telemetry event JSON under `events/`) or unparsed.",
    ),
    Column("sequence", pl.Int64(), "Settings sequence number (`seq=`), if the line gives it."),
    Column("event", pl.String(), "`event=` value of a Go handler line (`enable failed`, `download start`, ...)."),
    Column("error", pl.String(), "`error=` value of a Go handler line (`null` becomes null)."),
    Column("status", pl.String(), "Status a HandlerUtil status echo reports (`Install,failed,51,...` gives `failed`)."),
    Column("status_code", pl.Int64(), "Code of that status echo (51 in the example)."),
)

#: Status values the agent accepts; any other is reported as `error` (reference 2.3).
STATUS_VALUES = ("transitioning", "success", "warning", "error")
StatusValue = pl.Enum(list(STATUS_VALUES))

_FILE_SPAN = "1-based line span of the file (a JSON document is one record)."

#: `status/<seq>.status` files: one snapshot per extension, version and sequence number.
STATUS_COLUMNS: tuple[Column, ...] = COMMON_COLUMNS + (
    Column("sequence", pl.Int64(), "Sequence number from the file name."),
    Column("config_name", pl.String(), "Multi-config extension name (`<name>.<seq>.status`), if any."),
    Column("status", StatusValue, "Status as the agent reads it: unknown values (`failed`, `Error`) become `error`."),
    Column("status_reported", pl.String(), "Status exactly as the extension wrote it."),
    Column("code", pl.Int64(), "`code` (HandlerUtil writes it as a string; both are read)."),
    Column("status_name", pl.String(), "`status.name` if the extension sets one."),
    Column("substatus_count", pl.UInt32(), "Number of substatus entries (rows in the `substatus` frame)."),
)

#: Substatus entries of status files.
SUBSTATUS_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "Status file the entry came from."),
    Column("extension", pl.String(), "Extension handler name (from the directory name)."),
    Column("extension_version", pl.String(), "Handler version (from the directory name)."),
    Column("sequence", pl.Int64(), "Sequence number from the file name."),
    Column("config_name", pl.String(), "Multi-config extension name, if any."),
    Column("name", pl.String(), "Substatus name (e.g. ErrorClarification, AppHealthStatus)."),
    Column("status", pl.String(), "Substatus status as written."),
    Column("code", pl.Int64(), "Substatus code."),
    Column("message", pl.String(), "Substatus formatted message."),
)

#: `config/HandlerState` and `config/HandlerStatus` files, one row per handler (and config name).
HANDLER_STATE_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "HandlerState or HandlerStatus file."),
    Column("extension", pl.String(), "Extension handler name (from the directory name)."),
    Column("extension_version", pl.String(), "Handler version (from the directory name)."),
    Column("config_name", pl.String(), "Multi-config extension name (`<name>.HandlerState`), if any."),
    Column("state", pl.String(), "HandlerState: NotInstalled, Installed, Enabled or FailedUpgrade."),
    Column("handler_status", pl.String(), "HandlerStatus `status`: Ready or NotReady."),
    Column("code", pl.Int64(), "HandlerStatus `code` (agent category code, e.g. 1009 enable failed)."),
    Column("message", pl.String(), "HandlerStatus message."),
)

#: `config/<seq>.settings` files. Protected settings are never loaded: only presence and thumbprint.
SETTINGS_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "Settings file."),
    Column("extension", pl.String(), "Extension handler name (from the directory name)."),
    Column("extension_version", pl.String(), "Handler version (from the directory name)."),
    Column("sequence", pl.Int64(), "Sequence number from the file name."),
    Column("config_name", pl.String(), "Multi-config extension name, if any."),
    Column("empty", pl.Boolean(), "True when the file is empty (cleared after use, or an extension without settings)."),
    Column(
        "has_protected_settings",
        pl.Boolean(),
        "True when protected settings are present (their content is never read).",
    ),
    Column(
        "protected_settings_thumbprint", pl.String(), "Certificate thumbprint the protected settings are encrypted for."
    ),
    Column("public_setting_keys", pl.List(pl.String()), "Names of the public settings (values are not kept)."),
)

#: `az vm get-instance-view` output (whole, or just `instanceView.extensions`).
INSTANCE_VIEW_COLUMNS: tuple[Column, ...] = COMMON_COLUMNS + (
    Column(
        "scope",
        pl.String(),
        "extension (`extensions[].statuses`), substatus, handler (`vmAgent.extensionHandlers`), vm-agent "
        "(`vmAgent.statuses`) or vm (`instanceView.statuses`: provisioning and power state).",
    ),
    Column("name", pl.String(), "ARM extension resource name (user chosen)."),
    Column("code", pl.String(), "Status code, e.g. `ProvisioningState/failed/0`."),
    Column("code_kind", pl.String(), "First part of the code (ProvisioningState, ComponentStatus)."),
    Column("code_state", pl.String(), "Second part (succeeded, failed, transitioning, or the substatus name)."),
    Column("code_number", pl.Int64(), "Number at the end of the code, if any (the status file's code)."),
    Column("display_status", pl.String(), "displayStatus, e.g. `Provisioning failed`."),
    Column("stdout", pl.String(), "`[stdout]` section of the message, if present."),
    Column("stderr", pl.String(), "`[stderr]` section of the message, if present."),
)

#: What the control plane said: ARM deployment errors and other error JSON (portal, CLI, SDK).
CONTROL_PLANE_COLUMNS: tuple[Column, ...] = COMMON_COLUMNS + (
    Column("name", pl.String(), "ARM extension resource name the message names (`extension 'cse-agent-0'`), if any."),
    Column("error_code", pl.String(), "The nearest `code` around the message, e.g. `VMExtensionProvisioningError`."),
    Column(
        "exit_code", pl.Int64(), "Exit code the message reports (`Non-zero exit code: N`, `exit status=N`), if any."
    ),
    Column("stdout", pl.String(), "`[stdout]` section of the message, if present."),
    Column("stderr", pl.String(), "`[stderr]` section of the message, if present."),
)

#: What the goal state asks for: `ExtensionsConfig*.xml` (WireServer) and `VmSettings*.json`
#: (HostGAPlugin), at the top of `/var/lib/waagent` or in its `history/`. Settings are never read.
GOAL_STATE_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "ExtensionsConfig or VmSettings file."),
    Column(
        "goal_state",
        pl.String(),
        "`incarnation <n>` (ExtensionsConfig) or the vmSettings `etag`/activity id, when given.",
    ),
    Column("extension", pl.String(), "Extension handler (`Publisher.Type`) the goal state names."),
    Column("extension_version", pl.String(), "The handler version requested."),
    Column("state", pl.String(), "Requested state: enabled or disabled."),
    Column("auto_upgrade", pl.Boolean(), "`autoUpgrade`: minor versions may be installed automatically."),
    Column("settings_sequence", pl.Int64(), "Settings sequence number (`seqNo`, `settingsSeqNo`), if given."),
)

#: What each handler ships and what the agent gave it: `HandlerManifest.json`, `HandlerEnvironment.json`.
HANDLER_MANIFEST_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "HandlerManifest.json or HandlerEnvironment.json file."),
    Column("file", pl.String(), "manifest or environment."),
    Column("extension", pl.String(), "Extension handler (from the directory name)."),
    Column("extension_version", pl.String(), "Handler version (from the directory name)."),
    Column(
        "enable_command",
        pl.String(),
        "The manifest's `enableCommand` (what waagent.log shows in `Enable extension [...]`).",
    ),
    Column("update_mode", pl.String(), "`updateMode` (default UpdateWithInstall)."),
    Column(
        "continue_on_update_failure", pl.Boolean(), "`continueOnUpdateFailure`: the agent goes on when update fails."
    ),
    Column("supports_multiple_extensions", pl.Boolean(), "`supportsMultipleExtensions`: a multi-config handler."),
    Column("log_folder", pl.String(), "HandlerEnvironment `logFolder`: where the handler writes its logs."),
    Column("events_folder", pl.String(), "HandlerEnvironment `eventsFolder`, if given."),
)

#: Extensions in the VM model (`az vm show`): what is requested, not what runs.
VM_EXTENSION_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "`az vm show` JSON file."),
    Column("vm_name", pl.String(), "VM name."),
    Column("name", pl.String(), "ARM extension resource name."),
    Column("extension", pl.String(), "`publisher.type` of the extension."),
    Column("type_handler_version", pl.String(), "Requested handler version (`typeHandlerVersion`)."),
    Column("auto_upgrade_minor_version", pl.Boolean(), "`autoUpgradeMinorVersion`: opted into minor upgrades."),
    Column("enable_automatic_upgrade", pl.Boolean(), "`enableAutomaticUpgrade`: automatic extension upgrade."),
    Column("provisioning_state", pl.String(), "`provisioningState` of the extension resource."),
)

#: `/etc/waagent.conf` settings, one row per `key=value` line.
CONFIG_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "Configuration file."),
    Column("line", pl.UInt32(), "1-based line number of the setting."),
    Column("key", pl.String(), "Setting name, e.g. AutoUpdate.Enabled."),
    Column(
        "value",
        pl.String(),
        "Value as the agent reads it: cut at a trailing `#` comment, quotes and blanks stripped (secrets such "
        "as HttpProxy credentials redacted on output).",
    ),
)

#: `waagent --version` output saved to a file.
AGENT_VERSION_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "File holding the `waagent --version` output."),
    Column("package_version", pl.String(), "Installed agent package version (`WALinuxAgent-2.2.17`)."),
    Column("distro", pl.String(), "Distribution it reports running on (`ubuntu 16.04`)."),
    Column("python_version", pl.String(), "Python version the agent runs under."),
    Column("goal_state_agent", pl.String(), "Auto-updated agent version handling extensions."),
)

def polars_schema(columns: tuple[Column, ...]) -> pl.Schema:
    """Return the Polars schema for a column list."""
    return pl.Schema({c.name: c.dtype for c in columns})


#: Timestamps outside these years are damage (a mangled year), not times: Python cannot even
#: hold year 0 or -1, so they become null here rather than failing whoever reads them.
_EARLIEST, _LATEST = datetime(1970, 1, 1), datetime(2200, 1, 1)


def conform(frame: pl.DataFrame, columns: tuple[Column, ...]) -> pl.DataFrame:
    """Select, order and cast ``frame`` to ``columns``; missing columns become nulls, and
    timestamps outside 1970-2200 null."""
    exprs = []
    for c in columns:
        expr = (pl.col(c.name) if c.name in frame.columns else pl.lit(None)).cast(c.dtype)
        if isinstance(c.dtype, pl.Datetime) and c.name in frame.columns:
            low, high = _time_bounds(c.dtype.time_zone)
            expr = pl.when(expr.is_between(low, high)).then(expr)
        exprs.append(expr.alias(c.name))
    return frame.select(exprs)


@functools.cache
def _time_bounds(zone: str | None) -> tuple[pl.Expr, pl.Expr]:
    """The earliest and latest plausible time as literals in ``zone`` (built once: conform runs often)."""
    return tuple(pl.lit(t).dt.replace_time_zone(zone) if zone else pl.lit(t) for t in (_EARLIEST, _LATEST))


def empty_frame(columns: tuple[Column, ...]) -> pl.DataFrame:
    """An empty frame with exactly the declared columns."""
    # Built once per declaration: a VM's analysis asks for dozens, and building one costs ~0.5 ms.
    return _empty_frame(columns).clone()


@functools.cache
def _empty_frame(columns: tuple[Column, ...]) -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema(columns))


def dtype_label(dtype: pl.DataType) -> str:
    """How docs/schema.md names a dtype."""
    if isinstance(dtype, pl.Enum):
        return "Enum"
    if isinstance(dtype, pl.List):
        return f"List[{dtype_label(dtype.inner)}]"
    if isinstance(dtype, pl.Struct):
        return "Struct{" + ", ".join(f"{f.name}: {dtype_label(f.dtype)}" for f in dtype.fields) + "}"
    if isinstance(dtype, pl.Datetime):
        return f"Datetime[{dtype.time_unit}, {dtype.time_zone}]"
    return str(dtype)


def column_table(columns: tuple[Column, ...]) -> list[str]:
    """A frame's columns as Markdown table lines."""
    rows = [f"| `{c.name}` | {dtype_label(c.dtype)} | {c.meaning} |" for c in columns]
    return ["| column | dtype | meaning |", "|---|---|---|", *rows]

"""The derived frames: what loglens computes from the parser frames, declared column by column.

The parser frames are declared in ``parsers/schema.py``; these sit beside them in the same
`Column(name, dtype, meaning)` form and in the same generated ``docs/schema.md``
(`python -m loglens.schema > docs/schema.md`; a test fails when it is stale). Each derived frame
is computed once per VM collection by a pure function of frames (`loglens.context`), and every
frame that reaches rules, reports or the notebook is conformed to its declaration.
"""

from __future__ import annotations

import polars as pl

from parsers.formats import render_markdown as render_parser_frames
from parsers.schema import COMMON_COLUMNS, UTC_TIMESTAMP, Column, Level, column_table, conform, empty_frame

_COLLECTION = Column(
    "collection", pl.String(), "The VM collection (an archive, or the directory holding a VM's `var/`) it belongs to."
)

RECORD_COLUMNS: tuple[Column, ...] = (
    Column("record", pl.UInt32(), "Row number in the load's record view: unique across every VM loaded."),
    *COMMON_COLUMNS,
    Column(
        "kind",
        pl.String(),
        "Which frame the row comes from: waagent, command_execution, extension_log, status, instance_view.",
    ),
)

SPAN_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.String(), "The source file."),
    Column("extension", pl.String(), "Extension named by the records (null: records naming none)."),
    Column("extension_version", pl.String(), "Its version as the records name it (null: none named)."),
    Column("first_seen", UTC_TIMESTAMP, "The earliest of these records' times (null when none has a time)."),
    Column("last_seen", UTC_TIMESTAMP, "The latest of them."),
    Column("records", pl.UInt32(), "How many records these are."),
)

#: A year of minutes per source: the path is categorical, 4 bytes a row where a string took ~36.
TIMELINE_COLUMNS: tuple[Column, ...] = (
    Column("source_path", pl.Categorical(), "The source file."),
    Column("minute", UTC_TIMESTAMP, "The minute (records' times truncated to it)."),
    Column("level", Level, "The records' level (null: records without one)."),
    Column("count", pl.UInt32(), "Timestamped records of this source, minute and level."),
)

#: How an operation ended (`OPERATION_COLUMNS`' `outcome`).
OUTCOMES = ("succeeded", "failed", "still running")

#: A healthy 2 GB log has 600,000 operations: their repeating text is categorical (as in
#: `OPERATION_LINE_COLUMNS`), 4 bytes a row where strings took ~110 MB.
OPERATION_COLUMNS: tuple[Column, ...] = (
    Column("collection", pl.Categorical(), _COLLECTION.meaning),
    Column("record", pl.UInt32(), "Record of the agent line that started the operation."),
    Column("source_path", pl.Categorical(), "File of that line."),
    Column("line_first", pl.UInt32(), "Line number of that line."),
    Column("extension", pl.Categorical(), "Extension as the agent names it (multi-config: `Handler.Name`)."),
    Column("extension_version", pl.Categorical(), "Handler version from the agent's prefix."),
    Column("operation", pl.Categorical(), "Install, Enable, Update, Disable or Uninstall."),
    Column("message", pl.Categorical(), "The agent's start line."),
    Column("started", UTC_TIMESTAMP, "When the agent started it."),
    Column("finished", UTC_TIMESTAMP, "When it ended; for one still running, the end of its log."),
    Column("took", pl.Duration("us"), "finished - started."),
    Column("limit", pl.Duration("us"), "The platform's provisioning limit for this extension (`loglens.knowledge`)."),
    Column("ongoing", pl.Boolean(), "True when nothing in the logs ends it."),
    Column("outcome", pl.Enum(OUTCOMES), "succeeded, failed or still running."),
    Column("end_record", pl.UInt32(), "Record of the agent's end line (`Command:`, error `Event:` or the next start)."),
    Column("end_time", UTC_TIMESTAMP, "Time of that end line."),
    Column("goal_record", pl.UInt32(), "Record of the goal state completing after the start."),
    Column("goal_time", UTC_TIMESTAMP, "Time of that goal-state line."),
    Column("handler_source", pl.Categorical(), "Handler log or status file that ended a background enable."),
    Column("handler_line", pl.UInt32(), "Its line number."),
    Column("handler_time", UTC_TIMESTAMP, "Its time."),
    Column("handler_message", pl.String(), "Its text."),
)

OPERATION_LINE_COLUMNS: tuple[Column, ...] = (
    Column("record", pl.UInt32(), "Record of the line (as in `records`)."),
    Column("source_path", pl.Categorical(), "File of the line."),
    Column("line_first", pl.UInt32(), "Its first line number."),
    Column("line_last", pl.UInt32(), "Its last line number."),
    Column("timestamp", UTC_TIMESTAMP, "Its time (lines without one are left out)."),
    Column("level", Level, "Its level."),
    Column("kind", pl.Categorical(), "Which frame it comes from (`records`' `kind`)."),
    Column("extension", pl.Categorical(), "Extension as the agent names it."),
    Column("extension_version", pl.Categorical(), "Handler version from the agent's prefix."),
    Column(
        "message",
        pl.Categorical(),
        "The line's text; null for a goal-state line that cannot end a slow operation "
        "(`loglens.operations.QUIET_GOAL_GAP`).",
    ),
    Column("is_start", pl.Boolean(), "It starts an operation (`Enable extension: [...]`, ...)."),
    Column("is_end", pl.Boolean(), "It ends one (`Command: ...`, or the error `Event:`)."),
    Column("is_goal_done", pl.Boolean(), "The agent finished a goal state."),
    Column("is_all_done", pl.Boolean(), "Every extension of the goal state reached a terminal state (2.5+)."),
    Column("operation", pl.Categorical(), "For a start: Install, Enable, Update, Disable or Uninstall."),
    Column("end_failed", pl.Boolean(), "For an end: the error `Event:` rather than `Command:`."),
)

VERSION_COLUMNS: tuple[Column, ...] = (
    _COLLECTION,
    Column(
        "component", pl.String(), "`WALinuxAgent (daemon)`, `WALinuxAgent (extension handler)` or an extension name."
    ),
    Column("version", pl.String(), "The version seen."),
    Column("source_path", pl.String(), "File it was seen in."),
    Column("first_seen", UTC_TIMESTAMP, "First timestamped record naming this version in that file."),
    Column("last_seen", UTC_TIMESTAMP, "Last such record."),
)

_EXTENSION_FACT = pl.Struct(
    {"name": pl.String(), "version": pl.String(), "status": pl.String(), "requested": pl.String()}
)
FACT_COLUMNS: tuple[Column, ...] = (
    _COLLECTION,
    Column("agent_package", pl.String(), "Daemon (package) version, from its banner or `waagent --version`."),
    Column("goal_state_agent", pl.String(), "Goal-state (extension handler) agent version last seen."),
    Column("distro", pl.String(), "Distribution as the agent states it."),
    Column("auto_update", pl.String(), "`AutoUpdate.Enabled` as configured, or the default."),
    Column("extensions_enabled", pl.String(), "`Extensions.Enabled` as configured, or the default."),
    Column(
        "extensions",
        pl.List(_EXTENSION_FACT),
        "Each extension seen: newest version, last status, and the version the goal state requests (if read).",
    ),
    Column("first_seen", UTC_TIMESTAMP, "First timestamped record of the collection."),
    Column("last_seen", UTC_TIMESTAMP, "Last timestamped record of the collection."),
)

#: One episode of a recurring incident.
EPISODE = pl.Struct({"first_seen": UTC_TIMESTAMP, "last_seen": UTC_TIMESTAMP, "count": pl.Int64()})

FINDING_COLUMNS: tuple[Column, ...] = (
    Column("finding", pl.UInt32(), "Position in report order (severity, category, time, rule); joins `evidence`."),
    _COLLECTION,
    Column("rule", pl.String(), "Rule id (`loglens rules ID` documents it)."),
    Column("category", pl.String(), "One of the categories in `loglens.knowledge.CATEGORIES`."),
    Column("severity", pl.String(), "error, warning or info."),
    Column("title", pl.String(), "The rule's title."),
    Column("summary", pl.String(), "One sentence about this occurrence (redacted)."),
    Column("extension", pl.String(), "Extension (or WALinuxAgent) the finding is about, if any."),
    Column("version", pl.String(), "Its version, if known."),
    Column("first_seen", UTC_TIMESTAMP, "Earliest timestamp of its evidence."),
    Column("last_seen", UTC_TIMESTAMP, "Latest timestamp of its evidence."),
    Column("count", pl.Int64(), "Occurrences."),
    Column("explanation", pl.String(), "What the rule detects and why it matters (from its documentation)."),
    Column("remediation", pl.String(), "What to do."),
    Column("docs", pl.String(), "Documentation link."),
    Column("related", pl.List(pl.String()), "Rules with findings about the same extension close in time."),
    Column(
        "episodes",
        pl.List(EPISODE),
        "A recurring incident's episodes (`loglens.recurring`): each one's first_seen, last_seen and "
        "count, in time order; empty for a single occurrence.",
    ),
    Column("records", pl.List(pl.UInt32()), "Record ids the finding explains (kept out of 'other errors')."),
)

EVIDENCE_COLUMNS: tuple[Column, ...] = (
    Column("finding", pl.UInt32(), "The finding it proves."),
    Column("rank", pl.UInt32(), "Order among the finding's evidence (by time)."),
    Column("path", pl.String(), "File of the line."),
    Column("line", pl.UInt32(), "Line number, when the source has lines."),
    Column("timestamp", UTC_TIMESTAMP, "Time of the line."),
    Column("level", Level, "Level of the line."),
    Column("text", pl.String(), "The record's text, redacted and cut at `findings.MAX_EVIDENCE_CHARS`."),
)

OTHER_ERROR_COLUMNS: tuple[Column, ...] = (
    Column("template", pl.String(), "Message with numbers, GUIDs, paths and versions masked (redacted)."),
    Column("count", pl.Int64(), "Error and warning records with this template that no finding explains."),
    Column("path", pl.String(), "File of the first example."),
    Column("line", pl.UInt32(), "Line of the first example."),
    Column("text", pl.String(), "The first example's text (redacted)."),
)

_VM = Column("vm", pl.String(), "The VM: its collection's path relative to the fleet source (`vm-042`, `eu/vm-7.zip`).")
#: One per VM of a fleet run (`loglens fleet`): `vms/` in the dataset.
FLEET_VM_COLUMNS: tuple[Column, ...] = (
    _VM,
    Column("source", pl.String(), "The fleet source it came from, as given (directory, glob or `az://` URL)."),
    Column("location", pl.String(), "The collection itself: absolute path or `az://` URL."),
    Column(
        "fingerprint", pl.String(), "Files, bytes and newest time (or ETags) when listed: a rerun skips equal ones."
    ),
    Column("loglens_version", pl.String(), "loglens version that analysed it (a rerun redoes other versions)."),
    Column("status", pl.String(), "ok, or failed (see `error`)."),
    Column("failure", pl.String(), "For failed VMs: `input` (the collection cannot be analysed) or `task` (retried)."),
    Column("error", pl.String(), "Why it failed, one line (redacted)."),
    Column("agent_version", pl.String(), "Daemon (package) version of the agent."),
    Column("goal_state_agent", pl.String(), "Goal-state (extension handler) agent version last seen."),
    Column("distro", pl.String(), "Distribution as the agent states it."),
    Column("extensions", pl.List(_EXTENSION_FACT), "Each extension: newest version, last status, requested version."),
    Column("files", pl.Int64(), "Source files read."),
    Column("lines", pl.Int64(), "Physical lines read."),
    Column("unparsed", pl.Int64(), "Lines not recognised."),
    Column("warnings", pl.Int64(), "Input warnings and rule failures."),
    Column("errors", pl.Int64(), "Findings of severity error."),
    Column("warning_findings", pl.Int64(), "Findings of severity warning."),
    Column("infos", pl.Int64(), "Findings of severity info."),
    Column("first_seen", UTC_TIMESTAMP, "First timestamped record."),
    Column("last_seen", UTC_TIMESTAMP, "Last timestamped record."),
    Column("seconds", pl.Float64(), "Analysis time on the worker, download included."),
    Column("report", pl.String(), "This VM's own HTML report, relative to the dataset (`--per-vm-html`)."),
)
#: Fleet rows per finding, evidence line and unexplained error template: `vm` joins `vms`.
FLEET_FINDING_COLUMNS: tuple[Column, ...] = (_VM, *(c for c in FINDING_COLUMNS if c.name != "records"))
FLEET_EVIDENCE_COLUMNS: tuple[Column, ...] = (_VM, *EVIDENCE_COLUMNS)
FLEET_OTHER_ERROR_COLUMNS: tuple[Column, ...] = (_VM, *OTHER_ERROR_COLUMNS)

#: Fleet dataset part -> columns (`loglens.fleets.dataset`).
FLEET_SCHEMAS: dict[str, tuple[Column, ...]] = {
    "vms": FLEET_VM_COLUMNS,
    "findings": FLEET_FINDING_COLUMNS,
    "evidence": FLEET_EVIDENCE_COLUMNS,
    "other_errors": FLEET_OTHER_ERROR_COLUMNS,
}

#: Derived frame name -> columns, in pipeline order.
DERIVED_SCHEMAS: dict[str, tuple[Column, ...]] = {
    "records": RECORD_COLUMNS,
    "spans": SPAN_COLUMNS,
    "timeline": TIMELINE_COLUMNS,
    "operation_lines": OPERATION_LINE_COLUMNS,
    "operations": OPERATION_COLUMNS,
    "versions": VERSION_COLUMNS,
    "facts": FACT_COLUMNS,
    "findings": FINDING_COLUMNS,
    "evidence": EVIDENCE_COLUMNS,
    "other_errors": OTHER_ERROR_COLUMNS,
}

_PURPOSE = {
    "records": "Every log-like row of the parser frames stacked on their common columns (`loglens.records`). "
    "`loglens analyze` streams the text logs and keeps only the rows some rule may read (`loglens.pipeline`).",
    "spans": "Per source, extension and version: when records named them and how many (`loglens.summaries`); "
    "what versions and facts read instead of every record.",
    "timeline": "Records per source, minute and level (`loglens.summaries`); the events chart reads it.",
    "operation_lines": "The lines that start or end an extension operation (`loglens.operations.lines`) that a "
    "finding may cite: those of every operation that was slow, or not yet ended, when its lines were paired "
    "(`loglens.pairing`). A rule's context holds them compressed (`loglens.packed.PackedFrame`; `read()` gives "
    "this frame).",
    "operations": "Extension operations and how long they took: every operation line paired as the agent's log "
    "streams past (`loglens.pairing`), then finished (`loglens.operations`). A context holds them compressed "
    "(`Context.measured`); `operations` reads them all back, `operations_where` the rows a filter keeps.",
    "versions": "Agent and extension versions over time (`loglens.versions`).",
    "facts": "What the logs say about each VM (`loglens.facts`).",
    "findings": "One row per finding (`loglens.findings`); every output is a view of it.",
    "evidence": "The lines that prove each finding.",
    "other_errors": "Errors and warnings no rule explains, grouped by message template.",
}

__all__ = ["DERIVED_SCHEMAS", "conform", "empty_frame", "render_markdown"]


def render_markdown() -> str:
    """docs/schema.md: the parser frames, then the derived frames."""
    out = [
        render_parser_frames("`parsers/formats/`, `parsers/schema.py` and `loglens/schema.py`"),
        "# Derived frames",
        "",
    ]
    for name, columns in DERIVED_SCHEMAS.items():
        out += [f"## `{name}`", "", _PURPOSE[name], "", *column_table(columns), ""]
    out += ["# Fleet dataset", "", _FLEET_INTRO, ""]
    for name, columns in FLEET_SCHEMAS.items():
        out += [f"## `{name}/`", "", *column_table(columns), ""]
    return "\n".join(out)


_FLEET_INTRO = (
    "`loglens fleet SOURCE... --out DIR` writes one Parquet file per VM and part: "
    "`DIR/<part>/<vm stem>.parquet`, readable as one table by `pl.scan_parquet('DIR/findings/*.parquet')`, "
    "DuckDB (`read_parquet('DIR/findings/*.parquet')`) or Spark (`spark.read.parquet('DIR/findings')`). "
    "`vm` joins the parts; `(vm, finding)` joins `findings` and `evidence`."
)


if __name__ == "__main__":
    print(render_markdown())

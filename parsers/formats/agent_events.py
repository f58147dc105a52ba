"""The agent's own telemetry events: `/var/lib/waagent/events/*.tld` (agent 2.2.x and later).

The agent saves each event it could not send yet as one JSON file, `<microseconds>.waagent.tld`
(`<microseconds>.tld` before 2.2.53; the reference's waagent-log.md lists the folder), the
`TelemetryEvent` shape of `azurelinuxagent/common/telemetryevent.py`: `eventId`, `providerId` and
a `parameters` list of `{"name", "value"}`. Event 1 is an extension or agent operation (`Name`,
`Version`, `Operation`, `OperationSuccess`, `Message`, `Duration`; the time in `OpcodeName`, as
the agent's `add_common_event_parameters` stores it), the same outcome the agent logs as an
`Event:` line; event 7 is a log line (`Context1`, level in `CapabilityUsed`, time in `Context2`);
event 4 is a performance counter, which says nothing about failures and is skipped.

Each operation or log event becomes an `extension_logs` row (`log_format` `event`), like an
extension's own telemetry event: a failed operation is an ERROR row naming its extension and
operation, so the rules that read extension events read it too. The agent's own operations
(`Name` `WALinuxAgent`) name no extension, as in `parsers.event_fields`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import polars as pl
import regex

from parsers import schema, sniff
from parsers.documents import Document, json_documents, reject, rows_to_frame, text_of
from parsers.formats.declaration import Clue, Format
from parsers.reader import Source, SourceAccount

KIND = "agent_event"
#: `1741947633123456.waagent.tld`, or `.tld` alone (agents before 2.2.53, and events collected from extensions).
_FILE = regex.compile(r"^(?P<micros>\d+)?.*\.tld$")
_OPERATION, _METRIC, _LOG = 1, 4, 7
_LOG_LEVELS = {"verbose": "VERBOSE", "info": "INFO", "warning": "WARNING", "error": "ERROR"}
_AGENT = "WALinuxAgent"


def read_agent_events(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Event rows (schema ``EXTENSION_LOG_COLUMNS``) and accounting; one file is one event."""
    rows, accounts = [], []
    for document, value in json_documents(sources, KIND, accounts):
        row = _row(value, document)
        if row is not None:
            rows.append(row)
    return rows_to_frame(rows, schema.EXTENSION_LOG_COLUMNS, timestamp="timestamp"), accounts


def _row(value: Any, document: Document) -> dict | None:
    """The row one event file gives; None (the file accounted) for a metric or a non-event."""
    fields = _parameters(value)
    if fields is None:
        reject(document, "JSON is not an agent telemetry event (no `eventId` and `parameters`)")
        return None
    event_id = value.get("eventId")
    if event_id == _METRIC or event_id not in (_OPERATION, _LOG):
        # Understood, but a counter sample (or an event kind no agent writes to disk) says nothing here.
        account = document.account
        account.records = account.continuations = 0
        account.skipped = account.lines
        return None
    base = {
        "source_path": document.source.name,
        "line_first": 1,
        "line_last": max(document.lines, 1),
        "log_format": "event",
        "timestamp": fields.get("OpcodeName") or _time_of_name(document.source.logical_path),
    }
    if event_id == _LOG:
        level = _LOG_LEVELS.get((fields.get("CapabilityUsed") or "").lower())
        timestamp = fields.get("Context2") or base["timestamp"]
        return {**base, "timestamp": timestamp, "level": level, "message": fields.get("Context1")}
    name = fields.get("Name")
    failed = str(fields.get("OperationSuccess")).lower() == "false"
    return {
        **base,
        "level": "ERROR" if failed else "INFO",
        "message": fields.get("Message"),
        "operation": fields.get("Operation"),
        "extension": name if name and name != _AGENT else None,
        "extension_version": fields.get("Version"),
    }


def _parameters(value: Any) -> dict[str, str] | None:
    """The event's `parameters` as name -> text, or None when ``value`` is no telemetry event."""
    if not isinstance(value, dict) or "eventId" not in value or not isinstance(value.get("parameters"), list):
        return None
    pairs = (p for p in value["parameters"] if isinstance(p, dict) and isinstance(p.get("name"), str))
    return {p["name"]: _text(p.get("value")) for p in pairs}


def _text(value: Any) -> str | None:
    # The agent writes OperationSuccess as a JSON boolean: keep it as the agent spells it.
    return ("true" if value else "false") if isinstance(value, bool) else text_of(value)


def _time_of_name(path: PurePosixPath) -> str | None:
    """The time in the file's name (microseconds since the epoch), for events without `OpcodeName`."""
    match = _FILE.match(path.name)
    if not match or not match["micros"] or len(match["micros"]) != 16:
        return None
    return datetime.fromtimestamp(int(match["micros"]) / 1e6, UTC).isoformat()


def _is_event_json(head: bytes) -> bool:
    return sniff.is_json(head) and b'"providerId"' in head and b'"eventId"' in head and b'"parameters"' in head


FORMAT = Format(
    name=KIND,
    summary="The agent's pending telemetry events: one extension or agent operation (or log line) per file.",
    frames=(("extension_logs", schema.EXTENSION_LOG_COLUMNS),),
    read=lambda sources, options: read_agent_events(sources),
    paths=(
        Clue(
            65,
            lambda path: path.parent.name == "events" and bool(_FILE.match(path.name)),
            "`/var/lib/waagent/events/*.tld`, `*.waagent.tld`",
        ),
    ),
    sniffs=(Clue(55, _is_event_json, 'JSON with `"eventId"`, `"providerId"` and `"parameters"`'),),
    record_kind="extension_log",
    samples=(
        "tests/fixtures/formats/var/lib/waagent/events/1741947633123456.waagent.tld",
        "tests/fixtures/formats/var/lib/waagent/events/1741947640000000.tld",
    ),
)

"""Extension telemetry events: `/var/log/azure/<extension>/events/*.json`.

Extensions hand their telemetry to the agent as small JSON files, an array of events, each with
`Timestamp`, `EventLevel`, `TaskName`, `Message` and ids (reference extension-logs.md). The log
collector keeps them, and they often hold the one line that says why an operation failed. Each
event becomes a row of the `extension_logs` frame (`log_format` `event`), the extension taken from
the folder the file sits in.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from parsers import schema, sniff
from parsers.documents import json_documents, reject, rows_to_frame, text_of
from parsers.formats.declaration import Clue, Format
from parsers.formats.extension_logs import extension_from_path, in_extension_log_folder
from parsers.reader import Source, SourceAccount

KIND = "extension_event"
_LEVELS = {"informational": "INFO", "info": "INFO", "warning": "WARNING", "error": "ERROR", "verbose": "VERBOSE"}


def read_extension_events(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Event rows (schema ``EXTENSION_LOG_COLUMNS``) and accounting."""
    rows, accounts = [], []
    for document, value in json_documents(sources, KIND, accounts):
        source = document.source
        events = [e for e in (value if isinstance(value, list) else [value]) if isinstance(e, dict) and "Message" in e]
        if not events:
            reject(document, "JSON holds no extension event (no `Message`)")
            continue
        extension, version = extension_from_path(source.logical_path)
        base = {"source_path": source.name, "line_first": 1, "line_last": max(document.lines, 1), "log_format": "event"}
        rows += [
            {
                **base,
                "timestamp": text_of(event.get("Timestamp")),
                "level": _LEVELS.get((text_of(event.get("EventLevel")) or "").lower()),
                "message": text_of(event.get("Message")),
                "operation": text_of(event.get("TaskName")),
                "extension": extension,
                "extension_version": text_of(event.get("Version")) if version is None else version,
            }
            for event in events
        ]
    return rows_to_frame(rows, schema.EXTENSION_LOG_COLUMNS, timestamp="timestamp"), accounts


FORMAT = Format(
    name=KIND,
    summary="An extension's telemetry events, JSON files the agent collects from its `events/` folder.",
    frames=(("extension_logs", schema.EXTENSION_LOG_COLUMNS),),
    read=lambda sources, options: read_extension_events(sources),
    paths=(
        Clue(
            60,
            lambda path: in_extension_log_folder(path) and path.parent.name == "events" and path.name.endswith(".json"),
            "`/var/log/azure/<extension>/events/*.json`",
        ),
    ),
    sniffs=(
        Clue(
            50,
            lambda head: sniff.is_json(head) and b'"TaskName"' in head and b'"EventLevel"' in head,
            'JSON with `"TaskName"` and `"EventLevel"`',
        ),
    ),
    record_kind="extension_log",
    samples=(
        "tests/fixtures/formats/var/log/azure/Microsoft.Azure.Monitor.AzureMonitorLinuxAgent/events/"
        "1741947633123.json",
    ),
)

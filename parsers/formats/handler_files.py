"""Files under `/var/lib/waagent/<Publisher.Type-Version>/` (reference: extension-logs.md, 2).

* `status/<seq>.status` and multi-config `status/<name>.<seq>.status`: the extension's status,
  read as the agent reads it (element 0 of a JSON array; unknown status values count as `error`;
  `code` as number or string).
* `config/HandlerState` / `config/HandlerStatus` (and `<name>.HandlerState`): the agent's view.
* `config/<seq>.settings`: only whether protected settings are present and their certificate
  thumbprint; the protected value itself is never put in a frame, and public setting values
  are not kept either (they can hold SAS URLs), only their names.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

import polars as pl
import regex

from parsers import schema, sniff
from parsers.documents import (
    Document,
    formatted_message,
    int_of,
    parse_json,
    read_document,
    reject,
    rows_to_frame,
    text_of,
)
from parsers.formats.declaration import Clue, Format
from parsers.reader import Source, SourceAccount

#: `<Publisher.Type>-<version>` handler directory under /var/lib/waagent.
HANDLER_DIR = regex.compile(r"^(?P<ext>[A-Za-z][\w.]*?)-(?P<ver>\d+(?:\.\d+)*)$")
STATUS_FILE = regex.compile(r"^(?:(?P<config>.+)\.)?(?P<seq>\d+)\.status$")
SETTINGS_FILE = regex.compile(r"^(?:(?P<config>.+)\.)?(?P<seq>\d+)\.settings$")
HANDLER_STATE_FILE = regex.compile(r"^(?:(?P<config>.+)\.)?Handler(?P<which>State|Status)$")

_LEVEL_OF_STATUS = {"error": "ERROR", "warning": "WARNING", "success": "INFO", "transitioning": "INFO"}


def handler_of(path: PurePosixPath) -> tuple[str | None, str | None]:
    """(extension, version) from the `<Publisher.Type>-<version>` directory two levels up."""
    match = HANDLER_DIR.match(path.parts[-3]) if len(path.parts) >= 3 else None
    return (match["ext"], match["ver"]) if match else (None, None)


def read_status_files(sources: Iterable[Source]) -> tuple[pl.DataFrame, pl.DataFrame, list[SourceAccount]]:
    """Status snapshots (schema ``STATUS_COLUMNS``), their substatus entries and the accounting."""
    rows, subrows, accounts = [], [], []
    for source in sources:
        document = read_document(source, "status")
        accounts.append(document.account)
        base = _file_identity(source, STATUS_FILE.match(source.logical_path.name))
        value = parse_json(document)
        span = {"line_first": 1, "line_last": max(document.lines, 1)}
        if value is None:
            if document.text.strip():
                # Kept visible the way the agent reports it: the start of the unparsable text.
                rows.append({**base, **span, "message": document.text[:2000], "level": "ERROR"})
            continue
        entry = _first_status(value, document)
        if entry is None:
            continue
        status = entry.get("status") if isinstance(entry.get("status"), dict) else {}
        reported = text_of(status.get("status"))
        normalized = reported if reported in schema.STATUS_VALUES else ("error" if reported is not None else None)
        substatus = status.get("substatus") if isinstance(status.get("substatus"), list) else []
        rows.append(
            {
                **base,
                **span,
                "timestamp": text_of(entry.get("timestampUTC")),
                "timestamp_local_assumed": False,
                "level": _LEVEL_OF_STATUS.get(normalized or ""),
                "operation": text_of(status.get("operation")),
                "message": formatted_message(status),
                "status": normalized,
                "status_reported": reported,
                "code": int_of(status.get("code")),
                "status_name": text_of(status.get("name")),
                "substatus_count": len(substatus),
            }
        )
        for item in substatus:
            if isinstance(item, dict):
                subrows.append(
                    {
                        **base,
                        "name": text_of(item.get("name")),
                        "status": text_of(item.get("status")),
                        "code": int_of(item.get("code")),
                        "message": formatted_message(item),
                    }
                )
    frame = rows_to_frame(rows, schema.STATUS_COLUMNS, timestamp="timestamp")
    return frame, rows_to_frame(subrows, schema.SUBSTATUS_COLUMNS), accounts


def _first_status(value: Any, document: Document) -> dict | None:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    if isinstance(value, dict):
        document.account.warn("status is a JSON object, not the array the agent expects; read anyway")
        return value
    reject(document, "JSON is not a status document (expected an array of status objects)")
    return None


def _file_identity(source: Source, match: regex.Match | None, *, sequence: bool = True) -> dict:
    """The columns that name a handler file.

    Path, extension and version come from the handler directory; the sequence number and the
    multi-config name from the file name's ``match``.
    """
    extension, version = handler_of(source.logical_path)
    row = {"source_path": source.name, "extension": extension, "extension_version": version}
    if sequence:
        row["sequence"] = int(match["seq"]) if match else None
    row["config_name"] = match["config"] if match else None
    return row


def read_handler_state(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """HandlerState and HandlerStatus files (schema ``HANDLER_STATE_COLUMNS``)."""
    rows, accounts = [], []
    for source in sources:
        match = HANDLER_STATE_FILE.match(source.logical_path.name)
        row = _file_identity(source, match, sequence=False)
        if match and match["which"] == "State":
            document = read_document(source, "handler_state")
            state = document.text.strip()
            if state:
                document.account.records, document.account.skipped = 1, document.lines - 1
                rows.append({**row, "state": state})
            else:
                document.account.skipped = document.lines
                if not document.account.warnings:
                    document.account.warn("file is empty" if not document.text else "holds no state (blank lines only)")
        else:
            document = read_document(source, "handler_status")
            value = parse_json(document)
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, dict):
                rows.append(
                    {
                        **row,
                        "handler_status": text_of(value.get("status")),
                        "code": int_of(value.get("code")),
                        "message": formatted_message(value),
                    }
                )
            elif value is not None:
                reject(document, "JSON is not a HandlerStatus document (expected a status object)")
        accounts.append(document.account)
    return rows_to_frame(rows, schema.HANDLER_STATE_COLUMNS), accounts


def read_settings(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Settings files: presence and thumbprint of protected settings, names of public ones."""
    rows, accounts = [], []
    for source in sources:
        document = read_document(source, "settings")
        accounts.append(document.account)
        row = _file_identity(source, SETTINGS_FILE.match(source.logical_path.name))
        row["empty"] = not document.text.strip()
        if row["empty"]:
            # Cleared after use (CustomScript) or an extension without settings: expected, not a warning.
            document.account.skipped = document.lines
            rows.append(row)
            continue
        value = parse_json(document)
        handler = _handler_settings(value)
        if handler is None:
            if value is not None:
                reject(document, "JSON is not a settings document (no runtimeSettings[0].handlerSettings)")
            continue
        protected = handler.get("protectedSettings")
        thumbprint = text_of(handler.get("protectedSettingsCertThumbprint"))
        public = handler.get("publicSettings")
        rows.append(
            {
                **row,
                "has_protected_settings": bool(protected) and protected != "*** REDACTED ***",
                # Extensions that scrub settings write the same marker in place of the thumbprint.
                "protected_settings_thumbprint": None if thumbprint == "*** REDACTED ***" else thumbprint,
                "public_setting_keys": sorted(public) if isinstance(public, dict) else [],
            }
        )
        del protected  # never kept beyond this point
    return rows_to_frame(rows, schema.SETTINGS_COLUMNS), accounts


def _handler_settings(value: Any) -> dict | None:
    try:
        handler = value["runtimeSettings"][0]["handlerSettings"]
    except (TypeError, KeyError, IndexError):
        return None
    return handler if isinstance(handler, dict) else None


def _in_handler_dir(folder: str, file: regex.Pattern):
    """A path test: `<Publisher.Type>-<version>/<folder>/<file>`."""

    def test(path: PurePosixPath) -> bool:
        parts = path.parts
        in_handler = len(parts) >= 3 and bool(HANDLER_DIR.match(parts[-3]))
        return in_handler and parts[-2] == folder and bool(file.match(path.name))

    return test


def _is_status_array(head: bytes) -> bool:
    text = head.lstrip()
    return text[:1] == b"[" and (b'"formattedMessage"' in head or (b'"operation"' in head and b'"status"' in head))


_HANDLER = "/var/lib/waagent/<Publisher.Type>-<version>"
_SAMPLE = "sample_logs/vm-modern/var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10"
FORMATS = (
    Format(
        name="status",
        summary="An extension's status file, as the agent reads it.",
        frames=(("status", schema.STATUS_COLUMNS), ("substatus", schema.SUBSTATUS_COLUMNS)),
        read=lambda sources, options: read_status_files(sources),
        paths=(Clue(50, _in_handler_dir("status", STATUS_FILE), f"`{_HANDLER}/status/[<name>.]<n>.status`"),),
        sniffs=(Clue(60, _is_status_array, 'JSON array with `"formattedMessage"`, or `"operation"` and `"status"`'),),
        record_kind="status",
        samples=(f"{_SAMPLE}/status/3.status",),
    ),
    Format(
        name="handler_state",
        summary="The agent's view of a handler (`HandlerState`, `HandlerStatus`).",
        frames=(("handler_state", schema.HANDLER_STATE_COLUMNS),),
        read=lambda sources, options: read_handler_state(sources),
        paths=(Clue(52, _in_handler_dir("config", HANDLER_STATE_FILE), f"`{_HANDLER}/config/HandlerState`"),),
        samples=(f"{_SAMPLE}/config/HandlerState",),
    ),
    Format(
        name="settings",
        summary="An extension's settings: whether protected settings are there, and public setting names only.",
        frames=(("settings", schema.SETTINGS_COLUMNS),),
        read=lambda sources, options: read_settings(sources),
        paths=(Clue(51, _in_handler_dir("config", SETTINGS_FILE), f"`{_HANDLER}/config/[<name>.]<n>.settings`"),),
        samples=(f"{_SAMPLE}/config/3.settings",),
    ),
)

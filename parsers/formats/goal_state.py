"""What the goal state asks for, from the agent's own copies of it (reference waagent-log.md, 7).

* `ExtensionsConfig.<n>.xml` / `ExtensionsConfig.xml` (WireServer goal states): each
  `<Plugins><Plugin name= version= state= autoUpgrade=>` becomes a row. `<PluginSettings>` holds
  the (encrypted) protected settings and `<StatusUploadBlob>` a SAS URL: neither is read.
* `VmSettings.json` / `VmSettings.<etag>.json` (HostGAPlugin, FastTrack): each entry of
  `extensionGoalStates` becomes a row; its `settings` are not read.
* `HandlerManifest.json` and `HandlerEnvironment.json` under `<Publisher.Type>-<version>/`: the
  handler's update mode and commands, and the log folder the agent gave it.

These say which version and state the platform requested, to set beside what ran.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree

import polars as pl
import regex

from parsers import schema, sniff
from parsers.documents import json_documents, parse_json, read_document, reject, rows_to_frame, text_of
from parsers.formats.declaration import Clue, Format
from parsers.formats.handler_files import HANDLER_DIR
from parsers.reader import Source, SourceAccount

#: The agent's copies of the goal state (top of /var/lib/waagent, or history/): ExtensionsConfig, VmSettings.
_GOAL_STATE_FILE = regex.compile(r"^(?:ExtensionsConfig(?:\.\d+)?\.xml|VmSettings(?:\.[\w-]+)?\.json)$")
#: `ExtensionsConfig.12.xml` -> incarnation 12.
_INCARNATION = regex.compile(r"\.(\d+)\.xml$")


def read_goal_states(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Requested extensions (schema ``GOAL_STATE_COLUMNS``) and accounting."""
    rows, accounts = [], []
    for source in sources:
        document = read_document(source, "goal_state")
        accounts.append(document.account)
        if not document.text.strip():
            continue
        is_xml = document.text.lstrip().startswith("<")
        found = _extensions_config(source, document) if is_xml else _vm_settings(source, document)
        if found is None:
            continue
        document.account.records, document.account.continuations = 1, max(document.lines - 1, 0)
        rows += found
    return rows_to_frame(rows, schema.GOAL_STATE_COLUMNS), accounts


def _extensions_config(source: Source, document) -> list[dict] | None:
    try:
        root = ElementTree.fromstring(document.text)
    except ElementTree.ParseError as exc:
        reject(document, f"not well-formed XML ({exc})")
        return None
    incarnation = root.get("goalStateIncarnation") or next(iter(_INCARNATION.findall(source.logical_path.name)), None)
    plugins = root.findall("./Plugins/Plugin")
    if not plugins:
        reject(document, "ExtensionsConfig without `<Plugins>`")
        return None
    return [
        {
            "source_path": source.name,
            "goal_state": f"incarnation {incarnation}" if incarnation else None,
            "extension": plugin.get("name"),
            "extension_version": plugin.get("version"),
            "state": plugin.get("state"),
            "auto_upgrade": _flag(plugin.get("autoUpgrade")),
        }
        for plugin in plugins
    ]


def _vm_settings(source: Source, document) -> list[dict] | None:
    value = parse_json(document)
    if value is None:
        return None
    goal_states = value.get("extensionGoalStates") if isinstance(value, dict) else None
    if not isinstance(goal_states, list):
        reject(document, "VmSettings without `extensionGoalStates`")
        return None
    etag = text_of(value.get("etag") or value.get("activityId"))
    return [
        {
            "source_path": source.name,
            "goal_state": etag,
            "extension": text_of(entry.get("name")),
            "extension_version": text_of(entry.get("version")),
            "state": text_of(entry.get("state")),
            "auto_upgrade": _flag(entry.get("autoUpgrade")),
            "settings_sequence": entry.get("settingsSeqNo") if isinstance(entry.get("settingsSeqNo"), int) else None,
        }
        for entry in goal_states
        if isinstance(entry, dict)
    ]


def read_handler_manifests(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """`HandlerManifest.json` / `HandlerEnvironment.json` rows (``HANDLER_MANIFEST_COLUMNS``) and accounting."""
    rows, accounts = [], []
    for document, value in json_documents(sources, "handler_manifest", accounts):
        source = document.source
        entry = value[0] if isinstance(value, list) and value else value
        if not isinstance(entry, dict):
            reject(document, "not a handler manifest or environment document")
            continue
        match = HANDLER_DIR.match(source.logical_path.parts[-2]) if len(source.logical_path.parts) >= 2 else None
        base = {
            "source_path": source.name,
            "extension": match["ext"] if match else text_of(entry.get("name")),
            "extension_version": match["ver"] if match else None,
        }
        rows.append({**base, **_manifest_fields(entry)})
    return rows_to_frame(rows, schema.HANDLER_MANIFEST_COLUMNS), accounts


def _manifest_fields(entry: dict[str, Any]) -> dict[str, Any]:
    if isinstance(entry.get("handlerEnvironment"), dict):
        environment = entry["handlerEnvironment"]
        return {
            "file": "environment",
            "log_folder": text_of(environment.get("logFolder")),
            "events_folder": text_of(environment.get("eventsFolder")),
        }
    manifest = entry.get("handlerManifest") if isinstance(entry.get("handlerManifest"), dict) else {}
    return {
        "file": "manifest",
        "enable_command": text_of(manifest.get("enableCommand")),
        "update_mode": text_of(manifest.get("updateMode")) or "UpdateWithInstall",
        "continue_on_update_failure": _flag(manifest.get("continueOnUpdateFailure")),
        "supports_multiple_extensions": _flag(manifest.get("supportsMultipleExtensions")),
    }


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _is_vm_settings(head: bytes) -> bool:
    return sniff.is_json(head) and b'"extensionGoalStates"' in head


def _is_extensions_config(head: bytes) -> bool:
    return sniff.is_text(head) and head.lstrip().startswith(b"<") and b"<Extensions" in head and b"<Plugins>" in head


_WAAGENT = "/var/lib/waagent"
GOAL_STATE = Format(
    name="goal_state",
    summary="The agent's copies of the goal state: WireServer `ExtensionsConfig` XML, HostGAPlugin `VmSettings` JSON.",
    frames=(("goal_state", schema.GOAL_STATE_COLUMNS),),
    read=lambda sources, options: read_goal_states(sources),
    paths=(
        Clue(
            30,
            lambda path: bool(_GOAL_STATE_FILE.match(path.name)),
            f"`{_WAAGENT}/[history/<n>/]ExtensionsConfig[.<n>].xml`, `VmSettings[.<etag>].json`",
        ),
    ),
    sniffs=(
        Clue(40, _is_vm_settings, 'JSON with `"extensionGoalStates"`'),
        Clue(80, _is_extensions_config, "XML with `<Extensions` and `<Plugins>`"),
    ),
    samples=(
        "tests/fixtures/goal-state/var/lib/waagent/ExtensionsConfig.5.xml",
        "tests/fixtures/goal-state/var/lib/waagent/history/2025-06-11T03-02-10__incarnation_5/VmSettings.json",
    ),
)
_HANDLER = "tests/fixtures/goal-state/var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10"
HANDLER_MANIFEST = Format(
    name="handler_manifest",
    summary="A handler's `HandlerManifest.json` (update mode, commands) and `HandlerEnvironment.json` (log folder).",
    frames=(("handler_manifests", schema.HANDLER_MANIFEST_COLUMNS),),
    read=lambda sources, options: read_handler_manifests(sources),
    paths=(
        Clue(
            40,
            lambda path: path.name in ("HandlerManifest.json", "HandlerEnvironment.json"),
            f"`{_WAAGENT}/<Publisher.Type>-<version>/HandlerManifest.json`, `HandlerEnvironment.json`",
        ),
    ),
    samples=(f"{_HANDLER}/HandlerManifest.json", f"{_HANDLER}/HandlerEnvironment.json"),
)

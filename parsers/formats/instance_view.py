"""What Azure sees: `az vm get-instance-view` and `az vm show` JSON (reference: extension-logs.md, 3).

The instance view may be the whole command output, its `instanceView` object, or just the
`instanceView.extensions` list (`--query instanceView.extensions`). Each extension status,
substatus, handler status (`vmAgent.extensionHandlers`) and VM agent status becomes a row, with
`code` split into its parts and the message's `[stdout]`/`[stderr]` sections split out.
`az vm show` gives the VM model: each extension's requested `typeHandlerVersion` and its
`autoUpgradeMinorVersion` / `enableAutomaticUpgrade` settings (settings values are not kept).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from parsers import schema, sniff
from parsers.documents import parse_json, read_document, reject, rows_to_frame, text_of
from parsers.formats.declaration import Clue, Format
from parsers.reader import Source, SourceAccount

_LEVELS = {"info": "INFO", "warning": "WARNING", "error": "ERROR"}
#: `[stdout]` and `[stderr]` sections of a status message (CustomScript, agent errors).
_STDOUT = r"(?s)\[stdout\]\n(.*?)(?:\n\[stderr\]|$)"
_STDERR = r"(?s)\[stderr\]\n(.*)$"


def read_instance_views(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Instance-view rows (schema ``INSTANCE_VIEW_COLUMNS``) and accounting."""
    rows, accounts = [], []
    for source in sources:
        document = read_document(source, "instance_view")
        accounts.append(document.account)
        value = parse_json(document, keep_text=True)
        if value is None:
            if document.account.records:
                # A fragment cut out of an instance view still shows the statuses: keep its text.
                span = {"line_first": 1, "line_last": max(document.lines, 1)}
                rows.append({"source_path": source.name, **span, "scope": "text", "message": document.text})
            continue
        view = value.get("instanceView", value) if isinstance(value, dict) else value
        if _is_one_extension(view):
            # One element of `instanceView.extensions`, pasted on its own: its statuses are its own.
            view = [view]
        extensions = view.get("extensions") if isinstance(view, dict) else view
        if not isinstance(extensions, list) and not (isinstance(view, dict) and "vmAgent" in view):
            reject(document, "JSON has no instanceView.extensions list")
            continue
        base = {"source_path": source.name, "line_first": 1, "line_last": max(document.lines, 1)}
        for extension in extensions if isinstance(extensions, list) else []:
            if not isinstance(extension, dict):
                continue
            who = {
                **base,
                "name": text_of(extension.get("name")),
                "extension": text_of(extension.get("type")),
                "extension_version": text_of(extension.get("typeHandlerVersion")),
            }
            rows += [_status_row(who, s, "extension") for s in _list(extension.get("statuses"))]
            rows += [_status_row(who, s, "substatus") for s in _list(extension.get("substatuses"))]
        if isinstance(view, dict):
            # VM-level statuses carry deployment results such as VMExtensionProvisioningTimeout.
            who = {**base, "name": text_of(value.get("name")) if isinstance(value, dict) else None}
            rows += [_status_row(who, s, "vm") for s in _list(view.get("statuses"))]
        agent = view.get("vmAgent") if isinstance(view, dict) else None
        if isinstance(agent, dict):
            who = {**base, "extension": "WALinuxAgent", "extension_version": text_of(agent.get("vmAgentVersion"))}
            rows += [_status_row(who, s, "vm-agent") for s in _list(agent.get("statuses"))]
            for handler in _list(agent.get("extensionHandlers")):
                who = {
                    **base,
                    "extension": text_of(handler.get("type")),
                    "extension_version": text_of(handler.get("typeHandlerVersion")),
                }
                if isinstance(handler.get("status"), dict):
                    rows.append(_status_row(who, handler["status"], "handler"))
    frame = rows_to_frame(rows, schema.INSTANCE_VIEW_COLUMNS, timestamp="timestamp")
    return _split_fields(frame), accounts


def _is_one_extension(view: Any) -> bool:
    """An extension's own instance view (`name`, `type`, `typeHandlerVersion`, `statuses`), not a VM's."""
    return (
        isinstance(view, dict)
        and "extensions" not in view
        and "vmAgent" not in view
        and isinstance(view.get("statuses"), list)
        and ("typeHandlerVersion" in view or "type" in view)
    )


def _list(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _status_row(who: dict, status: dict, scope: str) -> dict:
    return {
        **who,
        "scope": scope,
        "code": text_of(status.get("code")),
        "display_status": text_of(status.get("displayStatus")),
        "level": _LEVELS.get((text_of(status.get("level")) or "").lower()),
        "message": text_of(status.get("message")),
        "timestamp": text_of(status.get("time")),
        "timestamp_local_assumed": False,
    }


def _split_fields(frame: pl.DataFrame) -> pl.DataFrame:
    """Code parts (`ProvisioningState/failed/0`) and the message's output sections, vectorised."""
    parts = pl.col("code").str.split("/")
    message = pl.col("message")
    return frame.with_columns(
        code_kind=parts.list.get(0, null_on_oob=True),
        code_state=parts.list.get(1, null_on_oob=True),
        code_number=parts.list.get(2, null_on_oob=True).cast(pl.Int64, strict=False),
        stdout=message.str.extract(_STDOUT, 1),
        stderr=message.str.extract(_STDERR, 1),
        # The operation is the message's leading verb when it has the `Enable failed:` form.
        operation=message.str.extract(r"^(Install|Enable|Disable|Update|Uninstall)\b", 1),
    )


def read_vm_models(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Extensions of the VM model from `az vm show` (schema ``VM_EXTENSION_COLUMNS``)."""
    rows, accounts = [], []
    for source in sources:
        document = read_document(source, "vm_show")
        accounts.append(document.account)
        value = parse_json(document)
        if not isinstance(value, dict):
            if value is not None:
                reject(document, "JSON is not an `az vm show` object")
            continue
        for resource in _list(value.get("resources")):
            # `az` renames the extension's own `type` to `typePropertiesType` (ARM keeps both names).
            kind = text_of(resource.get("typePropertiesType")) or text_of(resource.get("type"))
            if kind and "/" in kind:
                kind = None
            publisher = text_of(resource.get("publisher"))
            rows.append(
                {
                    "source_path": source.name,
                    "vm_name": text_of(value.get("name")),
                    "name": text_of(resource.get("name")),
                    "extension": f"{publisher}.{kind}" if publisher and kind else kind,
                    "type_handler_version": text_of(resource.get("typeHandlerVersion")),
                    "auto_upgrade_minor_version": resource.get("autoUpgradeMinorVersion"),
                    "enable_automatic_upgrade": resource.get("enableAutomaticUpgrade"),
                    "provisioning_state": text_of(resource.get("provisioningState")),
                }
            )
    return rows_to_frame(rows, schema.VM_EXTENSION_COLUMNS), accounts


def _is_instance_view(head: bytes) -> bool:
    return sniff.is_json(head) and (
        b'"instanceView"' in head
        or (b'"statuses"' in head and b'"typeHandlerVersion"' in head)
        or any(key in head for key in (b'"vmExtensions"', b'"extensionHandlers"', b'"vmAgent"'))
    )


def _is_vm_model(head: bytes) -> bool:
    keys = (b'"storageProfile"', b'"osProfile"', b'"hardwareProfile"')
    return sniff.is_json(head) and any(key in head for key in keys)


INSTANCE_VIEW = Format(
    name="instance_view",
    summary="`az vm get-instance-view` output, its `instanceView`, or its extensions list.",
    frames=(("instance_view", schema.INSTANCE_VIEW_COLUMNS),),
    read=lambda sources, options: read_instance_views(sources),
    sniffs=(
        Clue(
            20,
            _is_instance_view,
            'JSON with `"instanceView"`, `"vmAgent"`, `"vmExtensions"`, `"extensionHandlers"`, '
            'or `"statuses"` and `"typeHandlerVersion"`',
        ),
    ),
    record_kind="instance_view",
    samples=(
        "sample_logs/vm-modern/instance-view.json",
        "tests/fixtures/vm-rhel-bundle/az/instance-view-extensions.json",
    ),
)
VM_SHOW = Format(
    name="vm_show",
    summary="`az vm show` output: the VM model's extensions and their requested versions.",
    frames=(("vm_extensions", schema.VM_EXTENSION_COLUMNS),),
    read=lambda sources, options: read_vm_models(sources),
    sniffs=(Clue(30, _is_vm_model, 'JSON with `"storageProfile"`, `"osProfile"` or `"hardwareProfile"`'),),
    samples=("sample_logs/vm-modern/vm-show.json",),
)

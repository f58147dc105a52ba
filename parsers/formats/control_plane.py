"""What Azure's control plane said: ARM deployment errors and other error JSON.

An ARM error document (`{"error": {...}}`, `{"code", "message", "details": [...]}`, the output of
`az deployment operation list`), with or without the CLI's text before it (`Deployment failed.
Correlation ID: ... {`), becomes one record per error message found anywhere in it. A message
that is itself JSON in a string (ARM nests the extension's error that way, sometimes twice) is
decoded and walked in turn; literal `\\n` escapes left in a message become newlines, so the
`[stdout]`/`[stderr]` sections of an extension's output read as they were written. The exit code
is read from the number after `Non-zero exit code:` / `exit status=`, which survives translation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import polars as pl
import regex

from parsers import schema, sniff
from parsers.documents import loads, read_document, reject, rows_to_frame
from parsers.formats.declaration import Clue, Format
from parsers.reader import Source, SourceAccount

#: Keys whose string value is a message.
_MESSAGE_KEYS = ("message", "statusMessage", "Message")
#: The exit code in the wordings of the agent, the Go handlers and the 2.0 agent.
_EXIT = regex.compile(r"Non-zero exit code: (-?\d+)|exit status=(-?\d+)|exit code\(?:? ?(-?\d+)")
_STDOUT = regex.compile(r"(?s)\[stdout\]\s*\n?(.*?)(?:\n?\s*\[stderr\]|$)")
_STDERR = regex.compile(r"(?s)\[stderr\]\s*\n?(.*)$")
#: `VM has reported a failure when processing extension 'cse-agent-0'` and similar names.
_EXTENSION_NAME = regex.compile(r"extension '([^']+)'|VM extension '?([^'\s]+)'? has")
#: The handler directory in a command path names the extension: `/var/lib/waagent/<Publisher.Type>-<version>/`.
_HANDLER_PATH = regex.compile(r"/var/lib/waagent/([A-Za-z][\w.]*?)-(\d+(?:\.\d+)+)/")
#: One escaped character behind any number of backslashes (`\n`, `\\n`, `\\\"`, ...).
_ESCAPED = regex.compile(r'\\+([nrt"])')
_UNESCAPE = {"n": "\n", "r": "", "t": "\t", '"': '"'}
#: A JSON value opening a line (maybe after CLI text such as `Deployment failed. ... {`).
_JSON_START = regex.compile(r"(?m)^[^{\[\n]*[{\[]")
#: What JSON looks like after its first bracket: a key, a value, or the document closing.
_LOOKS_LIKE_JSON = regex.compile(r'[{\[]\s*(?:["{\[\]}]|$)')
#: An error code in CLI text: `Code: VMExtensionProvisioningError`, `(VMExtensionProvisioningError) ...`, `Code="..."`.
_TEXT_CODE = regex.compile(r'(?m)^Code: (\w+)|^\((\w+)\) |Code="(\w+)"')
#: Nested JSON seldom goes deeper than this; the limit keeps a hostile document cheap.
_MAX_DEPTH = 12


def read_control_plane(sources: Iterable[Source]) -> tuple[pl.DataFrame, list[SourceAccount]]:
    """Control-plane error records (schema ``CONTROL_PLANE_COLUMNS``) and accounting."""
    rows, accounts = [], []
    for source in sources:
        document = read_document(source, "control_plane")
        accounts.append(document.account)
        if not document.text.strip():
            continue
        base = {"source_path": source.name, "line_first": 1, "line_last": max(document.lines, 1)}
        value, broken = _json_in(document.text)
        if value is None:
            # Portal or CLI text, or a paste cut short: still evidence, kept whole as one record.
            if broken is not None:
                document.account.warn(f"{broken}; its text is kept as one record")
            found = [_row(base, _text_code(document.text), _unescaped(document.text))]
        else:
            found = [_row(base, code, message) for code, message in _messages(value, None, 0)]
        if not found:
            reject(document, "JSON without any error message loglens knows")
            continue
        document.account.records = 1
        document.account.continuations = max(document.lines - 1, 0)
        rows += found
    return rows_to_frame(rows, schema.CONTROL_PLANE_COLUMNS), accounts


def _json_in(text: str) -> tuple[Any | None, str | None]:
    """The JSON value in ``text``, after any CLI text before it, or None and what was wrong with
    the JSON (None when the text is not JSON at all: it merely holds a bracket, as
    `[ExtensionOperationError] ...` does).

    Only JSON that parses up to the end of the text and stops there was cut short; JSON broken
    earlier is named as invalid, with where.

    Example:
        >>> _json_in('[ExtensionOperationError] Non-zero exit code: 127')
        (None, None)
        >>> _json_in('{"code": "Conflict", "message": "VM has')[1]
        'not complete JSON: it stops at line 1 (a truncated paste?)'

    """
    start = _JSON_START.search(text)
    if start is None:
        return None, None
    body = text[start.end() - 1 :].rstrip()
    try:
        return loads(body), None
    except json.JSONDecodeError as exc:
        if not _LOOKS_LIKE_JSON.match(body):
            return None, None  # a bracket opening a line of text, not JSON
        if exc.pos >= len(body) or exc.msg.startswith("Unterminated string"):
            return None, f"not complete JSON: it stops at line {exc.lineno} (a truncated paste?)"
        return None, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"


def _messages(value: Any, code: str | None, depth: int) -> Iterator[tuple[str | None, str]]:
    """(nearest code, message) for every message string in ``value``, nested JSON decoded."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, list):
        for item in value:
            yield from _messages(item, code, depth + 1)
        return
    if not isinstance(value, dict):
        return
    code = value.get("code") if isinstance(value.get("code"), str) else code
    for key, item in value.items():
        if key in _MESSAGE_KEYS and isinstance(item, str):
            nested = _nested_json(item)
            if nested is not None:
                yield from _messages(nested, code, depth + 1)
            elif item.strip():
                yield code, _unescaped(item)
        elif isinstance(item, (dict, list)):
            yield from _messages(item, code, depth + 1)


def _nested_json(text: str) -> Any | None:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        return loads(stripped)
    except json.JSONDecodeError:
        return None


def _unescaped(message: str) -> str:
    """A message whose newlines and quotes arrived escaped once or several times (ARM nests JSON
    in strings), as it was written."""
    if "\\n" in message or '\\"' in message:
        message = _ESCAPED.sub(lambda m: _UNESCAPE[m.group(1)], message)
    return message.replace("\r\n", "\n")


def _text_code(text: str) -> str | None:
    match = _TEXT_CODE.search(text)
    return next((g for g in match.groups() if g), None) if match else None


def _row(base: dict, code: str | None, message: str) -> dict:
    exit_match = _EXIT.search(message)
    name = _EXTENSION_NAME.search(message)
    stdout, stderr = _STDOUT.search(message), _STDERR.search(message)
    handler = _HANDLER_PATH.search(message)
    return {
        **base,
        "level": "ERROR",
        "message": message,
        "error_code": code,
        "exit_code": int(next(g for g in exit_match.groups() if g is not None)) if exit_match else None,
        "stdout": stdout.group(1) if stdout else None,
        "stderr": stderr.group(1) if stderr else None,
        "name": None if name is None else (name.group(1) or name.group(2)),
        "extension": handler.group(1) if handler else None,
        "extension_version": handler.group(2) if handler else None,
    }


#: A JSON document opening within the first few lines (after CLI text such as `Deployment failed.`).
_JSON_NEAR_START = regex.compile(rb"\A(?:[^\n]*\n){0,4}[^\n{\[]*[{\[]")


def _is_error_json(head: bytes) -> bool:
    return b'"code"' in head and b'"message"' in head and bool(_JSON_NEAR_START.search(head))


FORMAT = Format(
    name="control_plane",
    summary="ARM and CLI error JSON (perhaps after the CLI's own text), and portal or CLI status text.",
    frames=(("control_plane", schema.CONTROL_PLANE_COLUMNS),),
    read=lambda sources, options: read_control_plane(sources),
    sniffs=(
        Clue(70, _is_error_json, 'JSON with `"code"` and `"message"` in its first lines'),
        Clue(90, sniff.is_status_text, "text with Azure status messages (portal, CLI) and no log line"),
    ),
    record_kind="control_plane",
    samples=("sample_logs/vm-modern/deployment-error.json",),
)

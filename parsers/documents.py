"""Shared reading of small JSON and text documents (status files, instance views, configs).

A document is read whole (they are small; a size cap guards against a mislabelled big file),
its physical lines are counted, and parse failures become one warning naming the file. For a
JSON document the whole document is one record: its first line is the record, the rest are
folded into it; a document that cannot be parsed has all its lines counted as unparsed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
import regex

from parsers import schema
from parsers.reader import Source, SourceAccount, read_small

#: Status files are capped by the agent at 128 KiB; instance views of big VMs run larger.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


@dataclass
class Document:
    """A read document: its text, line count and account."""

    source: Source
    account: SourceAccount
    text: str

    @property
    def lines(self) -> int:
        return self.text.count("\n") + (0 if self.text.endswith("\n") or not self.text else 1)


def read_document(source: Source, kind: str) -> Document:
    """Read ``source`` whole; unreadable or undecodable input leaves ``text`` empty with a warning."""
    account = SourceAccount(path=source.name, kind=kind)
    data = read_small(source, account, MAX_DOCUMENT_BYTES)
    if data is None:
        return Document(source, account, "")
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        account.warn("not valid UTF-8 (bad bytes shown as U+FFFD)")
    document = Document(source, account, text)
    account.lines = document.lines
    return document


#: A JSON `\uD800`-`\uDFFF` escape: it may decode to a lone surrogate, which no UTF-8 text can hold.
_SURROGATE_ESCAPE = regex.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def loads(text: str) -> Any:
    """`json.loads`, with lone surrogates from `\\uD8xx` escapes replaced by U+FFFD.

    Raises:
        json.JSONDecodeError: ``text`` is not JSON.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, 0) from None
    depth = _depth(value)
    if depth > MAX_JSON_DEPTH:
        # Every document Azure writes is a few levels deep; the readers after this one recurse.
        raise json.JSONDecodeError(f"nested {depth} levels deep (more than {MAX_JSON_DEPTH})", text, 0)
    return _without_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


#: JSON nesting accepted: instance views, status files and goal states are under 15 levels.
MAX_JSON_DEPTH = 100


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (iterative: any depth costs no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((item, level + 1) for item in node if isinstance(item, (list, dict)))
    return deepest


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        # Through UTF-16: escaped pairs join into one character, lone halves become U+FFFD.
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def parse_json(document: Document, *, keep_text: bool = False) -> Any | None:
    """The JSON value of a document, with its lines accounted; None (and a warning) if malformed.

    ``keep_text``: malformed JSON (a fragment, a cut-off paste) is accounted as one text record
    that the caller keeps, rather than as unparsed lines.
    """
    account = document.account
    if not document.text.strip():
        if not account.warnings:
            account.warn("file is empty")
        account.skipped = account.lines
        return None
    try:
        value = loads(document.text)
    except json.JSONDecodeError as exc:
        kept = (
            "its text is kept as one text record" if keep_text else f"its {account.lines} line(s) counted as unparsed"
        )
        account.warn(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); {kept}")
        if keep_text:
            account.records, account.continuations = 1, account.lines - 1
        else:
            account.unparsed = account.lines
        return None
    account.records = 1
    account.continuations = account.lines - 1
    return value


def json_documents(sources: Iterable[Source], kind: str, accounts: list[SourceAccount]) -> Iterator[tuple[Document, Any]]:
    """Each source read as a ``kind`` document and parsed as JSON, its account added to
    ``accounts``; one that is not JSON is accounted (`parse_json` says why) and not yielded."""
    for source in sources:
        document = read_document(source, kind)
        accounts.append(document.account)
        value = parse_json(document)
        if value is not None:
            yield document, value


def reject(document: Document, reason: str) -> None:
    """Valid JSON of the wrong shape: warn, and count its lines as unparsed rather than as a record."""
    account = document.account
    account.warn(f"{reason}; its {account.lines} line(s) counted as unparsed")
    account.records = account.continuations = 0
    account.unparsed = account.lines


def text_of(value: Any) -> str | None:
    """A JSON scalar as text (codes are numbers or strings depending on the writer)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def int_of(value: Any) -> int | None:
    """A JSON number or numeric string as int; anything else None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    # A number no Int64 column can hold is not a code any agent writes: treat it as absent.
    return number if -(2**63) <= number < 2**63 else None


def bool_of(value: Any) -> bool | None:
    """A JSON boolean, or the strings `true`/`false` (any case); anything else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _texts_of(value: Any) -> list[str] | None:
    return (
        [str(item) for item in value if item is not None and not isinstance(item, (dict, list))]
        if isinstance(value, list)
        else None
    )


#: How a row value becomes a column's type (declared columns only; timestamps are parsed apart).
_CONVERTERS = {
    pl.String: text_of,
    pl.Int64: int_of,
    pl.Boolean: bool_of,
    pl.List(pl.String): _texts_of,
}


def formatted_message(status: dict) -> str | None:
    """`formattedMessage.message`, or a plain `message`, of a status object."""
    formatted = status.get("formattedMessage")
    if isinstance(formatted, dict) and "message" in formatted:
        return text_of(formatted.get("message"))
    return text_of(status.get("message") or status.get("Message"))


def rows_to_frame(rows: list[dict], columns: tuple[schema.Column, ...], timestamp: str | None = None) -> pl.DataFrame:
    """Rows to a conforming frame; ``timestamp`` names an ISO text column to parse as UTC."""
    if not rows:
        return schema.empty_frame(columns)
    # Whatever a reader put in a row, a value of the wrong JSON type costs that value, not the frame.
    converters = {c.name: _CONVERTERS[c.dtype] for c in columns if c.dtype in _CONVERTERS and c.name != timestamp}
    rows = [{k: converters[k](v) if k in converters else v for k, v in row.items()} for row in rows]
    overrides = {c.name: c.dtype for c in columns if c.name in {k for r in rows for k in r} and c.name != timestamp}
    if timestamp:
        overrides[timestamp] = pl.String
    frame = pl.DataFrame(rows, schema_overrides=overrides, infer_schema_length=None)
    if timestamp and timestamp in frame.columns:
        frame = frame.with_columns(
            pl.col(timestamp).str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_zone="UTC", time_unit="us", strict=False)
        )
    return schema.conform(frame, columns)

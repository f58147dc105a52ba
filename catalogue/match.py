"""The one multi-pattern pass: which catalogue messages each line or record carries.

Every entry declares anchors, literal words each of its matches contains. One Aho-Corasick pass
(Polars `str.extract_many`, ASCII case-insensitive, overlapping) finds every anchor in every
text at once; only the entries whose anchors a text holds run their full pattern, and only over
those texts. Patterns are unanchored, so a message is found inside any wrapper (syslog and
journald prefixes, `grep` file names, prompts, quotes, JSON strings, portal one-liners) without
a list of wrappers.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from catalogue import FIELDS, Catalogue, load

#: Column of `tag`'s result naming the entry; the other added columns are `catalogue.FIELDS`.
ID = "message_id"
_ROW = "_catalogue_row"
_ANCHOR = "_catalogue_anchor"
_STATED = "_stated"


@cache
def _anchor_table(catalogue: Catalogue, ids: tuple[str, ...] | None) -> pl.DataFrame:
    entries = catalogue.entries if ids is None else [catalogue.by_id[i] for i in ids]
    pairs = [(anchor, entry.id) for entry in entries for anchor in entry.anchors]
    return pl.DataFrame(pairs, schema={_ANCHOR: pl.String, ID: pl.String}, orient="row").unique()


def anchored(column: str = "message", catalogue: Catalogue | None = None, ids: list[str] | None = None) -> pl.Expr:
    """True where ``column`` holds any anchor of the catalogue (or of the entries ``ids``): the
    cheap first pass (one automaton)."""
    catalogue = catalogue or load()
    if ids is None:
        words = list(catalogue.anchors)
    else:
        words = sorted({a for i in ids for a in catalogue.by_id[i].anchors})
    return pl.col(column).str.contains_any(words, ascii_case_insensitive=True).fill_null(False)


def tag(
    frame: pl.DataFrame, column: str = "message", catalogue: Catalogue | None = None, ids: tuple[str, ...] | None = None
) -> pl.DataFrame:
    """The rows of ``frame`` that carry catalogue messages (of the entries ``ids``, or any), one
    row per (row, message).

    Returns:
        ``frame``'s columns for each matching row, plus `message_id` and one String column per
        `catalogue.FIELDS` name (the entry's named groups; null where it has none), in row order.
        A field ``frame`` already has as a column keeps the frame's value, and the message's is
        `stated_<field>`.
    """
    catalogue = catalogue or load()
    table = _anchor_table(catalogue, ids)
    indexed = frame.with_row_index(_ROW)
    found = indexed.select(
        _ROW,
        pl.col(column)
        .str.extract_many(table[_ANCHOR].unique().sort().to_list(), ascii_case_insensitive=True, overlapping=True)
        .alias(_ANCHOR),
    ).filter(pl.col(_ANCHOR).list.len() > 0)
    candidates = (
        found.explode(_ANCHOR)
        .with_columns(pl.col(_ANCHOR).str.to_lowercase())
        .join(table, on=_ANCHOR)
        .select(_ROW, ID)
        .unique()
        .join(indexed.select(_ROW, column), on=_ROW)
    )
    parts = [_verified(rows, catalogue.by_id[entry_id], column) for (entry_id,), rows in candidates.group_by([ID])]
    empty = {_ROW: pl.UInt32, ID: pl.String, **dict.fromkeys(FIELDS, pl.String)}
    hits = pl.concat([pl.DataFrame(schema=empty), *parts], how="diagonal_relaxed").select(list(empty))
    # A field the frame already has (a record's `extension`, `operation`) keeps the frame's value;
    # what the message states is in `stated_<field>`.
    joined = indexed.join(hits, on=_ROW, suffix=_STATED).sort(_ROW, ID).drop(_ROW)
    return joined.rename({c: f"stated_{c.removesuffix(_STATED)}" for c in joined.columns if c.endswith(_STATED)})


def _verified(rows: pl.DataFrame, entry, column: str) -> pl.DataFrame:
    """The candidate rows whose text the entry's full pattern matches, with its named fields."""
    matched = rows.filter(pl.col(column).str.contains(entry.pattern))
    if not entry.fields or matched.is_empty():
        return matched.select(_ROW, ID)
    groups = pl.col(column).str.extract_groups(entry.pattern).alias("_groups")
    return matched.select(_ROW, ID, groups).unnest("_groups")


def ids_of(text: str | list[str], catalogue: Catalogue | None = None) -> list[set[str]]:
    """The ids each text carries (for tests, the sniffer and the docs)."""
    texts = [text] if isinstance(text, str) else text
    frame = pl.DataFrame({"message": texts}, schema={"message": pl.String}).with_row_index("_text")
    hits = tag(frame, catalogue=catalogue)
    out: list[set[str]] = [set() for _ in texts]
    for index, message_id in hits.select("_text", ID).iter_rows():
        out[index].add(message_id)
    return out

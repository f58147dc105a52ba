"""Rule hits into the `findings` and `evidence` frames (`loglens.schema`): metadata and
documentation added, time span and count computed, known-benign hits calibrated; the evidence is
redacted by `redacted_evidence` once recurring episodes are merged (`loglens.recurring`).

All of it is frame work over every hit at once: a noisy VM gives a rule thousands of hits, which
it returns as one `Hits` (a table of hits and their rows); a `Hit` is one row of the same table.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from types import ModuleType

import polars as pl

from loglens import benign
from loglens.findings import MAX_EVIDENCE, MAX_EVIDENCE_CHARS, Hit, Hits, Rule, rule_documentation
from loglens.packed import owned
from loglens.redact import redact_expr
from loglens.schema import EVIDENCE_COLUMNS, FINDING_COLUMNS, conform, empty_frame
from parsers.schema import UTC_TIMESTAMP, Level

#: The columns of a hit's rows that findings read, and their types (a rule may leave some out).
_ROW_TYPES = {
    "record": pl.UInt32,
    "source_path": pl.String,
    "line_first": pl.UInt32,
    "timestamp": UTC_TIMESTAMP,
    "level": Level,
    "message": pl.String,
}


#: What a `Hit` may say of itself instead of its rule.
_OVERRIDES = ("category", "title", "explanation", "remediation", "docs")
#: What `_rule_table` says of each rule.
_RULE_COLUMNS = ("rule", "category", "title", "rule_severity", "explanation", "remediation", "docs")
#: The hit table's columns (`Hits.table`, and a `Hit` as one row of it), and their types.
_HIT_TYPES = {
    "finding": pl.UInt32,
    "collection": pl.String,
    "rule": pl.String,
    **Hits.FIELDS,
    **{f"{name}_given": pl.String for name in _OVERRIDES},
}


def findings_frames(results: list[tuple[str, ModuleType, Hit | Hits]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The `findings` and `evidence` frames of rule hits, in hit order (`finding` numbers them);
    the evidence text still as logged (`redacted_evidence` finishes it).

    Args:
        results: (collection, rule module, hit) for every hit or `Hits` of every rule.
    """
    if not results:
        return empty_frame(FINDING_COLUMNS), empty_frame(EVIDENCE_COLUMNS)
    hits, parts, heights = _hit_table(results)
    # Every hit's rows in one frame (one concat, not a query per hit: a noisy VM gives thousands of
    # hits); the messages come along as views of the hits' own strings.
    rows = _all_rows(parts, heights)
    modules = {module.RULE.id: module for _, module, _ in results}
    rule_table = _rule_table(tuple(modules.values()))
    hits = _documented(
        hits.join(rule_table, on="rule", how="left", maintain_order="left").with_columns(
            severity=pl.coalesce("severity", "rule_severity")
        )
    )
    hits = _calibrated(hits, rows, [m.RULE for m in modules.values()])
    rows = rows.sort("finding", "timestamp", nulls_last=True, maintain_order=True)
    spans = rows.group_by("finding").agg(
        first_seen=pl.col("timestamp").min(),
        last_seen=pl.col("timestamp").max(),
        rows=pl.len(),
        records=pl.col("record").drop_nulls().unique().sort(),
    )
    findings = (
        hits.rename({"count": "count_given"})
        .drop("rows")
        .join(spans, on="finding", how="left")
        .with_columns(
            count=pl.coalesce("count_given", pl.col("rows").cast(pl.Int64), pl.lit(0, pl.Int64)),
            summary=redact_expr(pl.col("summary")),
            related=pl.lit([], pl.List(pl.String)),
        )
    )
    return conform(findings, FINDING_COLUMNS), _evidence(rows)


def held(hit: Hit | Hits) -> Hit | Hits:
    """``hit`` as it waits for the others: its rows reduced to the columns findings read, their
    strings its own. A rule's rows are often a few of a frame it built (a catalogue message's
    fields for every record), whose whole buffers they would otherwise keep until the end."""
    if isinstance(hit, Hits):
        return Hits(owned(hit.table), _held_rows(hit.rows))
    return dataclasses.replace(hit, rows=_held_rows(hit.rows))


def _held_rows(rows: pl.DataFrame) -> pl.DataFrame:
    return owned(rows.select(c for c in _ROW_TYPES if c in rows.columns))


def _documented(hits: pl.DataFrame) -> pl.DataFrame:
    """``hits`` (joined to their rules') with what a hit says of itself (`_OVERRIDES`) in place of its rule's.

    Only the hits that say something are coalesced: the others keep the joined texts, which are views
    of the rule table's. Coalesced, every hit's copy of its rule's explanation was written out: 118 MB
    for the 46,644 WireServer blips of a noisy 2 GB log.
    """
    given = pl.any_horizontal(pl.col(f"{name}_given").is_not_null() for name in _OVERRIDES)
    own = hits.filter(given).with_columns(**{name: pl.coalesce(f"{name}_given", name) for name in _OVERRIDES})
    return pl.concat([hits.filter(~given), own]).sort("finding")


def _hit_table(results: list[tuple[str, ModuleType, Hit | Hits]]) -> tuple[pl.DataFrame, list[pl.DataFrame], pl.Series]:
    """One row per hit (`_HIT_TYPES`, numbered by `finding`), the hits' row frames in order, and
    how many rows each hit has. A `Hits` is taken whole, a `Hit` as one row."""
    tables: list[pl.DataFrame] = []
    single: list[dict] = []
    parts: list[pl.DataFrame] = []
    heights: list[int] = []
    count = 0
    for collection, module, item in results:
        if isinstance(item, Hits):
            size = item.table.height
            tables.append(
                item.table.with_columns(
                    finding=pl.int_range(count, count + size, dtype=pl.UInt32),
                    collection=pl.lit(collection),
                    rule=pl.lit(module.RULE.id),
                )
            )
            parts.append(item.rows)
            heights += item.table["rows"].to_list()
            count += size
            continue
        single.append(
            {
                "finding": count,
                "collection": collection,
                "rule": module.RULE.id,
                **{name: getattr(item, name) for name in Hits.FIELDS if name != "rows"},
                "rows": item.rows.height,
                **{f"{name}_given": getattr(item, name) for name in _OVERRIDES},
            }
        )
        parts.append(item.rows)
        heights.append(item.rows.height)
        count += 1
    if single:
        tables.append(pl.DataFrame(single, schema=_HIT_TYPES))
    typed = [
        t.select(pl.col(n).cast(d) if n in t.columns else pl.lit(None, d).alias(n) for n, d in _HIT_TYPES.items())
        for t in tables
    ]
    table = pl.concat(typed).sort("finding").with_columns(pl.col("corroborated").fill_null(False))
    return table, parts, pl.Series(heights, dtype=pl.UInt32)


@cache
def _rule_table(modules: tuple[ModuleType, ...]) -> pl.DataFrame:
    """Per rule id: its category, title, default severity (`rule_severity`) and documentation
    (read from each module's docstring once per set of rules)."""
    rows = [
        {
            "rule": module.RULE.id,
            "category": module.RULE.category,
            "title": module.RULE.title,
            "rule_severity": module.RULE.severity,
            **rule_documentation(module),
        }
        for module in modules
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(_RULE_COLUMNS, pl.String))


def _calibrated(hits: pl.DataFrame, rows: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """A hit proven only by its rule's known false positives (`Rule.false_positives`) is info at
    most, and says why; one benign condition repeated `benign.CORROBORATION` times or more is no
    longer a blip, and says so. One pass per rule that declares some, over all its hits' rows."""
    why = []
    ruled = {rule.id: rule for rule in rules if rule.false_positives}
    open_ = hits.filter(pl.col("rule").is_in(list(ruled)) & (pl.col("severity") != "info") & ~pl.col("corroborated"))
    for (rule_id,), mine in open_.group_by(["rule"]):
        rule = ruled[rule_id]
        candidates = [b for b in benign.BENIGN if b.id in rule.false_positives]  # catalogue order breaks ties
        pattern = "|".join(f"(?:{benign.BY_ID[b].pattern})" for b in rule.false_positives)
        message = pl.col("message").fill_null("")
        lines = rows.filter(pl.col("finding").is_in(mine["finding"].implode()))
        flagged = lines.group_by("finding").agg(all_benign=message.str.contains(pattern).all()).filter("all_benign")
        if flagged.height == 0:
            continue
        counts = (
            lines.join(flagged.select("finding"), on="finding", how="semi")
            .group_by("finding")
            .agg(counts=pl.concat_list(message.str.contains(b.pattern).sum() for b in candidates))
        )
        top = pl.col("counts").list.arg_max()
        why.append(
            counts.select(
                "finding",
                benign_why=top.replace_strict(
                    list(range(len(candidates))), [b.why for b in candidates], return_dtype=pl.String
                ),
                benign_count=pl.col("counts").list.get(top),
            )
        )
    if not why:
        return hits
    found = hits.join(pl.concat(why), on="finding", how="left", maintain_order="left")
    many = pl.col("benign_count") >= benign.CORROBORATION
    known = pl.col("benign_why").is_not_null()
    return found.with_columns(
        severity=pl.when(known & ~many).then(pl.lit("info")).otherwise("severity"),
        summary=pl.when(known & many)
        .then(pl.format("{} (each line alone is known to be benign: {}; this many is not)", "summary", "benign_why"))
        .when(known)
        .then(pl.format("{}; known benign: {}", "summary", "benign_why"))
        .otherwise("summary"),
    ).drop("benign_why", "benign_count")


def _all_rows(parts: list[pl.DataFrame], heights: pl.Series) -> pl.DataFrame:
    """Every hit's rows: `finding` (the hit's index), `row` (its position in the hit) and the typed
    columns, messages included."""
    parts = [part.select(c for c in _ROW_TYPES if c in part.columns) for part in parts]
    frame = pl.concat(parts, how="diagonal_relaxed", rechunk=False)
    finding = pl.select(pl.int_range(heights.len(), dtype=pl.UInt32).repeat_by(heights).explode()).to_series()
    frame = frame.with_columns(finding.alias("finding")) if frame.width else pl.DataFrame({"finding": finding})
    return frame.select(
        "finding",
        pl.int_range(pl.len(), dtype=pl.UInt32).over("finding").alias("row"),
        *[
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in _ROW_TYPES.items()
        ],
    )


def _evidence(rows: pl.DataFrame) -> pl.DataFrame:
    """The first `MAX_EVIDENCE` rows of each finding (by time), their text the message as logged:
    `redacted_evidence` finishes it once findings are final (a noisy VM's thousands of episodes
    are merged first, and only the evidence that remains is redacted)."""
    kept = rows.group_by("finding", maintain_order=True).head(MAX_EVIDENCE)
    evidence = kept.with_columns(
        rank=pl.int_range(pl.len(), dtype=pl.UInt32).over("finding"),
        path="source_path",
        line="line_first",
        text=pl.col("message"),
    )
    return conform(evidence, EVIDENCE_COLUMNS)


def redacted_evidence(evidence: pl.DataFrame) -> pl.DataFrame:
    """``evidence`` with each text redacted, then cut to `MAX_EVIDENCE_CHARS`."""
    # Redacted whole, then cut: a secret form cut in two is no longer one.
    whole = redact_expr(pl.col("text").fill_null(""))
    long = whole.str.len_chars() > MAX_EVIDENCE_CHARS
    return evidence.with_columns(
        text=pl.when(long).then(whole.str.slice(0, MAX_EVIDENCE_CHARS) + " [...]").otherwise(whole)
    )

"""Rule hits into the `findings` and `evidence` frames (`loglens.schema`): metadata and
documentation added, time span and count computed, known-benign hits calibrated; the evidence is
redacted by `redacted_evidence` once recurring episodes are merged (`loglens.recurring`).

All of it is frame work over every hit at once: a noisy VM gives a rule thousands of hits.
"""

from __future__ import annotations

from types import ModuleType

import polars as pl

from loglens import benign
from loglens.findings import MAX_EVIDENCE, MAX_EVIDENCE_CHARS, Hit, Rule, rule_documentation
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


def _overrides(hit: Hit) -> dict[str, str]:
    """What a hit says of itself instead of its rule (category, title, explanation, remediation)."""
    fields = ("category", "title", "explanation", "remediation")
    return {k: getattr(hit, k) for k in fields if getattr(hit, k) is not None}


def findings_frames(results: list[tuple[str, ModuleType, Hit]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The `findings` and `evidence` frames of rule hits, in hit order (`finding` numbers them);
    the evidence text still as logged (`redacted_evidence` finishes it).

    Args:
        results: (collection, rule module, hit) for every hit of every rule.
    """
    if not results:
        return empty_frame(FINDING_COLUMNS), empty_frame(EVIDENCE_COLUMNS)
    # Every hit's rows in one frame (one concat, not a query per hit: a noisy VM gives thousands of
    # hits); the messages come along as views of the hits' own strings.
    rows = _all_rows([hit for _, _, hit in results])
    benign_only = _benign_only(rows, results)
    documentation = {}
    meta = []
    for index, (collection, module, hit) in enumerate(results):
        rule = module.RULE
        if rule.id not in documentation:
            documentation[rule.id] = rule_documentation(module)
        severity, summary = hit.severity or rule.severity, hit.summary
        if index in benign_only:
            severity, summary = _calibrated(severity, hit, rule)
        meta.append(
            {
                "finding": index,
                "collection": collection,
                **{k: getattr(rule, k) for k in ("category", "title")},
                "rule": rule.id,
                "severity": severity,
                "summary": summary,
                "extension": hit.extension,
                "version": hit.version,
                "count_given": hit.count,
                **documentation[rule.id],
                **({"docs": hit.docs} if hit.docs else {}),
                **_overrides(hit),
            }
        )
    rows = rows.sort("finding", "timestamp", nulls_last=True, maintain_order=True)
    spans = rows.group_by("finding").agg(
        first_seen=pl.col("timestamp").min(),
        last_seen=pl.col("timestamp").max(),
        rows=pl.len(),
        records=pl.col("record").drop_nulls().unique().sort(),
    )
    findings = (
        pl.DataFrame(meta, schema_overrides={"finding": pl.UInt32, "count_given": pl.Int64})
        .join(spans, on="finding", how="left")
        .with_columns(
            count=pl.coalesce("count_given", pl.col("rows").cast(pl.Int64), pl.lit(0, pl.Int64)),
            summary=redact_expr(pl.col("summary")),
            related=pl.lit([], pl.List(pl.String)),
        )
    )
    return conform(findings, FINDING_COLUMNS), _evidence(rows)


def _benign_only(rows: pl.DataFrame, results: list[tuple[str, ModuleType, Hit]]) -> set[int]:
    """The hits whose every line is one of their rule's known false positives (`Rule.false_positives`):
    one pass per rule that declares some, over all its hits' rows."""
    by_rule: dict[Rule, list[int]] = {}
    for index, (_, module, _hit) in enumerate(results):
        if module.RULE.false_positives:
            by_rule.setdefault(module.RULE, []).append(index)
    flagged: set[int] = set()
    for rule, indices in by_rule.items():
        pattern = "|".join(f"(?:{benign.BY_ID[b].pattern})" for b in rule.false_positives)
        mine = rows.filter(pl.col("finding").is_in(indices))
        benign_line = pl.col("message").fill_null("").str.contains(pattern)
        found = mine.group_by("finding").agg(all_benign=benign_line.all()).filter(pl.col("all_benign"))
        flagged.update(found["finding"].to_list())
    return flagged


def _calibrated(severity: str, hit: Hit, rule: Rule) -> tuple[str, str]:
    """A hit proven only by its rule's known false positives is info at most, and says why.

    One benign condition repeated `benign.CORROBORATION` times or more is no longer a blip.
    """
    if severity == "info" or hit.corroborated or "message" not in hit.rows.columns or hit.rows.height == 0:
        return severity, hit.summary
    messages = hit.rows.get_column("message").cast(pl.String).fill_null("")
    candidates = [b for b in benign.BENIGN if b.id in rule.false_positives]  # catalogue order breaks ties
    counts = {b.name: int(messages.str.contains(b.pattern).sum()) for b in candidates}
    entry = max(candidates, key=lambda b: counts[b.name])
    if counts[entry.name] >= benign.CORROBORATION:
        return severity, f"{hit.summary} (each line alone is known to be benign: {entry.why}; this many is not)"
    return "info", f"{hit.summary}; known benign: {entry.why}"


def _all_rows(hits: list[Hit]) -> pl.DataFrame:
    """Every hit's rows: `finding` (the hit's index), `row` (its position in the hit) and the typed
    columns, messages included."""
    parts = [part.select(c for c in _ROW_TYPES if c in part.columns) for part in _row_parts(hits)]
    heights = pl.Series([hit.rows.height for hit in hits], dtype=pl.UInt32)
    frame = pl.concat(parts, how="diagonal_relaxed", rechunk=False) if parts else pl.DataFrame()
    finding = pl.select(pl.int_range(len(hits), dtype=pl.UInt32).repeat_by(heights).explode()).to_series()
    frame = frame.with_columns(finding.alias("finding")) if frame.width else pl.DataFrame({"finding": finding})
    return frame.select(
        "finding",
        pl.int_range(pl.len(), dtype=pl.UInt32).over("finding").alias("row"),
        *[
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in _ROW_TYPES.items()
        ],
    )


def _row_parts(hits: list[Hit]) -> list[pl.DataFrame]:
    """The hits' rows in hit order, as few frames as possible: a run of hits that are consecutive
    slices of one frame (`Hit.sliced`) is one slice of it (a noisy VM gives thousands of hits, and
    a frame operation per hit cost a millisecond each)."""
    parts: list[pl.DataFrame] = []
    run: tuple[pl.DataFrame, int, int] | None = None  # (frame, start, end) of the current run
    for hit in hits:
        if hit.shared is not None and run is not None and hit.shared[0] is run[0] and hit.shared[1] == run[2]:
            run = (run[0], run[1], run[2] + hit.rows.height)
            continue
        if run is not None:
            parts.append(run[0].slice(run[1], run[2] - run[1]))
            run = None
        if hit.shared is not None:
            run = (hit.shared[0], hit.shared[1], hit.shared[1] + hit.rows.height)
        else:
            parts.append(hit.rows)
    if run is not None:
        parts.append(run[0].slice(run[1], run[2] - run[1]))
    return parts


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

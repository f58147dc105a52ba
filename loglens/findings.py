"""What rules are and what they return: `Rule`, `Hit` (a rule's raw result), and the findings frame.

A rule module holds its user documentation in its docstring, in fixed sections (What it
detects, Why it matters, Example, Known benign causes, Remediation, References), one `RULE`
value with its metadata, and a pure `detect(context) -> list[Hit]` over frames. `findings_frames`
turns the hits into the `findings` and `evidence` frames (`loglens.schema`): metadata and
documentation added, time span and count computed, evidence redacted. Every output is a view of
those two frames; `Findings` is the notebook's view, iterable as `Finding` rows.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, make_dataclass
from functools import cached_property
from types import ModuleType

import polars as pl
import regex

import catalogue
from loglens import benign
from loglens.knowledge import CATEGORY_NAMES, SEVERITIES
from loglens.redact import redact_expr
from loglens.schema import EVIDENCE_COLUMNS, FINDING_COLUMNS, conform, empty_frame
from parsers.schema import FRAME_SCHEMAS, UTC_TIMESTAMP, Level

DOC_SECTIONS = ("What it detects", "Why it matters", "Example", "Known benign causes", "Remediation", "References")
#: Evidence lines kept per finding (the representative few; the count says how many matched).
MAX_EVIDENCE = 5
#: Records shown before and after each evidence line (the HTML report's context).
CONTEXT_LINES = 3


def neighbour_lines(first: int, last: int) -> list[int]:
    """The lines the reports show around a record of lines ``first`` to ``last``: `CONTEXT_LINES`
    before it and after it."""
    return [*range(max(1, first - CONTEXT_LINES), first), *range(last + 1, last + CONTEXT_LINES + 1)]


#: Characters of a record kept as evidence text (multi-line records are cut, not dropped).
MAX_EVIDENCE_CHARS = 1200
_ID = regex.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_URL = regex.compile(r"https?://\S+")


#: What a rule may declare it reads besides its catalogue messages (`Rule.reads`): the parser
#: frames by name, and the context's derived parts (`loglens.context.Context`).
DERIVED_PARTS = ("records", "operations", "spans", "versions", "facts", "timeline")
#: `every-message`: the messages of every catalogue id, not only the rule's own (the catch-all
#: rule); `declared`: the ids the other rules of the run declare.
READABLE = (*FRAME_SCHEMAS, *DERIVED_PARTS, "every-message", "declared")
STATUSES = ("stable", "preview")


@dataclass(frozen=True)
class Rule:
    """What a rule declares: its metadata, and what it reads. The explanation, remediation and
    docs link come from its module docstring. The engine gives a rule only what it declares
    (`loglens.context.RuleView`).

    Attributes:
        messages: the catalogue ids (or id prefixes, ending in `.`) the rule reads, tagged
            (`Context.tagged`, `Context.messages`); the engine keeps every record that carries one.
        reads: the parser frames and derived parts it reads besides (`READABLE`).
        status: `stable`, or `preview` while its wording or thresholds may still change.
        severity_note: when the severity differs from the default, in a few words (the rules table).
        symptom_of: rules whose finding explains this one's when the same record proves both
            (one incident, one finding: this rule's finding drops to info as the symptom).
        false_positives: the catalogue's benign entries whose lines carry this rule's messages;
            a finding proven only by such lines is info at most (`loglens.benign`).
    """

    id: str
    category: str
    severity: str
    title: str
    messages: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    status: str = "stable"
    severity_note: str = ""
    symptom_of: tuple[str, ...] = ()
    false_positives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"rule id must be kebab-case: {self.id!r}")
        if self.category not in CATEGORY_NAMES:
            raise ValueError(f"{self.id}: unknown category {self.category!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: unknown severity {self.severity!r}")
        if self.status not in STATUSES:
            raise ValueError(f"{self.id}: status must be one of {STATUSES}, not {self.status!r}")
        if stray := [r for r in self.reads if r not in READABLE]:
            raise ValueError(f"{self.id}: reads what no context holds: {stray}")
        known = catalogue.load().by_id
        stray = [m for m in self.messages if not any(covers(m, i) for i in known)]
        if stray:
            raise ValueError(f"{self.id}: no catalogue entry for messages {stray}")
        if stray := [b for b in self.false_positives if b not in benign.BY_ID]:
            raise ValueError(f"{self.id}: false_positives must be benign catalogue entries: {stray}")


def covers(declared: str, message_id: str) -> bool:
    """Whether a declared message (an id, or a prefix ending in `.`) covers ``message_id``."""
    return message_id == declared or (declared.endswith(".") and message_id.startswith(declared))


@dataclass
class Hit:
    """One problem a rule found, with the rows that prove it.

    Attributes:
        summary: one sentence specific to this occurrence (versions, durations, lock holder...).
        rows: the records that prove it; needs `source_path`, `line_first`, `timestamp`, `message`
            and, when they come from the unified record view, `record` (marks them explained).
        severity: overrides the rule's default (e.g. a transient blip is a warning).
        extension, version: what the finding is about, where relevant.
        count: occurrences, when not the number of rows.
        corroborated: the rule saw independent signs that the condition mattered (a failed
            operation, a failed probe), so known-benign lines among the rows do not lower it.
    """

    summary: str
    rows: pl.DataFrame
    severity: str | None = None
    extension: str | None = None
    version: str | None = None
    count: int | None = None
    corroborated: bool = False
    #: A documentation link for this occurrence (an extension's own page) instead of the rule's.
    docs: str | None = None
    #: For a rule that reports catalogue messages as they are (`loglens.rules.catalogue_message`):
    #: the message's own category, title, meaning and fix instead of the rule's.
    category: str | None = None
    title: str | None = None
    explanation: str | None = None
    remediation: str | None = None


def doc_sections(module: ModuleType) -> dict[str, str]:
    """The fixed docstring sections of a rule module, by title."""
    text = inspect.getdoc(module) or ""
    heads = list(regex.finditer(r"^(" + "|".join(DOC_SECTIONS) + r"):\s*$", text, flags=regex.M))
    sections = {}
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        sections[head[1]] = textwrap.dedent(text[head.end() : end]).strip()
    return sections


def rule_documentation(module: ModuleType) -> dict[str, str | None]:
    """The explanation, remediation and docs link of a rule, from its docstring sections."""
    sections = doc_sections(module)
    docs = _URL.search(sections.get("References", ""))
    return {
        "explanation": "\n\n".join(s for s in (sections.get("What it detects"), sections.get("Why it matters")) if s),
        "remediation": sections.get("Remediation", ""),
        "docs": docs.group(0).rstrip(").,") if docs else None,
    }


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
    """The `findings` and `evidence` frames of rule hits, in hit order (`finding` numbers them).

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
    parts = [hit.rows[[c for c in _ROW_TYPES if c in hit.rows.columns]] for hit in hits]
    heights = pl.Series([part.height for part in parts], dtype=pl.UInt32)
    frame = pl.concat(parts, how="diagonal_relaxed", rechunk=False) if parts else pl.DataFrame()
    finding = pl.select(pl.int_range(len(parts), dtype=pl.UInt32).repeat_by(heights).explode()).to_series()
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
    """The first `MAX_EVIDENCE` rows of each finding (by time), text cut and redacted."""
    kept = rows.group_by("finding", maintain_order=True).head(MAX_EVIDENCE)
    # Redacted whole, then cut: a secret form cut in two is no longer one.
    whole = redact_expr(pl.col("message").fill_null(""))
    long = whole.str.len_chars() > MAX_EVIDENCE_CHARS
    text = pl.when(long).then(whole.str.slice(0, MAX_EVIDENCE_CHARS) + " [...]").otherwise(whole)
    evidence = kept.with_columns(
        rank=pl.int_range(pl.len(), dtype=pl.UInt32).over("finding"),
        path="source_path",
        line="line_first",
        text=text,
    )
    return conform(evidence, EVIDENCE_COLUMNS)


# -- the notebook's view ----------------------------------------------------------------------

#: One finding as a Python object, with its evidence (`Evidence` rows): fields as declared in
#: `loglens.schema`, so the shape is written down once.
Evidence = make_dataclass(
    "Evidence", [(c.name, object) for c in EVIDENCE_COLUMNS if c.name not in ("finding", "rank")], frozen=True
)
Finding = make_dataclass("Finding", [(c.name, object) for c in FINDING_COLUMNS] + [("evidence", list)], frozen=True)


class Findings(Sequence):
    """Findings as a sequence of `Finding` objects over the `findings` and `evidence` frames."""

    def __init__(self, frame: pl.DataFrame, evidence: pl.DataFrame) -> None:
        self.table = frame
        self.evidence = evidence

    @cached_property
    def _objects(self) -> list:
        by_finding: dict[int, list] = {}
        for row in self.evidence.iter_rows(named=True):
            fields = {k: v for k, v in row.items() if k not in ("finding", "rank")}
            by_finding.setdefault(row["finding"], []).append(Evidence(**fields))
        return [Finding(**row, evidence=by_finding.get(row["finding"], [])) for row in self.table.iter_rows(named=True)]

    def __getitem__(self, index):
        return self._objects[index]

    def __len__(self) -> int:
        return self.table.height

    def __iter__(self) -> Iterator:
        return iter(self._objects)

    @property
    def frame(self) -> pl.DataFrame:
        """One row per finding, evidence as `path:line` strings (a view of the findings frame)."""
        where = pl.when(pl.col("line").is_not_null()).then(pl.format("{}:{}", "path", "line")).otherwise("path")
        locations = self.evidence.group_by("finding", maintain_order=True).agg(evidence=where)
        return self.table.join(locations, on="finding", how="left").select(
            "collection",
            "severity",
            "category",
            "rule",
            "summary",
            "extension",
            "version",
            "first_seen",
            "last_seen",
            "count",
            pl.col("evidence").fill_null(pl.lit([], pl.List(pl.String))),
            "related",
            "docs",
        )

    def counts(self) -> dict[str, int]:
        """Findings per severity."""
        return {s: int((self.table["severity"] == s).sum()) for s in SEVERITIES}

    def __repr__(self) -> str:
        counts = self.counts()
        return f"Findings({counts['error']} error, {counts['warning']} warning, {counts['info']} info)"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            "<tr>"
            f"<td>{html.escape(f.severity)}</td><td>{html.escape(f.rule)}</td><td>{html.escape(f.summary)}</td>"
            f"<td>{html.escape(', '.join(f'{e.path}:{e.line}' for e in f.evidence[:3]))}</td>"
            "</tr>"
            for f in self
        )
        return (
            f"<div><strong>{html.escape(repr(self))}</strong><table>"
            f"<tr><th>severity</th><th>rule</th><th>summary</th><th>evidence</th></tr>{rows}</table></div>"
        )

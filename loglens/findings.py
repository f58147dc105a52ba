"""What rules are and what they return: `Rule`, `Hit` (a rule's raw result) and `Finding`.

A rule module holds its user documentation in its docstring, in fixed sections (What it
detects, Why it matters, Example, Known benign causes, Remediation, References), one `RULE`
value with its metadata, and a pure `detect(context) -> list[Hit]` over frames. The engine
turns hits into findings: it adds the metadata and the documentation, computes the time span
and count, and takes redacted evidence lines.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType

import polars as pl
import regex

from loglens.redact import redact_text

SEVERITIES = ("error", "warning", "info")
CATEGORIES = (
    "upgrade",
    "timeout",
    "unsupported-os",
    "wireserver",
    "lock-contention",
    "command-failure",
    "disk-space",
    "agent-health",
)
DOC_SECTIONS = ("What it detects", "Why it matters", "Example", "Known benign causes", "Remediation", "References")
#: Evidence lines kept per finding (the representative few; the count says how many matched).
MAX_EVIDENCE = 5
#: Characters of a record kept as evidence text (multi-line records are cut, not dropped).
MAX_EVIDENCE_CHARS = 1200
_ID = regex.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_URL = regex.compile(r"https?://\S+")


@dataclass(frozen=True)
class Rule:
    """A rule's metadata. The explanation, remediation and docs link come from its module docstring.

    ``triggers`` is a regex every record the rule looks at matches. The engine runs the
    rules' triggers as one pass over all records and hands rules only the records that matched
    (plus errors, warnings, status and instance-view rows). A rule's own patterns then run over
    a small set.
    """

    id: str
    category: str
    severity: str
    title: str
    triggers: str

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"rule id must be kebab-case: {self.id!r}")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.id}: unknown category {self.category!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: unknown severity {self.severity!r}")


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
    """

    summary: str
    rows: pl.DataFrame
    severity: str | None = None
    extension: str | None = None
    version: str | None = None
    count: int | None = None


@dataclass(frozen=True)
class Evidence:
    """A log line that proves a finding: where it is and (redacted) what it says."""

    path: str
    line: int | None
    text: str


@dataclass
class Finding:
    """A rule's finding, ready for every output."""

    rule: str
    category: str
    severity: str
    title: str
    summary: str
    extension: str | None
    version: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    count: int
    evidence: list[Evidence]
    explanation: str
    remediation: str
    docs: str | None
    related: list[str] = field(default_factory=list)
    #: Unified-record ids the finding explains (not shown; used to find unexplained errors).
    records: frozenset[int] = frozenset()
    #: The VM collection the finding is about (`LoadResult.collections`); set by the engine.
    collection: str | None = None


def doc_sections(module: ModuleType) -> dict[str, str]:
    """The fixed docstring sections of a rule module, by title."""
    text = inspect.getdoc(module) or ""
    heads = list(regex.finditer(r"^(" + "|".join(DOC_SECTIONS) + r"):\s*$", text, flags=regex.M))
    sections = {}
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        sections[head[1]] = textwrap.dedent(text[head.end() : end]).strip()
    return sections


def finding_from_hit(rule: Rule, module: ModuleType, hit: Hit) -> Finding:
    """Add metadata, documentation, time span and redacted evidence to a hit."""
    sections = doc_sections(module)
    rows = hit.rows.sort("timestamp", nulls_last=True) if "timestamp" in hit.rows.columns else hit.rows
    stamps = rows["timestamp"].drop_nulls() if "timestamp" in rows.columns else pl.Series([])
    evidence = [
        Evidence(path=r["source_path"], line=r.get("line_first"), text=_evidence_text(r.get("message")))
        for r in rows.head(MAX_EVIDENCE).iter_rows(named=True)
    ]
    recorded = frozenset(rows["record"].drop_nulls().to_list()) if "record" in rows.columns else frozenset()
    explanation = "\n\n".join(s for s in (sections.get("What it detects"), sections.get("Why it matters")) if s)
    docs = _URL.search(sections.get("References", ""))
    return Finding(
        rule=rule.id,
        category=rule.category,
        severity=hit.severity or rule.severity,
        title=rule.title,
        summary=redact_text(hit.summary),
        extension=hit.extension,
        version=hit.version,
        first_seen=stamps.min() if stamps.len() else None,
        last_seen=stamps.max() if stamps.len() else None,
        count=hit.count if hit.count is not None else rows.height,
        evidence=evidence,
        explanation=explanation,
        remediation=sections.get("Remediation", ""),
        docs=docs.group(0).rstrip(").,") if docs else None,
        records=recorded,
    )


def _evidence_text(message: str | None) -> str:
    text = message or ""
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[:MAX_EVIDENCE_CHARS] + " [...]"
    return redact_text(text)

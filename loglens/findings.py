"""What rules are and what they return: `Rule`, `Hit` (a rule's raw result), and the findings frame.

A rule module holds its user documentation in its docstring, in fixed sections (What it
detects, Why it matters, Example, Known benign causes, Remediation, References), one `RULE`
value with its metadata, and a pure `detect(context) -> list[Hit | Hits]` over frames (`Hits`:
many hits as frames).
`loglens.finding_frames` turns the hits into the `findings` and `evidence` frames
(`loglens.schema`); every output is a view of those two frames. `Findings` is the notebook's
view, iterable as `Finding` rows.
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
from parsers.formats import FRAME_SCHEMAS
from parsers.schema import UTC_TIMESTAMP, Level

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
DERIVED_PARTS = ("records", "operation_lines", "operations", "spans", "versions", "facts", "timeline")
#: `every-message`: the messages of every catalogue id that is not `context`, not only the rule's
#: own (the catch-all rule); `declared`: the ids the other rules of the run declare.
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


@dataclass(frozen=True)
class Hits:
    """Many hits of one rule as two frames: what a rule that finds thousands of episodes returns
    (a noisy VM's hourly WireServer blips), so that findings are built by frame operations, with
    no Python object per episode (`loglens.finding_frames`).

    Attributes:
        table: one row per hit, in order: `summary` and `rows` (how many rows of ``rows`` are
            this hit's), and as `Hit` has them, where given: `severity`, `count`, `extension`,
            `version`, `corroborated` (nulls: as a `Hit` that leaves them out).
        rows: every hit's rows, hit after hit (the columns `Hit.rows` needs).
    """

    table: pl.DataFrame
    rows: pl.DataFrame

    #: The columns of ``table`` that a hit may give, and their types.
    FIELDS = {
        "summary": pl.String,
        "rows": pl.UInt32,
        "severity": pl.String,
        "count": pl.Int64,
        "extension": pl.String,
        "version": pl.String,
        "corroborated": pl.Boolean,
    }

    def __post_init__(self) -> None:
        stray = [c for c in self.table.columns if c not in self.FIELDS]
        if stray or "summary" not in self.table.columns or "rows" not in self.table.columns:
            raise ValueError(f"Hits.table needs `summary` and `rows`, and only {list(self.FIELDS)}; stray: {stray}")
        if self.table.height and self.table["rows"].sum() != self.rows.height:
            raise ValueError(f"Hits.table counts {self.table['rows'].sum()} rows, Hits.rows has {self.rows.height}")


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

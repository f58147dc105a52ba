"""Run the rules over loaded frames: findings, links between them, and unexplained errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from types import ModuleType

import polars as pl

from loglens.findings import SEVERITIES, Finding, finding_from_hit
from loglens.records import records as record_view
from loglens.redact import redact_text
from loglens.templates import template
from parsers import LoadResult

#: Findings about one extension whose time spans come this close are linked as related.
LINK_WINDOW = timedelta(minutes=15)
#: Rules run at once (the CI-class machine has two cores).
_PARALLEL_RULES = 2
#: Unexplained error templates listed.
MAX_OTHER_ERRORS = 25


@dataclass
class Context:
    """What a rule's `detect` sees.

    Attributes:
        frames: the named frames of the load.
        records: the unified record view, narrowed to records some rule's triggers match, errors
            and warnings, and every status and instance-view row.
        log_ends: per source path, the timestamp of its last record (from all records).
    """

    frames: dict[str, pl.DataFrame]
    records: pl.DataFrame
    log_ends: pl.DataFrame

    @cached_property
    def operations(self) -> pl.DataFrame:
        """Extension operations and their durations (`loglens.operations.measure`), computed once."""
        from loglens import operations

        return operations.measure(self.frames, self.records, self.log_ends)

    def search(
        self, pattern: str, *, kinds: tuple[str, ...] | None = None, words: tuple[str, ...] = ()
    ) -> pl.DataFrame:
        """Records whose message matches ``pattern`` (Rust regex), optionally from some kinds only.

        ``words``: literal words (ASCII case-insensitive) of which every match contains one. They
        are found with one Aho-Corasick pass first, so an expensive pattern runs on few rows.
        """
        frame = self.records if kinds is None else self.records.filter(pl.col("kind").is_in(kinds))
        if words:
            frame = frame.filter(pl.col("message").str.contains_any(list(words), ascii_case_insensitive=True))
        return frame.filter(pl.col("message").str.contains(pattern))


@dataclass
class OtherError:
    """Error or warning records no rule explains, grouped by message template."""

    template: str
    count: int
    path: str
    line: int | None
    text: str


@dataclass
class Analysis:
    """The result of analysing a load: findings (sorted) and unexplained errors."""

    load: LoadResult
    findings: list[Finding] = field(default_factory=list)
    other_errors: list[OtherError] = field(default_factory=list)
    #: Extension operations and durations (see `loglens.operations`), for the timeline.
    operations: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: The VM collections analysed (`LoadResult.collections`), in load order.
    collections: list[str] = field(default_factory=list)

    @property
    def several_vms(self) -> bool:
        """True when more than one VM was loaded; outputs then say which VM each finding is about."""
        return len(self.collections) > 1

    def counts(self) -> dict[str, int]:
        """Findings per severity."""
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}


def analyze(load: LoadResult, rules: tuple[ModuleType, ...] | None = None) -> Analysis:
    """Run ``rules`` (default: the registry) over a load result.

    Several VMs loaded at once (trees or archives side by side) are analysed one collection at a
    time (`LoadResult.collections`), so no finding pairs lines of different VMs.

    Example:
        >>> analysis = analyze(load_sources(["sample_logs"]))  # doctest: +SKIP
        >>> [f.summary for f in analysis.findings if f.severity == "error"]  # doctest: +SKIP
    """
    from loglens.rules import REGISTRY  # the registry imports every rule module

    modules = rules if rules is not None else REGISTRY
    views = collections(load)
    contexts = [_context(v.frames, v.records, modules, v.accounts) for v in views]
    # Rules are independent and spend their time in Polars (which releases the GIL): run two at once.
    work = [(context, module) for context in contexts for module in modules]
    with ThreadPoolExecutor(max_workers=_PARALLEL_RULES) as pool:
        results = list(pool.map(lambda job: (job[0], job[1], job[1].detect(job[0])), work))
    findings = []
    for view, context in zip(views, contexts, strict=True):
        mine = [finding_from_hit(m.RULE, m, hit) for c, m, hits in results if c is context for hit in hits]
        for finding in mine:
            finding.collection = view.name
        _link(mine)
        findings += mine
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.category, f.first_seen is None, f.first_seen or 0, f.rule))
    return Analysis(
        load=load,
        findings=findings,
        other_errors=_other_errors(pl.concat([c.records for c in contexts]), findings),
        operations=pl.concat([c.operations for c in contexts]),
        collections=[v.name for v in views],
    )


@dataclass
class CollectionView:
    """One collection (one VM's files) of a load: its frames, record view and accounts."""

    name: str
    frames: dict[str, pl.DataFrame]
    records: pl.DataFrame
    accounts: list


def collections(load: LoadResult) -> list[CollectionView]:
    """The load split by collection (`LoadResult.by_collection`), in load order.

    The record view is built once for the whole load, so `record` numbers stay unique.
    """
    records = record_view(load.frames)
    parts = load.by_collection()
    if len(parts) == 1:
        ((name, part),) = parts.items()
        return [CollectionView(name, part.frames, records, list(part.accounts))]
    return [
        CollectionView(
            name,
            part.frames,
            records.filter(pl.col("source_path").is_in([a.path for a in part.accounts])),
            part.accounts,
        )
        for name, part in parts.items()
    ]


def _log_ends(accounts) -> pl.DataFrame:
    """Per source path, its last record time, from the parsers' accounting (no pass over records)."""
    return pl.DataFrame(
        [(a.path, a.last_time) for a in accounts if a.last_time is not None],
        schema={"source_path": pl.String, "log_end": pl.Datetime("us", "UTC")},
        orient="row",
    )


def _context(
    frames: dict[str, pl.DataFrame], records: pl.DataFrame, modules: tuple[ModuleType, ...], accounts=()
) -> Context:
    """Build the rules' view: one pass of every trigger over all records (a DFA), then the narrowed set."""
    from loglens.operations import TRIGGERS as OPERATION_TRIGGERS

    # The operation lines are always kept: the timeline reads them whatever rules run.
    triggers = "|".join([f"(?:{m.RULE.triggers})" for m in modules] + [f"(?:{OPERATION_TRIGGERS})"])
    keep = (
        pl.col("message").str.contains(triggers)
        | pl.col("level").is_in(["ERROR", "WARNING", "CRITICAL"])
        | pl.col("kind").is_in(["status", "instance_view"])
    ).fill_null(False)
    # A regex pass runs on one core; two halves in two threads use both (Polars releases the GIL).
    half = (records.height + 1) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        masks = list(
            pool.map(lambda part: part.select(keep).to_series(), (records.slice(0, half), records.slice(half)))
        )
    return Context(frames=frames, records=records.filter(pl.concat(masks)), log_ends=_log_ends(accounts))


def _link(findings: list[Finding]) -> None:
    """Relate findings of different rules about the same extension that overlap in time.

    A multi-config extension is one handler: the agent's `Handler.Name` and the handler's own
    name link (a run command killed on timeout and the failure its handler log reports).
    """
    from loglens.operations import handler_of

    names = pl.Series("extension", [f.extension for f in findings], dtype=pl.String)
    handlers = pl.select(handler_of(pl.lit(names))).to_series().to_list()
    for i, a in enumerate(findings):
        for j in range(i + 1, len(findings)):
            b = findings[j]
            if a.rule == b.rule or not handlers[i] or handlers[i] != handlers[j]:
                continue
            if None in (a.first_seen, a.last_seen, b.first_seen, b.last_seen):
                continue
            if a.first_seen - LINK_WINDOW <= b.last_seen and b.first_seen - LINK_WINDOW <= a.last_seen:
                a.related.append(b.rule) if b.rule not in a.related else None
                b.related.append(a.rule) if a.rule not in b.related else None


def _other_errors(records: pl.DataFrame, findings: list[Finding]) -> list[OtherError]:
    explained = pl.Series("record", sorted({r for f in findings for r in f.records}), dtype=pl.UInt32)
    unexplained = records.filter(
        pl.col("level").is_in(["ERROR", "WARNING", "CRITICAL"]) & ~pl.col("record").is_in(explained.implode())
    )
    if unexplained.height == 0:
        return []
    grouped = (
        unexplained.with_columns(template=template(pl.col("message")))
        .group_by("template")
        .agg(
            count=pl.len(),
            path=pl.col("source_path").first(),
            line=pl.col("line_first").first(),
            text=pl.col("message").first(),
        )
        .sort(["count", "template"], descending=[True, False])
        .head(MAX_OTHER_ERRORS)
    )
    return [
        OtherError(
            template=redact_text(r["template"]),
            count=r["count"],
            path=r["path"],
            line=r["line"],
            text=redact_text(r["text"]),
        )
        for r in grouped.iter_rows(named=True)
    ]

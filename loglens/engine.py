"""Run the rules over each VM collection's context: the findings frame, links, unexplained errors.

`analyze(load)` is the whole pipeline after parsing: build the contexts (`loglens.context`), run
every rule on each, turn the hits into the `findings` and `evidence` frames, link related
findings, sort them into report order, and group the errors no finding explains. The result,
`Analysis`, is what every output reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType

import polars as pl

import catalogue
from loglens import recurring
from loglens.context import Context, RuleView, Streamed, build_contexts
from loglens.errors import first_line
from loglens.finding_frames import findings_frames, held, redacted_evidence
from loglens.findings import Findings
from loglens.knowledge import PROBLEM_LEVELS, SEVERITIES, handler_of
from loglens.packed import owned
from loglens.redact import redact_expr
from loglens.rules import REGISTRY
from loglens.schema import OTHER_ERROR_COLUMNS, conform
from loglens.templates import template
from parsers import LoadResult

#: Findings about one extension whose time spans come this close are linked as related.
LINK_WINDOW = timedelta(minutes=15)
#: Rules run at once (the CI-class machine has two cores). Fleet workers, one per core, set
#: LOGLENS_RULE_THREADS=1: their parallelism is across VMs.
_PARALLEL_RULES = max(1, int(os.environ.get("LOGLENS_RULE_THREADS") or 2))
#: Records (of all collections) from which the rules run one at a time: two at once, each over
#: hundreds of thousands of records (a noisy 2 GB log's 430,000 kept blips), peaked at both their
#: transients together (748 -> 694 MB whole process), for no time saved (Polars is parallel inside each).
RULES_ALONE_OVER = 100_000
#: Operations (of every collection) from which they are finished before the rules run (`run_rules`).
MEASURED_ALONE_OVER = 25_000
#: Unexplained error templates listed.
MAX_OTHER_ERRORS = 25


@dataclass(frozen=True)
class Analysis:
    """The result of analysing a load: the contexts, the findings and the unexplained errors.
    Complete when the pipeline (`loglens.pipeline`) returns it, and never changed after.

    Attributes:
        load: what the parsers read, its `waagent` frame holding only the rows the pipeline kept,
            in the record view's columns.
        timeline: records per source, minute and level, of the whole load (`loglens.summaries`).
        contexts: one per VM collection, in load order, with its derived frames.
        findings: the `findings` and `evidence` frames, in report order.
        other_errors: the `other_errors` frame.
        unexplained: error-level (`errors`) and warning-level (`warnings`) records no finding
            explains and no known-benign catalogue message accounts for, and how many records
            were set aside as known benign (`benign`): the verdict states them.
        rule_failures: one line per rule that raised on a collection (`rule X failed on Y: ...`);
            the other rules' findings stand.
        nearby: the agent records around the evidence (from the rows the pipeline retained, or
            read back from the files), which the kept rows may not hold; the reports show them as
            the evidence's context.
    """

    load: LoadResult
    timeline: pl.DataFrame
    contexts: list[Context]
    findings: Findings
    other_errors: pl.DataFrame
    rule_failures: list[str] = field(default_factory=list)
    nearby: pl.DataFrame | None = None
    unexplained: dict[str, int] = field(default_factory=lambda: {"errors": 0, "warnings": 0, "benign": 0})

    @property
    def warnings(self) -> list[str]:
        """Everything the reader should know was not fully done: input warnings, then rule failures."""
        return [*self.load.warnings, *self.rule_failures]

    @property
    def collections(self) -> list[str]:
        """The VM collections analysed, in load order."""
        return [c.collection for c in self.contexts]

    @property
    def several_vms(self) -> bool:
        """True when more than one VM was loaded; outputs then say which VM each finding is about."""
        return len(self.contexts) > 1

    @property
    def operations(self) -> pl.DataFrame:
        """The `operations` frame of every collection (read back on each call: they are held compressed)."""
        return self.operations_where(None)

    def operations_where(self, where: pl.Expr | None) -> pl.DataFrame:
        """The rows of `operations` that ``where`` keeps, of every collection."""
        return pl.concat([c.operations_where(where) for c in self.contexts])

    @property
    def operation_count(self) -> int:
        """How many operations every collection has."""
        return sum(c.measured.height for c in self.contexts)

    def operation_parts(self) -> Iterator[pl.DataFrame]:
        """Every collection's operations a part at a time (with `collection`), in reading order."""
        for context in self.contexts:
            yield from context.operation_parts()

    @property
    def versions(self) -> pl.DataFrame:
        """The `versions` frame of every collection."""
        return pl.concat([c.versions for c in self.contexts])

    @property
    def facts(self) -> pl.DataFrame:
        """The `facts` frame: one row per collection."""
        return pl.concat([c.facts for c in self.contexts])

    def counts(self) -> dict[str, int]:
        """Findings per severity."""
        return self.findings.counts()

    def unexplained_in(self, collection: str) -> dict[str, int]:
        """`unexplained`, counted over one collection's records."""
        return _unexplained([c for c in self.contexts if c.collection == collection], self.findings.table)

    def fails(self, fail_on: str) -> bool:
        """True when a finding is at or above ``fail_on`` (`error`, `warning`; `never` never fails)."""
        if fail_on == "never":
            return False
        levels = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        return bool(self.findings.table["severity"].is_in(levels).any())


def run_rules(load: LoadResult, rules: tuple[ModuleType, ...] | None, streamed: Streamed) -> Analysis:
    """Run ``rules`` (None: the registry) over a load whose agent records went through the
    pipeline's digest (`loglens.pipeline`; ``streamed``: what it left).

    Several VMs loaded at once (trees or archives side by side) are analysed one collection at a
    time (`LoadResult.collections`), so no finding pairs lines of different VMs.

    Callers go through the pipeline: `loglens.api.analyze`.
    """
    modules = rules if rules is not None else REGISTRY
    whole, contexts = build_contexts(load, [m.RULE for m in modules], streamed)
    # Many operations are finished before the rules start, alone (`Context.measured`, a part at a
    # time): overlapped with another rule's transient theirs would add to its peak. (Few are
    # finished by the first rule that reads them, beside the others: a small VM's 11 ms.)
    if any("operations" in module.RULE.reads for module in modules):
        for context in contexts:
            if context.pairing.height >= MEASURED_ALONE_OVER:
                context.measured  # noqa: B018 - a cached property, computed here on purpose
    # Rules are independent and spend their time in Polars (which releases the GIL): on a small or
    # quiet input two run at once.
    work = [(context, module) for context in contexts for module in modules]
    big = sum(context.records.height for context in contexts) >= RULES_ALONE_OVER
    with ThreadPoolExecutor(max_workers=1 if big else _PARALLEL_RULES) as pool:
        results = list(pool.map(lambda job: _run_rule(*job), work))
    table, evidence = recurring.summarise(*findings_frames([hit for hits, _ in results for hit in hits]))
    table = _in_report_order(_causes_over_symptoms(_linked(table), modules))
    order = table.select(old="finding", new=pl.int_range(pl.len(), dtype=pl.UInt32))
    evidence = (
        redacted_evidence(evidence)
        .join(order, left_on="finding", right_on="old")
        .with_columns(finding=pl.col("new"))
        .drop("new")
        .sort("finding", "rank")
    )
    # Owned: a few findings' texts were gathered from per-hit columns whose buffers they would keep.
    table, evidence = owned(table.with_columns(finding=order["new"])), owned(evidence)
    return Analysis(
        load=load,
        timeline=whole.timeline,
        contexts=contexts,
        findings=Findings(table, evidence),
        other_errors=_other_errors(pl.concat([c.records for c in contexts]), table),
        rule_failures=[failure for _, failure in results if failure],
        unexplained=_unexplained(contexts, table),
    )


def _run_rule(context: Context, module: ModuleType) -> tuple[list, str | None]:
    """One rule's hits on one collection, or no hits and why the rule failed.

    A rule that raises on odd input costs its own findings, never the run: the failure is
    reported beside the other rules' findings.
    """
    try:
        hits = module.detect(RuleView(context, module.RULE))
        return [(context.collection, module, held(hit)) for hit in hits], None
    # A Polars panic is a BaseException, not an Exception: it is a rule failure all the same.
    except (Exception, pl.exceptions.PanicException) as exc:  # noqa: BLE001 - any rule bug is reported
        reason = first_line(exc)
        where = f" on {context.collection}" if context.collection else ""
        return [], f"rule {module.RULE.id} failed{where} ({type(exc).__name__}: {reason}); its findings are missing"


def _in_report_order(table: pl.DataFrame) -> pl.DataFrame:
    """Most severe first, then by category, time (untimed last) and rule."""
    rank = pl.col("severity").replace_strict({s: i for i, s in enumerate(SEVERITIES)}, return_dtype=pl.UInt8)
    return table.sort(
        [rank, pl.col("category"), pl.col("first_seen"), pl.col("rule")], nulls_last=True, maintain_order=True
    )


def _causes_over_symptoms(table: pl.DataFrame, modules: tuple[ModuleType, ...]) -> pl.DataFrame:
    """One incident, one finding: a finding that a cause explains (its rule declares the cause's
    rule in `Rule.symptom_of`, and the same record proves both) is kept as that cause's symptom,
    at info, instead of a second error."""
    pairs = pl.DataFrame(
        [(m.RULE.id, cause) for m in modules for cause in m.RULE.symptom_of],
        schema={"rule": pl.String, "rule_cause": pl.String},
        orient="row",
    )
    proof = table.select("finding", "collection", "rule", "severity", "title", "records").explode("records")
    causes = proof.filter(pl.col("severity").is_in(["error", "warning"]))
    explained = (
        proof.join(pairs, on="rule")
        .join(
            causes,
            left_on=["collection", "records", "rule_cause"],
            right_on=["collection", "records", "rule"],
            suffix="_cause",
        )
        .filter(pl.col("finding") != pl.col("finding_cause"))
        .group_by("finding", maintain_order=True)
        .agg(cause=pl.col("title_cause").first())
    )
    if explained.height == 0:
        return table
    return (
        table.join(explained, on="finding", how="left")
        .with_columns(
            severity=pl.when(pl.col("cause").is_not_null()).then(pl.lit("info")).otherwise("severity"),
            summary=pl.when(pl.col("cause").is_not_null())
            .then(pl.format("{}; a symptom of: {}", "summary", pl.col("cause").str.to_lowercase()))
            .otherwise("summary"),
        )
        .drop("cause")
    )


def _linked(table: pl.DataFrame) -> pl.DataFrame:
    """Relate findings of different rules about the same extension whose time spans overlap.

    A multi-config extension is one handler: the agent's `Handler.Name` and the handler's own
    name link (a run command killed on timeout and the failure its handler log reports).
    """
    timed = table.filter(
        pl.col("first_seen").is_not_null() & pl.col("last_seen").is_not_null() & pl.col("extension").is_not_null()
    ).select("finding", "collection", "rule", "first_seen", "last_seen", handler=handler_of(pl.col("extension")))
    timed = timed.filter(pl.col("handler") != "")
    pairs = timed.join(timed, on=["collection", "handler"], suffix="_b").filter(
        (pl.col("rule") != pl.col("rule_b"))
        & (pl.col("first_seen") - LINK_WINDOW <= pl.col("last_seen_b"))
        & (pl.col("first_seen_b") - LINK_WINDOW <= pl.col("last_seen"))
    )
    related = (
        pairs.sort("finding", "finding_b")
        .group_by("finding", maintain_order=True)
        .agg(linked=pl.col("rule_b").unique(maintain_order=True))
    )
    return (
        table.join(related, on="finding", how="left")
        .with_columns(related=pl.col("linked").fill_null(pl.lit([], pl.List(pl.String))))
        .drop("linked")
    )


def _unexplained(contexts: list[Context], findings: pl.DataFrame) -> dict[str, int]:
    """How many error and warning records no finding explains, known-benign ones set apart."""
    explained = findings["records"].explode().drop_nulls().unique().implode()
    benign_ids = catalogue.load().ids(category="benign")
    counts = {"errors": 0, "warnings": 0, "benign": 0}
    for context in contexts:
        open_ = context.records.filter(pl.col("level").is_in(PROBLEM_LEVELS) & ~pl.col("record").is_in(explained))
        if open_.is_empty():
            continue
        benign = context.messages_of(tuple(benign_ids))["record"].unique().implode()
        known = pl.col("record").is_in(benign)
        counts["benign"] += open_.filter(known).height
        rest = open_.filter(~known)["level"].cast(pl.String)
        counts["warnings"] += int((rest == "WARNING").sum())
        counts["errors"] += rest.len() - int((rest == "WARNING").sum())
    return counts


def _other_errors(records: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """Error and warning records no finding explains, grouped by message template.

    The `MAX_OTHER_ERRORS` most frequent templates are kept, then listed as they happened: by the
    time of each one's first record (its example), then its file and line, untimed last. Sorted by
    count (then by name), a sequence of one-off errors read in alphabetical order, not in the order
    that tells what led to what.
    """
    explained = findings["records"].explode().drop_nulls().unique()
    unexplained = records.filter(pl.col("level").is_in(PROBLEM_LEVELS) & ~pl.col("record").is_in(explained.implode()))
    in_time = ["timestamp", "source_path", "line_first"]
    grouped = (
        unexplained.sort(in_time, nulls_last=True, maintain_order=True)
        .with_columns(template=template(pl.col("message")).fill_null("(no message)"))
        .group_by("template", maintain_order=True)
        .agg(
            count=pl.len(),
            first_seen=pl.col("timestamp").first(),
            path=pl.col("source_path").first(),
            line=pl.col("line_first").first(),
            text=pl.col("message").first(),
        )
        .sort(["count", "template"], descending=[True, False])
        .head(MAX_OTHER_ERRORS)
        .sort(["first_seen", "path", "line"], nulls_last=True, maintain_order=True)
        .with_columns(redact_expr(pl.col("template")), redact_expr(pl.col("text")))
    )
    return conform(grouped, OTHER_ERROR_COLUMNS)

"""How the WireServer rule (`wireserver_unreachable`) words what it found: per failure, where
its request went, how it failed and what HTTP statuses it got; per streak of failures, its facts
and its summary line, computed for every streak at once (a noisy VM has thousands)."""

from __future__ import annotations

import polars as pl

from loglens.rules._common import duration_expr
from loglens.timefmt import MINUTE

#: The socket errors a failure ends in, as the summary names them: all are "no answer at all".
SYMPTOMS = {
    "net.timed-out": "timeouts",
    "net.connection-refused": "connection refused",
    "net.no-route-to-host": "no route to host",
    "net.network-unreachable": "network unreachable",
    "net.connection-reset": "connections reset",
}
#: Failures of endpoint discovery, which get no answer from the WireServer either.
DISCOVERY = (
    "wire.no-route",
    "wire.dhcp-request-failed",
    "wire.legacy-dhcp-failed",
    "wire.legacy-environment-detection-failed",
    "wire.not-responding",
    "wire.protocol-endpoint-not-found",
    "wire.retry-detect-protocol",
    "wire.no-protocol-found",
    "wire.legacy-protocol-detect-failed",
)
#: Answers whose status the message implies rather than states (403 and 503 throttling, 410 Gone).
IMPLIED_STATUS = {"wire.throttled": "403", "wire.service-unavailable": "503", "wire.legacy-post-failed": "410"}
#: Where a failing request went: (label, message ids or id prefixes, endpoint substrings); the
#: first that a failure matches names it.
ENDPOINTS = (
    ("vmSettings", ("wire.vmsettings-failed",), ("/vmSettings",)),
    ("HostGAPlugin health", ("wire.hostplugin-heartbeat-failed",), (":32526/health",)),
    ("HostGAPlugin", ("wire.hostplugin-",), (":32526",)),
    ("telemetry", ("wire.telemetry-failed", "benign.telemetry-dropped"), ("comp=telemetrydata",)),
    ("health report", ("wire.provision-status-failed",), ("comp=health", "/HealthService")),
    ("status upload", ("wire.status-upload-failed", "wire.report-status-failed"), ()),
    ("endpoint discovery", DISCOVERY, ()),
    (
        "goal state",
        ("wire.goal-state-", "wire.extension-handlers-exception", "wire.legacy-update-goal-state-failed"),
        ("/machine",),
    ),
)
#: Up to this many failures that then recover are a transient blip (the agent team's own threshold).
TRANSIENT_MAX = 5


def streak_facts(events: pl.DataFrame) -> pl.DataFrame:
    """Per streak, in order: its rows, failures, first and last failure, recovery time, and the
    symptoms, targets and HTTP statuses of its failures, and whether any got no answer at all."""
    failed = ~pl.col("recovered")
    no_answer = [*SYMPTOMS, *DISCOVERY]
    return (
        events.with_columns(ids=pl.col("ids").fill_null(pl.lit([], pl.List(pl.String))))
        .with_columns(
            target=_target(),
            symptoms=symptoms_of(),
            statuses=_statuses(),
            no_answer=pl.col("ids").list.eval(pl.element().is_in(no_answer)).list.any(),
        )
        .group_by("streak", maintain_order=True)
        .agg(
            rows=pl.len(),
            failures=failed.sum(),
            first=pl.col("timestamp").filter(failed).min(),
            last=pl.col("timestamp").filter(failed).max(),
            ended=pl.col("timestamp").filter(~failed).max(),
            targets=pl.col("target").filter(failed).unique(maintain_order=True),
            symptoms=pl.col("symptoms").filter(failed).explode().drop_nulls().unique(),
            statuses=pl.col("statuses").filter(failed).explode().drop_nulls().unique().sort(),
            unreachable=pl.col("no_answer").filter(failed).any(),
        )
        # As `timefmt.minute` writes times, for thousands of streaks at once.
        .with_columns(
            first_minute=pl.col("first").dt.strftime(MINUTE),
            last_minute=pl.col("last").dt.strftime(MINUTE),
            ended_clock=pl.col("ended").dt.strftime("%H:%M"),
        )
    )


def _target() -> pl.Expr:
    """Per failure, where its request went (the first of `ENDPOINTS` it matches, else `WireServer`)."""
    label = pl.lit("WireServer")
    for name, wanted, parts in reversed(ENDPOINTS):
        by_id = pl.element().is_in([w for w in wanted if not w.endswith("-")])
        for prefix in (w for w in wanted if w.endswith("-")):
            by_id = by_id | pl.element().str.starts_with(prefix)
        matched = pl.col("ids").list.eval(by_id).list.any().fill_null(False)
        if parts:
            matched = matched | pl.col("endpoint").fill_null("").str.contains_any(list(parts))
        label = pl.when(matched).then(pl.lit(name)).otherwise(label)
    return label


def symptoms_of() -> pl.Expr:
    """Per failure, how it failed, as the summary names it (`SYMPTOMS`, DHCP, protocol, HTTP errors)."""
    ids = pl.col("ids").fill_null(pl.lit([], pl.List(pl.String)))
    named = ids.list.eval(pl.element().replace_strict(SYMPTOMS, default=None)).list.drop_nulls()
    dhcp = pl.when(ids.list.contains("net.not-permitted")).then(pl.lit("DHCP requests not permitted"))
    extra = [
        pl.when(ids.list.contains("wire.protocol-endpoint-not-found")).then(pl.lit("protocol not found")),
        pl.when(ids.list.contains("wire.dhcp-request-failed")).then(dhcp.otherwise(pl.lit("DHCP requests failing"))),
        pl.when(pl.col("status").is_not_null() & (pl.col("status") != "000")).then(pl.lit("HTTP error answers")),
    ]
    return pl.concat_list(named, *extra).list.drop_nulls()


def _statuses() -> pl.Expr:
    """Per failure, the HTTP statuses it got: stated by a message, or implied by it (not `000`)."""
    implied = pl.col("ids").list.eval(pl.element().replace_strict(IMPLIED_STATUS, default=None)).list.drop_nulls()
    stated = pl.when(pl.col("status") != "000").then(pl.col("status"))
    return pl.concat_list(implied, stated).list.drop_nulls()


def how_it_failed(symptoms: list[str | None]) -> str:
    """`timeouts and connection refused`: the symptoms, or `request failures` when none is named."""
    return " and ".join(sorted({s for s in symptoms if s})) or "request failures"


def streak_table(facts: pl.DataFrame) -> pl.DataFrame:
    """The `Hits.table` of the streaks (rows of `streak_facts`): each one's summary, severity and count."""
    failures, ended = pl.col("failures"), pl.col("ended")
    lasted = (pl.coalesce(ended, "last") - pl.col("first")).dt.total_microseconds() / 1_000_000
    symptoms = pl.col("symptoms").list.eval(pl.element().filter(pl.element() != "")).list.sort().list.join(" and ")
    how = pl.when(symptoms == "").then(pl.lit("request failures")).otherwise(symptoms)
    where = pl.col("targets").list.join(", ")
    tail = (
        pl.when(ended.is_not_null())
        .then(pl.format("recovered at {} UTC after {}", "ended_clock", duration_expr(lasted)))
        .when(failures > 1)
        .then(pl.lit("still failing at the last failure logged"))
        .otherwise(pl.lit("no recovery logged"))
    )
    transient = ended.is_not_null() & (failures <= TRANSIENT_MAX) & (lasted <= 3600)
    what = (
        pl.when(transient)
        .then(pl.format("Transient WireServer blip ({}; {})", how, where))
        .when((pl.col("statuses").list.len() > 0) & ~pl.col("unreachable"))
        .then(pl.format("168.63.129.16 answered with errors (HTTP {}; {})", pl.col("statuses").list.join(", "), where))
        .otherwise(pl.format("168.63.129.16 unreachable ({}; {})", how, where))
    )
    span = (
        pl.when(pl.col("first_minute") == pl.col("last_minute"))
        .then(pl.format("at {} UTC", "first_minute"))
        .otherwise(pl.format("from {} to {} UTC", "first_minute", "last_minute"))
    )
    # One failure with nothing after it shows no persistence: a warning, not an outage.
    lone = (failures == 1) & ended.is_null()
    return facts.select(
        summary=pl.format("{}: {} failure(s) {}, {}", what, failures, span, tail),
        rows=pl.col("rows").cast(pl.UInt32),
        severity=pl.when(transient | lone).then(pl.lit("warning")),
        count=failures.cast(pl.Int64),
    )

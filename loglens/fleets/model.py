"""The typed fleet report: what every fleet output shows, built once from a `Fleet`.

The same protocol as one VM's report (`loglens.reports.model`): the fleet's tables are gathered
as plain data, redacted in the one pass (`loglens.reports.model.redacted`; the dataset's log text
is redacted already, this catches what reached it another way), then made frozen dataclasses.
The HTML, Markdown and terminal fleet summaries (`loglens.fleets.report`) render it and nothing else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from loglens.reports.charts import chart_data, chart_specs
from loglens.reports.model import redacted
from loglens.reports.report import Chart, Extension, typed

#: VMs listed one by one in the report (the dataset holds all of them).
MAX_VM_ROWS = 2000
#: Causes the terminal summary lists.
TERMINAL_CAUSES = 15


@dataclass(frozen=True)
class FleetCounts:
    """VMs in all, failed to analyse, with an error finding, with warnings only, clean."""

    vms: int
    failed: int
    errors: int
    warnings: int
    clean: int


@dataclass(frozen=True)
class Cause:
    """A rule's error or warning findings across the fleet (`Fleet.causes`)."""

    category: str
    rule: str
    severity: str
    vms: int
    findings: int
    since: datetime | None
    until: datetime | None
    title: str | None


@dataclass(frozen=True)
class ExtensionVersion:
    """Findings about one extension version in one category (`Fleet.by_extension`)."""

    extension: str
    version: str | None
    category: str
    vms: int
    findings: int
    since: datetime | None


@dataclass(frozen=True)
class FleetTemplate:
    """An unexplained error template across the fleet, with one example (`Fleet.top_templates`)."""

    template: str | None
    vms: int
    count: int
    example_vm: str | None
    path: str | None
    line: int | None


@dataclass(frozen=True)
class VmRow:
    """One VM of the fleet (`Fleet.vm_table`); `report`: its own HTML report inside the dataset."""

    vm: str
    status: str
    error: str | None
    agent_version: str | None
    goal_state_agent: str | None
    distro: str | None
    extensions: tuple[Extension, ...] | None
    errors: int | None
    warning_findings: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    report: str | None
    categories: tuple[str, ...] | None


@dataclass(frozen=True)
class RunStats:
    """What the run that wrote the dataset did (`loglens.fleets.run.FleetRun`), for the terminal."""

    analysed: int
    failed: int
    skipped: int
    seconds: float
    workers: int


@dataclass(frozen=True)
class FleetReport:
    """Everything the fleet outputs show."""

    generated_at: datetime
    version: str
    #: The dataset's directory.
    dataset: str
    verdict: str
    counts: FleetCounts
    causes: tuple[Cause, ...]
    by_extension: tuple[ExtensionVersion, ...]
    templates: tuple[FleetTemplate, ...]
    #: The first `MAX_VM_ROWS` VMs, worst first; `vms_hidden` the rest.
    vms: tuple[VmRow, ...]
    vms_hidden: int
    #: Empty unless built with charts (the HTML report draws them).
    charts: tuple[Chart, ...] = ()
    #: The run that wrote the dataset, when the report is made right after it.
    run: RunStats | None = None


def build(
    fleet, *, version: str = "", charts: bool = True, run=None, generated_at: datetime | None = None
) -> FleetReport:
    """The report of a `Fleet` (``run``: the `FleetRun` that just wrote it, if any)."""
    from loglens.fleets import figures

    table = fleet.vm_table()
    plain = redacted({
        "generated_at": generated_at or datetime.now(UTC),
        "version": version,
        "dataset": str(fleet.out),
        "verdict": fleet.verdict(),
        "counts": fleet.counts(),
        "causes": fleet.causes().to_dicts(),
        "by_extension": fleet.by_extension().to_dicts(),
        "templates": fleet.top_templates().to_dicts(),
        "vms": table.head(MAX_VM_ROWS).to_dicts(),
        "vms_hidden": max(0, table.height - MAX_VM_ROWS),
        "charts": chart_data(figures.FIGURES, fleet) if charts else [],
    })
    plain["charts"] = chart_specs(plain["charts"])
    report = typed(FleetReport, plain)
    if run is not None:
        stats = RunStats(run.analysed, len(run.failed), run.skipped, run.seconds, run.workers)
        report = dataclasses.replace(report, run=stats)
    return report

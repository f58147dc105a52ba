"""The VMs a run analysed, healthy ones included: the JSON document's `vms` list.

One entry per VM collection, in load order: `vm`, the name `loglens fleet` gives the same VM
(`parsers.vm_groups.vm_name`), `collection` (what its findings name), `inputs` (its source
paths), `verdict` (the report's verdict paragraph, for this VM alone) and `summary` (its findings
per severity).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from loglens.engine import Analysis
from loglens.findings import Findings
from parsers.load import LoadResult
from parsers.vm_groups import archive_of


def vm_entries(analysis: Analysis, verdict: Callable[[Analysis], str]) -> list[dict[str, Any]]:
    """Per VM analysed: `vm`, `collection`, `inputs`, `verdict` and `summary` (unredacted).

    ``verdict`` is the report model's (`loglens.reports.model.verdict`), given by the model so
    that a VM's verdict reads like the run's.
    """
    load = analysis.load
    placed = load.collections()
    names = load.vm_names()
    entries = []
    for collection in analysis.collections:
        inputs = [path for path, name in placed.items() if name == collection]
        alone = _alone(analysis, collection, inputs)
        entries.append({
            "vm": names.get(collection, collection),
            "collection": collection,
            "inputs": inputs,
            "verdict": verdict(alone),
            "summary": alone.counts(),
        })
    return entries


def _alone(analysis: Analysis, collection: str, inputs: list[str]) -> Analysis:
    """The analysis narrowed to one collection: what the verdict reads of it."""
    load = analysis.load
    table = analysis.findings.table.filter(pl.col("collection") == collection)
    evidence = analysis.findings.evidence.filter(pl.col("finding").is_in(table["finding"].implode()))
    mine = set(inputs)
    part = LoadResult(
        frames=load.frames,
        accounts=[a for a in load.accounts if a.path in mine],
        ignored=[name for name in load.ignored if _within(name, collection)],
        looked_like=load.looked_like,
        directories=load.directories,
    )
    return Analysis(
        load=part,
        timeline=analysis.timeline,
        contexts=[c for c in analysis.contexts if c.collection == collection],
        findings=Findings(table, evidence),
        other_errors=analysis.other_errors,
        rule_failures=[f for f in analysis.rule_failures if f" failed on {collection} (" in f],
        unexplained=analysis.unexplained_in(collection),
    )


def _within(path: str, collection: str) -> bool:
    """True when a file found at ``path`` lies in the VM whose root is ``collection``."""
    where = archive_of(path) or path
    return where == collection or where.startswith(collection.rstrip("/") + "/") or collection == "."

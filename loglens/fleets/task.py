"""One fleet task: analyse one VM exactly as `loglens analyze` would, and write its dataset files.

Runs on a Dask worker (any process with loglens installed). A collection that cannot be analysed
(nothing readable, a blob that cannot be downloaded) is a `failed` row with `failure` `input`; any
other exception escapes, so Dask retries the task and the driver records it as a `task` failure.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from loglens import api
from loglens.errors import InputError, first_line
from loglens.fleets import dataset, storage
from loglens.fleets.units import Unit
from loglens.redact import redact_texts
from loglens.version import __version__

#: Input warnings kept in a failed VM's `error`.
_WARNINGS_IN_ERROR = 3


@dataclass(frozen=True)
class Settings:
    """What every task of a run shares."""

    out: str
    tz: str | None = None
    per_vm_html: bool = False
    #: Sent to workers for `az://` sources; never printed (kept out of the repr).
    connection_string: str | None = field(default=None, repr=False)


def analyze_unit(unit: Unit, settings: Settings) -> dict:
    """Analyse ``unit`` and write its parts of the dataset; returns its `vms` row."""
    started = time.perf_counter()
    out = Path(settings.out)
    with tempfile.TemporaryDirectory(prefix="loglens-fleet-") as scratch:
        prefix = _source_prefix(unit, Path(scratch))
        try:
            local = _local_copy(unit, settings, Path(scratch))
            analysis = api.analyze([local], tz=settings.tz)
        except (InputError, storage.StorageError) as exc:
            row = failed_row(unit, "input", _why(exc, prefix))
            row["seconds"] = time.perf_counter() - started
            dataset.write_vm(out, unit.stem, {}, row)
            return row
        frames = fleet_frames(analysis, unit.vm, prefix)
        report = None
        if settings.per_vm_html:
            report = f"{dataset.REPORTS}/{unit.stem}.html"
            (out / dataset.REPORTS).mkdir(parents=True, exist_ok=True)
            api.write_html(analysis, out / report)
    row = ok_row(unit, analysis, report)
    row["seconds"] = time.perf_counter() - started
    dataset.write_vm(out, unit.stem, frames, row)
    return row


def _why(exc: Exception, prefix: str) -> str:
    """The error with the first warnings behind it (what was found and why it could not be read)."""
    reasons = [first_line(exc), *getattr(exc, "warnings", [])[:_WARNINGS_IN_ERROR]]
    return "; ".join(r.replace(prefix, "") for r in reasons)


def _source_prefix(unit: Unit, scratch: Path) -> str:
    """What comes before `vm` in the paths the analysis reports: removed, they read relative to the source."""
    if storage.is_blob_url(unit.location):
        return f"{scratch}/"  # downloaded to scratch/<vm>
    location = str(Path(unit.location))
    return location[: -len(unit.vm)] if location.endswith("/" + unit.vm) else f"{Path(location).parent}/"


def _local_copy(unit: Unit, settings: Settings, scratch: Path) -> Path:
    """The unit as a local path: itself, or its blobs downloaded under ``scratch``."""
    if not storage.is_blob_url(unit.location):
        return Path(unit.location)
    parent = Path(unit.vm).parent.as_posix()
    into = scratch if parent == "." else storage.confined(scratch, parent)
    into.mkdir(parents=True, exist_ok=True)
    return storage.download(unit.location, unit.members, unit.is_directory, into, settings.connection_string)


def fleet_frames(analysis, vm: str, prefix: str) -> dict[str, pl.DataFrame]:
    """The analysis as fleet parts: a `vm` column first, paths relative to the fleet source."""

    def relative(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
        fixed = [pl.col(c).str.strip_prefix(prefix) for c in columns]
        return frame.with_columns(fixed).select(pl.lit(vm, pl.String).alias("vm"), pl.all())

    # A loose file's collection is its directory: the VM itself.
    findings = analysis.findings.table.drop("records").with_columns(
        collection=pl.when(pl.col("collection") == prefix.rstrip("/")).then(pl.lit(vm)).otherwise("collection")
    )
    return {
        "findings": relative(findings, "collection"),
        "evidence": relative(analysis.findings.evidence, "path"),
        "other_errors": relative(analysis.other_errors, "path"),
    }


def ok_row(unit: Unit, analysis, report: str | None) -> dict:
    facts = analysis.facts.to_dicts()
    fact = {k: next((f[k] for f in facts if f[k] is not None), None) for k in (facts[0] if facts else {})}
    accounts = analysis.load.accounts
    counts = analysis.counts()
    return {
        **_unit_columns(unit),
        "status": "ok",
        "agent_version": fact.get("agent_package"),
        "goal_state_agent": fact.get("goal_state_agent"),
        "distro": fact.get("distro"),
        "extensions": [e for f in facts for e in f["extensions"] or []],
        "files": len(accounts),
        "lines": sum(a.lines for a in accounts),
        "unparsed": sum(a.unparsed for a in accounts),
        "warnings": len(analysis.warnings),
        "errors": counts.get("error", 0),
        "warning_findings": counts.get("warning", 0),
        "infos": counts.get("info", 0),
        "first_seen": fact.get("first_seen"),
        "last_seen": fact.get("last_seen"),
        "report": report,
    }


def failed_row(unit: Unit, failure: str, error: str) -> dict:
    """The row of a VM that could not be analysed (``failure``: `input` or `task`)."""
    return {**_unit_columns(unit), "status": "failed", "failure": failure, "error": redact_texts([error])[0]}


def _unit_columns(unit: Unit) -> dict:
    return {
        "vm": unit.vm,
        "source": unit.source,
        "location": unit.location,
        "fingerprint": unit.fingerprint,
        "loglens_version": __version__,
    }

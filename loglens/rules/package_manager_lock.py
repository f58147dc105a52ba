"""An extension could not get the package manager's lock (dpkg/apt, yum/dnf/rpm, zypper).

What it detects:
    Lock messages of the package tools in any source (captured `[stdout]`/`[stderr]` in
    waagent.log, extension logs, status files, the instance view): `Could not get lock
    /var/lib/dpkg/lock-frontend. It is held by process 2877 (unattended-upgr)`, `Unable to
    acquire the dpkg frontend lock`, `dpkg frontend lock was locked by ...`, `Another app is
    currently holding the yum lock`, `Waiting for process with pid ... to finish`, `can't create
    transaction lock on /var/lib/rpm/.rpm.lock`, `System management is locked by the application
    with pid ... (zypper)`, and the extensions' own `package manager ... is currently locked`
    messages (exit codes 55/56).

Why it matters:
    An extension that installs packages needs the package manager to itself. On a fresh VM,
    cloud-init, unattended-upgrades, yum-cron or another extension often holds it. apt-get,
    dpkg and zypper then fail at once, so the extension exits non-zero. yum and dnf wait instead,
    so the extension can run into its timeout.

Example:
    E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 3121 (unattended-upgr)

Known benign causes:
    A wait that ends in success (yum waiting, then `Installed: ...`) only slows the
    operation down. It is reported as a warning, not an error.

Remediation:
    Let the holder finish: wait for cloud-init (`cloud-init status --wait`) and for
    unattended-upgrades or yum-cron, or schedule them away from the deployment window. Then
    re-run the extension (`az vm extension set`). For images you build, disable automatic
    updates during provisioning.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/features-linux#common-reasons-for-extension-failures
"""

from __future__ import annotations

import polars as pl

import catalogue

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, span_text, version_of

RULE = Rule(
    id="package-manager-lock",
    category="lock-contention",
    severity="error",
    title="Package manager locked by another process",
    severity_note="warning for a wait that succeeded",
    messages=("pkg.",),
)
#: Lock messages that say the tool gave up (apt's `E: Could not get lock`, dpkg's `error:`), as
#: their catalogue entries grade them: the others say it waits (`Waiting for cache lock`).
_GAVE_UP = frozenset(e.id for e in catalogue.load().entries if e.id.startswith("pkg.") and e.severity == "error")


def detect(context: Context) -> list[Hit]:
    hits = []
    matched = context.tagged(RULE.messages)
    for (extension,), rows in matched.group_by(["extension"], maintain_order=True):
        text = "\n" + "\n".join(m for m in rows["message"].to_list() if m)
        holder = _holder(rows)
        lock = _first(rows, "lock_file")
        manager = _manager(text)
        failed = (rows["level"].cast(pl.String) == "ERROR").any() or rows["message_id"].is_in(_GAVE_UP).any()
        operation = context.field_of(rows["record"], "operation")
        what = f"{operation} of {extension}" if operation and extension else (extension or "A package operation")
        held = (
            f"{lock or manager + ' lock'} was held by {holder}"
            if holder
            else f"the {manager} lock was held"
        )
        verb = "failed" if failed else "waited"
        span = span_text(rows)
        summary = f"{what} {verb}: {held}" + (f" ({span})" if span else "")
        hits.append(
            Hit(
                summary,
                rows.select(HIT_COLUMNS),
                severity=None if failed else "warning",
                extension=extension,
                version=version_of(rows),
            )
        )
    return hits


def _first(rows: pl.DataFrame, field: str) -> str | None:
    """The first non-null value of a catalogue field among the rows."""
    values = rows.get_column(field).drop_nulls()
    return values[0] if values.len() else None


def _holder(rows: pl.DataFrame) -> str | None:
    """`name (pid N)` from the lock messages' `holder` and `pid` fields."""
    pid, name = _first(rows, "pid"), _first(rows, "holder")
    if name and pid:
        return f"{name} (pid {pid})"
    return name or (f"pid {pid}" if pid else None)


def _manager(text: str) -> str:
    lowered = text.lower()
    for word in ("zypper", "dnf", "yum", "rpm", "apt", "dpkg"):
        if word in lowered:
            return "dpkg" if word == "apt" else word
    return "package manager"

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
import regex

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, span_text, version_of

#: Lock messages of apt/dpkg, yum/dnf/rpm and zypper, and the extensions' own lock notices.
LOCK = (
    r"(?i)could not get lock|unable to acquire the dpkg frontend lock|unable to lock the administration directory"
    r"|unable to lock directory /var/lib/apt/lists|dpkg (?:frontend|database) lock (?:is|was) locked"
    r"|dpkg status database is locked|waiting for cache lock|holding the (?:yum|dnf) lock|existing lock /var/run/yum\.pid"
    r"|waiting for process with pid \d+ to finish|transaction lock on \S*\.rpm\.lock|system management is locked by the application"
    r"|package manager (?:on the vm )?is (?:currently )?locked|dpkg frontend is locked by another process"
)
#: Every LOCK match contains one of these words (a cheap first pass).
LOCK_WORDS = ("lock", "waiting for process")
#: `It is held by process 3121 (unattended-upgr)`, zypper's `with pid 1450 (zypper)`, dpkg's `locked by X process with pid N`.
_HOLDER = (
    r"(?:held by process|application with pid|another copy is running as pid) (\d+)(?: \(([^)]+)\))?"
    r"|locked by (\S+) process with pid (\d+)|The other application is: (\S+)"
)
#: The rpm lock path starts at a word start: an unanchored `\S*` would retry at every character of
#: a long token, quadratic in its length (a 780 KB line took minutes).
_LOCK_FILE = (
    r"(/var/lib/dpkg/lock(?:-frontend)?|/var/lib/apt/lists/lock|/var/cache/apt/archives/lock|/var/run/yum\.pid"
    r"|(?<![^\s'\"(=])\S*?\.rpm\.lock)"
)


RULE = Rule(
    id="package-manager-lock",
    category="lock-contention",
    severity="error",
    title="Package manager locked by another process",
    triggers=LOCK,
)


def detect(context: Context) -> list[Hit]:
    hits = []
    matched = context.search(LOCK, words=LOCK_WORDS)
    for (extension,), rows in matched.group_by(["extension"], maintain_order=True):
        text = "\n".join(m for m in rows["message"].to_list() if m)
        holder = _holder(text)
        lock = regex.search(_LOCK_FILE, text)
        manager = _manager(text)
        # apt's `E: Could not get lock` and dpkg's `dpkg: error: ...` are the tools giving up.
        failed = (rows["level"].cast(pl.String) == "ERROR").any() or bool(
            regex.search(r"(?i)exit code|failed|^E: |\berror: ", text, flags=regex.M)
        )
        operation = _operation(text)
        what = f"{operation} of {extension}" if operation and extension else (extension or "A package operation")
        held = (
            f"{lock.group(1) if lock else manager + ' lock'} was held by {holder}"
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


def _holder(text: str) -> str | None:
    """`name (pid N)` from whichever of the tools' phrasings the text has."""
    pid = name = None
    for match in regex.finditer(_HOLDER, text):
        held_pid, held_name, dpkg_name, dpkg_pid, yum_app = match.groups()
        pid = pid or held_pid or dpkg_pid
        name = name or held_name or dpkg_name or yum_app
    if name and pid:
        return f"{name} (pid {pid})"
    return name or (f"pid {pid}" if pid else None)


def _manager(text: str) -> str:
    lowered = text.lower()
    for word in ("zypper", "dnf", "yum", "rpm", "apt", "dpkg"):
        if word in lowered:
            return "dpkg" if word == "apt" else word
    return "package manager"


def _operation(text: str) -> str | None:
    match = regex.search(
        r"\bop=(Install|Enable|Update|Disable|UnInstall)\b|\b(Install|Enable|Update|Disable|Uninstall),(?:failed|error)",
        text,
    )
    return (match.group(1) or match.group(2)) if match else None

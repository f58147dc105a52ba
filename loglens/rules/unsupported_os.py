"""An extension exited with code 51 or reported an unsupported OS, distro or version.

What it detects:
    An extension command exiting with code 51 (`Non-zero exit code: 51,` in waagent.log, also
    localized, or a HandlerUtil status echo `Install,failed,51,...`), a status file or instance
    view reporting code 51, and extension log or output lines such as `Unsupported operating
    system`, `Indeterminate operating system`, `The OS has neither rpm nor dpkg`, `Unexpected
    Linux distribution`, `Unsupported kernel version` or `<distro> is not supported`: every
    catalogue message of the `unsupported-os` category.

Why it matters:
    By the extension publishers' convention, exit code 51 means the extension does not support
    this OS, distribution or version, so it will keep failing however often it is retried. The
    agent treats 51 like any other non-zero exit. The code is a convention and not a rule:
    some extensions use 51 for other failures (DSC also uses it when the dpkg lock is held).
    So loglens checks the text that comes with the code, and says when the text points
    elsewhere.

Example:
    2025-01-22T07:15:42.607713Z ERROR ExtHandler ExtHandler Event: name=Contoso.Compliance.LinuxAudit, op=Install, message=[ExtensionOperationError] Non-zero exit code: 51, /var/lib/waagent/Contoso.Compliance.LinuxAudit-3.0.4/bin/audit-shim install
    [stderr]
    audit-shim: this distribution is not supported (supported: ubuntu, rhel, sles, debian, azurelinux)

Known benign causes:
    None for a real 51. A DSC extension exiting 51 with dpkg lock text in its output is lock
    contention (see the lock-contention finding), not an OS problem. An agent line `Failing GS
    ... as Unsupported features found` is about agent features (code 2001) and is not matched.

Remediation:
    Check the extension's supported distributions and versions in its documentation. Then either
    move the workload to a supported image, or use an extension version that supports this
    distribution. Remove the failed extension (`az vm extension delete`) before you set it again.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/features-linux#troubleshoot-vm-extensions
"""

from __future__ import annotations

import polars as pl

import catalogue
from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, version_of

#: The exit code: `Non-zero exit code: 51,` (every agent generation, also localized) and the
#: HandlerUtil status echo `Install,failed,51,<message>`.
EXIT_51 = "exitcode.51-unsupported-os"
#: Every message the catalogue classes as an OS refusal (`Unsupported operating system: ...`,
#: `Indeterminate operating system`, `<distro> is not supported`, ...), from any extension.
OS_REFUSALS = tuple(i for i in catalogue.load().ids(category="unsupported-os") if i != EXIT_51)
#: Lock messages: some extensions (DSC) exit 51 for a held dpkg lock too.
LOCKS = tuple(catalogue.load().ids(category="lock-contention"))
#: A failed download (an HTTP 404, a package apt cannot find): the 51 is then a command failure.
DOWNLOAD_FAILED = ("ext.download-404-not-found", "apt.unable-to-locate-package")

RULE = Rule(
    id="unsupported-os",
    category="unsupported-os",
    severity="error",
    title="Extension does not support this OS",
    severity_note="warning when the text points to a lock",
    messages=(EXIT_51, *OS_REFUSALS, *LOCKS, *DOWNLOAD_FAILED),
    reads=("records", "status", "instance_view"),
)


def detect(context: Context) -> list[Hit]:
    records = context.records
    candidates = (
        pl.concat(
            [
                context.tagged((EXIT_51, *OS_REFUSALS)).select(records.columns),
                records.filter(pl.col("record").is_in(_status_or_view_51(context).implode())),
            ]
        )
        .unique("record", maintain_order=True)
        .sort("record")
    )
    messages = context.messages
    hits = []
    for (extension,), rows in candidates.group_by(["extension"], maintain_order=True):
        said = messages.filter(pl.col("record").is_in(rows["record"].implode()))
        ids = set(said["message_id"].to_list())
        version = version_of(rows)
        name = extension or "an extension"
        says_os = bool(ids & set(OS_REFUSALS))
        says_lock = bool(ids & set(LOCKS))
        if not says_os and ids & set(DOWNLOAD_FAILED):
            continue  # a failed download, not the OS check: a command failure
        if says_lock and not says_os:
            summary = (
                f"{name} exited with code 51, but its output points to a package-manager lock, not the OS "
                "(some extensions, DSC among them, use 51 for both)"
            )
            hits.append(
                Hit(summary, rows.select(HIT_COLUMNS), severity="warning", extension=extension, version=version)
            )
            continue
        if says_os:
            reason = _reason(said.filter(pl.col("message_id").is_in(OS_REFUSALS)))
            summary = f"{name}{' ' + version if version else ''} does not support this OS: {reason}"
        else:
            summary = f"{name}{' ' + version if version else ''} exited with code 51 (by convention: unsupported OS); the log gives no reason text"
        hits.append(Hit(summary, rows.select(HIT_COLUMNS), extension=extension, version=version))
    return hits


def _status_or_view_51(context: Context) -> pl.Series:
    """Record ids of status snapshots and instance-view statuses that carry code 51."""
    records = context.records
    status_ids = records.filter(pl.col("kind") == "status").join(
        context.frames["status"].filter(pl.col("code") == 51).select("source_path").unique(), on="source_path"
    )["record"]
    view = context.frames["instance_view"].filter((pl.col("code_number") == 51) & (pl.col("scope") == "extension"))
    view_ids = records.filter(pl.col("kind") == "instance_view").join(
        view.select("source_path", "message", "extension").unique(), on=["source_path", "message", "extension"]
    )["record"]
    return pl.concat([status_ids, view_ids])


def _reason(refusals: pl.DataFrame) -> str:
    """The most specific statement of the OS problem: the shortest refusal a message states, else
    the distribution it names, else the first line of its record."""
    stated = [e.strip() for e in refusals["error"].drop_nulls().to_list() if e.strip()]
    if stated:
        return min(stated, key=len)[:200]
    distro = refusals["distro"].drop_nulls()
    if distro.len():
        return f"unsupported distribution {distro[0]}"[:200]
    lines = [line.strip() for m in refusals["message"].to_list() if m for line in m.splitlines() if line.strip()]
    return lines[0][:200] if lines else "the source gives no reason text"

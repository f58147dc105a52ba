"""An extension exited with code 51 or reported an unsupported OS, distro or version.

What it detects:
    An extension command exiting with code 51 (`Non-zero exit code: 51,` in waagent.log), a
    status file or instance view reporting code 51, and extension log or output lines such as
    `Unsupported operating system`, `Indeterminate operating system`, `The OS has neither rpm
    nor dpkg`, `Unexpected Linux distribution` or `<distro> is not supported`.

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
import regex

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import DOWNLOAD_TEXT
from loglens.rules._common import HIT_COLUMNS, version_of

#: The agent's report of the exit code (the comma keeps 510 or 5100 out), and a HandlerUtil status echo with code 51.
EXIT_51 = r"Non-zero exit code: 51,|^[A-Za-z][\w-]*,[A-Za-z]+,51,"
#: Text extensions print when refusing the OS.
UNSUPPORTED_TEXT = (
    r"(?i)unsupported (?:operating system|os|distro|distribution|linux distribution)|indeterminate operating system"
    r"|neither rpm nor dpkg|unexpected linux distribution|(?:os|distro|distribution|version)\b[^\n]{0,60}\bis not supported"
    r"|\bis not supported by this version|the os is not supported"
    r"|is not a supported (?:distribution|distro|operating system|os|platform)"
    r"|does not support (?:this |the )?(?:distro|distribution|os|operating system|linux distribution)"
)
#: Every UNSUPPORTED_TEXT match contains one of these words (a cheap first pass).
UNSUPPORTED_WORDS = ("supported", "does not support", "indeterminate", "neither rpm", "unexpected linux")
#: Text that means the 51 is about a package-manager lock (DSC), not the OS.
LOCK_TEXT = r"(?i)dpkg[^\n]*lock|package manager[^\n]*locked|rpm[^\n]*lock"
_LINE_PREFIX = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:ERROR:|WARNING:)? ?(?:\[[^\]]+\]:? )?"


RULE = Rule(
    id="unsupported-os",
    category="unsupported-os",
    severity="error",
    title="Extension does not support this OS",
    triggers=EXIT_51 + "|" + UNSUPPORTED_TEXT,
)


def detect(context: Context) -> list[Hit]:
    records = context.records
    stated = context.search(UNSUPPORTED_TEXT, words=UNSUPPORTED_WORDS).filter(
        ~pl.col("message").str.contains(r"Failing GS .* Unsupported features")
    )
    candidates = (
        pl.concat(
            [
                context.search(EXIT_51, words=("51,",)),
                stated,
                records.filter(pl.col("record").is_in(_status_or_view_51(context).implode())),
            ]
        )
        .unique("record", maintain_order=True)
        .sort("record")
    )
    hits = []
    for (extension,), rows in candidates.group_by(["extension"], maintain_order=True):
        text = "\n".join(m for m in rows["message"].to_list() if m)
        version = version_of(rows)
        name = extension or "an extension"
        says_os = regex.search(UNSUPPORTED_TEXT, text) is not None
        says_lock = regex.search(LOCK_TEXT, text) is not None
        if not says_os and regex.search(DOWNLOAD_TEXT, text):
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
        reason = _reason(rows)
        if says_os:
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


def _reason(rows: pl.DataFrame) -> str:
    """The most specific line stating the OS problem."""
    lines = [line.strip() for m in rows["message"].to_list() if m for line in m.splitlines()]
    stated = [line for line in lines if regex.search(UNSUPPORTED_TEXT, line)]
    if not stated and not lines:
        return "the source gives no reason text"
    best = min(stated, key=len) if stated else lines[0]
    # Drop an extension logger's own stamp and tag when the reason comes from captured output.
    return regex.sub(_LINE_PREFIX, "", best)[:200]

"""No space left on a disk the agent or an extension writes to.

What it detects:
    `No space left on device` / `[Errno 28]` in any source, and the extensions' own low-disk
    messages (`failed due to low disk space`, `not enough free space`, `Disk space is low`).

Why it matters:
    Extensions unpack packages under `/var/lib/waagent` and write logs under `/var/log/azure`. A
    full `/var` (or `/`, `/tmp`) makes installs fail half-way, status files go missing, and the
    agent itself can stop processing goal states.

Example:
    2025/03/14 09:51:30 ERROR: [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.25] Failed to enable the extension with error: [Errno 28] No space left on device

Known benign causes:
    None.

Remediation:
    Free space (`df -h`, `du -xsh /var/* | sort -h`), typically old logs, package caches (`apt clean`,
    `yum clean all`) or core dumps. Or grow the OS disk. Then re-run the failed extension.

References:
    https://learn.microsoft.com/azure/virtual-machines/linux/expand-disks
"""

from __future__ import annotations

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, span_text

FULL = r"(?i)no space left on device|\[errno 28\]|failed due to low disk space|not enough (?:free )?(?:disk )?space|disk space is low"


RULE = Rule(id="disk-full", category="disk-space", severity="error", title="Disk full", triggers=FULL)


def detect(context: Context) -> list[Hit]:
    rows = context.search(FULL, words=("space", "errno 28"))
    hits = []
    for (extension,), group in rows.group_by(["extension"], maintain_order=True):
        who = extension or "The agent"
        hits.append(
            Hit(
                f"{who} ran out of disk space {span_text(group)} ({group.height} line(s))",
                group.select(HIT_COLUMNS),
                extension=extension,
            )
        )
    return hits

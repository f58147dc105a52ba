"""No space left on a disk the agent or an extension writes to.

What it detects:
    `No space left on device` / `[Errno 28]` / Ruby's `Errno::ENOSPC` (fluentd in omsagent) in
    any source, the extensions' own low-disk messages (`Install failed due to low disk space`),
    apt's `You don't have enough free space in ...` and yum's `At least N MB more space needed`,
    and `df`/`df -i` output with a file system 100% used (inodes run out while `df -h` still
    shows free space). The wordings are catalogue entries (`catalogue/entries/disk.toml`).

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

#: A write that failed for want of space: ENOSPC in its spellings (`No space left on device`,
#: `[Errno 28]`, `Errno::ENOSPC`), the extensions' own low-disk checks, apt's and yum's free-space checks.
FULL = (
    "disk.no-space-left-on-device",
    "disk.errno-28",
    "disk.extension-low-disk-space",
    "disk.apt-not-enough-free-space",
    "disk.yum-more-space-needed",
)
#: A `df` (or `df -i`) row of a full file system: `/dev/sda1  2.0M  2.0M  0  100% /`.
DF_FULL = "disk.df-full"

RULE = Rule(id="disk-full", category="disk-space", severity="error", title="Disk full", messages=(*FULL, DF_FULL))


def detect(context: Context) -> list[Hit]:
    rows = context.tagged(FULL)
    hits = []
    tables = context.tagged((DF_FULL,))
    if tables.height:
        mounts = ", ".join(sorted(set(tables["path"].drop_nulls().to_list())))
        # `df -i` rows look the same: a full inode table fails writes just like full blocks.
        summary = f"df shows {mounts} 100% used (blocks or inodes): every write there fails with ENOSPC"
        hits.append(Hit(summary, tables.select(HIT_COLUMNS)))
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

"""Agent auto-update is turned off.

What it detects:
    `AutoUpdate.Enabled=n` (or `AutoUpdate.UpdateToLatestVersion=n`) in `/etc/waagent.conf`, and
    the agent's own notices `AutoUpdate.Enabled is set to False, not processing the operation` /
    `AutoUpdate.UpdateToLatestVersion is set to False`.

Why it matters:
    With auto-update off, the extension-handling agent stays at the version the distro package
    installed. It gets no bug or security fixes, and newer extensions can fail against it. Only
    the distro package can update it then.

Example:
    AutoUpdate.Enabled=n

Known benign causes:
    Some organisations pin the agent on purpose and update it through the distro package. Then
    this is a reminder to keep that package current.

Remediation:
    Set `AutoUpdate.Enabled=y` in `/etc/waagent.conf` and restart the agent (`systemctl restart
    walinuxagent` or `waagent`), or keep the distro's `WALinuxAgent` package up to date.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/update-linux-agent
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, config_rows

#: The agent's notice when a disabled setting skips the update.
NOTICE = r"AutoUpdate\.(?:Enabled|UpdateToLatestVersion) is set to False"
_OFF = ("n", "no", "false", "0", "off")


RULE = Rule(
    id="auto-update-disabled",
    category="upgrade",
    severity="warning",
    title="Agent auto-update disabled",
    triggers=NOTICE,
)


def detect(context: Context) -> list[Hit]:
    config = pl.concat(
        [
            config_rows(context, "AutoUpdate.Enabled", _OFF),
            config_rows(context, "AutoUpdate.UpdateToLatestVersion", _OFF),
        ]
    )
    notices = context.search(NOTICE, kinds=("waagent",))
    rows = pl.concat([config, notices.select(HIT_COLUMNS)])
    if rows.height == 0:
        return []
    where = (
        "waagent.conf sets " + ", ".join(config["message"].to_list())
        if config.height
        else "the agent reports auto-update is off"
    )
    summary = (
        f"Agent auto-update is off ({where}); the extension handler stays at the installed version and gets no fixes"
    )
    return [Hit(summary, rows, extension="WALinuxAgent", count=max(rows.height, 1))]

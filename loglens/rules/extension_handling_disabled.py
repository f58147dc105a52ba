"""Extension handling is turned off in the agent configuration.

What it detects:
    `Extensions.Enabled=n` in `/etc/waagent.conf`, and the agent noting that it skips extension
    processing (`Extension handling is disabled` / `Extensions.Enabled is set to False`).

Why it matters:
    With extension handling off, the agent does not run any extension: installs and enables
    stay `transitioning` until the platform times them out. Password reset, monitoring, backup
    and scripts all stop working.

Example:
    Extensions.Enabled=n

Known benign causes:
    Images that deliberately run without extensions. Deploying extensions to them always fails.

Remediation:
    Set `Extensions.Enabled=y` in `/etc/waagent.conf` and restart the agent, or do not deploy
    extensions to this VM.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/agent-linux#configuration
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, config_rows

NOTICE = r"Extension handling is disabled|Extensions\.Enabled is set to False"


RULE = Rule(
    id="extension-handling-disabled",
    category="agent-health",
    severity="error",
    title="Extension handling disabled",
    triggers=NOTICE,
)


def detect(context: Context) -> list[Hit]:
    rows = pl.concat(
        [
            # Only `n` turns a switch off; the agent reads any other value as the default (on).
            config_rows(context, "Extensions.Enabled", ("n",)),
            context.search(NOTICE).select(HIT_COLUMNS),
        ]
    )
    if rows.height == 0:
        return []
    return [
        Hit(
            "The agent is configured not to run extensions (Extensions.Enabled=n); every extension will time out",
            rows,
            extension="WALinuxAgent",
        )
    ]

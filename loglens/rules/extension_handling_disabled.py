"""Extension handling is turned off in the agent configuration.

What it detects:
    `Extensions.Enabled=n` in `/etc/waagent.conf`, and the agent noting that it skips extension
    processing, in each generation's words (the `config.` entries of
    `catalogue/entries/goal_state.toml`): `Extension handling is disabled` (2.2-2.9, verbose
    logs), `Extensions.Enabled is set to False, not processing the operation` (2.3+, at start),
    `Extension '...' will not be processed since extension processing is disabled` (2.10+, also
    the extension's reported status).

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

#: The agent's notices that it skips extensions because `Extensions.Enabled=n`.
NOTICES = ("config.extension-handling-disabled", "config.extensions-enabled-false", "config.extension-not-processed")


RULE = Rule(
    id="extension-handling-disabled",
    category="agent-health",
    severity="error",
    title="Extension handling disabled",
    messages=NOTICES,
    reads=("config",),
)


def detect(context: Context) -> list[Hit]:
    rows = pl.concat(
        [
            # Only `n` turns a switch off; the agent reads any other value as the default (on).
            config_rows(context, "Extensions.Enabled", ("n",)),
            context.tagged(NOTICES).select(HIT_COLUMNS),
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

"""Agent auto-update is turned off.

What it detects:
    `AutoUpdate.Enabled=n` (or `AutoUpdate.UpdateToLatestVersion=n`) in `/etc/waagent.conf`, read
    the way the agent reads it: a trailing `# comment` and quotes are dropped, only `y`/`n` are
    switches (any other value means the default, on), and `AutoUpdate.UpdateToLatestVersion`
    decides whenever it is set (agents 2.10 and later); and
    the agent's own notices `AutoUpdate.Enabled is set to False, not processing the operation` /
    `AutoUpdate.UpdateToLatestVersion is set to False` (2.6+) and `Agent auto-update is disabled.`
    (2.2.47-2.2.48). On 2.10+ an `AutoUpdate.Enabled` notice does not count when the agent says
    `AutoUpdate.UpdateToLatestVersion` decides (`The legacy AutoUpdate.Enabled configuration is
    also used, but it is ignored`, `... **Deprecated** now but it's set to different value`). The
    2.2 agent's empty `Event: name=WALinuxAgent, op=AutoUpdate, message=` line is not read: it says
    nothing an engineer can act on (issue #1779).

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
from loglens.rules._agent import AUTO_UPDATE_OFF, LEGACY_SETTING_IGNORED, by_record, carries
from loglens.rules._common import HIT_COLUMNS, config_rows

#: The 2.6+ notice about `AutoUpdate.Enabled` alone: on 2.10+ another setting may decide.
_ENABLED_OFF = "agent-update.config-autoupdate-enabled-false"
#: The agent's switches: only `y` and `n` count (any case); any other value means the default (on).
_OFF = ("n",)
#: 2.10+ agents: `AutoUpdate.UpdateToLatestVersion` decides when it is set; `AutoUpdate.Enabled` is
#: only read without it (and is reported as deprecated when the two disagree).
_SWITCHES = ("AutoUpdate.UpdateToLatestVersion", "AutoUpdate.Enabled")


RULE = Rule(
    id="auto-update-disabled",
    category="upgrade",
    severity="warning",
    title="Agent auto-update disabled",
    messages=(*AUTO_UPDATE_OFF, *LEGACY_SETTING_IGNORED),
    reads=("records", "config"),
    false_positives=(
        "agent-update.config-deprecated-conflict",
        "agent-update.config-legacy-ignored",
    ),
)


def detect(context: Context) -> list[Hit]:
    config = _deciding_setting(context)
    notices = by_record(context, AUTO_UPDATE_OFF)
    if by_record(context, LEGACY_SETTING_IGNORED).height:
        # Both settings are present: `AutoUpdate.UpdateToLatestVersion` decides, not `AutoUpdate.Enabled`.
        notices = notices.filter(~(carries(_ENABLED_OFF) & (pl.col("ids").list.len() == 1)))
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


def _deciding_setting(context: Context) -> pl.DataFrame:
    """The switch that decides auto-update, as hit rows when it is off (empty otherwise)."""
    for key in _SWITCHES:
        if config_rows(context, key, ("y", "n")).height:
            return config_rows(context, key, _OFF)
    return config_rows(context, _SWITCHES[-1], _OFF)

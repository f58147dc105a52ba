"""The extension-handling agent is very old.

What it detects:
    A goal-state agent version older than 2.2.53. loglens reads the version from `is running as
    the goal state agent`, `Goal State Agent version`, `waagent --version` output, and the
    instance view's `vmAgentVersion`. The newest version seen counts.

Why it matters:
    2.2.53 shipped in early 2021. Older agents miss years of fixes to extension handling,
    WireServer retries and firewall set-up, and do not write the log fields newer diagnostics
    rely on. The threshold is loglens's choice, not an Azure support boundary.

Example:
    2019/06/18 09:14:11.104558 INFO ExtHandler Agent WALinuxAgent-2.2.38 is running as the goal state agent

Known benign causes:
    Logs that stop before the VM was updated: the newest version in the logs is what counts.

Remediation:
    Update the distro's agent package (`apt install --only-upgrade walinuxagent`, `yum update
    WALinuxAgent`, `zypper update python-azure-agent`), keep `AutoUpdate.Enabled=y`, and restart
    the agent.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/update-linux-agent
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import GOAL_STATE_AGENT, goal_state_agent_version, version_key
from loglens.rules._common import HIT_COLUMNS

#: Oldest goal-state agent loglens does not flag.
MINIMUM = "2.2.53"


RULE = Rule(
    id="agent-version-outdated",
    category="agent-health",
    severity="warning",
    title="Very old guest agent",
    triggers=GOAL_STATE_AGENT,
)


def detect(context: Context) -> list[Hit]:
    seen = context.search(GOAL_STATE_AGENT, kinds=("waagent",)).with_columns(
        agent=goal_state_agent_version(pl.col("message"))
    )
    versions = [(v, "log") for v in seen["agent"].to_list()]
    versions += [
        (v, "waagent --version") for v in context.frames["agent_version"]["goal_state_agent"].drop_nulls().to_list()
    ]
    view = context.frames["instance_view"].filter(pl.col("scope") == "vm-agent")
    versions += [(v, "instance view") for v in view["extension_version"].drop_nulls().to_list()]
    if not versions:
        return []
    newest, _ = max(versions, key=lambda item: version_key(item[0]))
    if version_key(newest) >= version_key(MINIMUM):
        return []
    rows = seen.filter(pl.col("agent") == newest).tail(1).select(HIT_COLUMNS)
    summary = f"The goal-state agent is {newest}, older than {MINIMUM} (early 2021); update the agent package"
    return [Hit(summary, rows, extension="WALinuxAgent", version=newest)]

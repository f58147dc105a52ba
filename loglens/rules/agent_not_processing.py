"""The agent itself stopped or kept restarting, so goal states were not processed.

What it detects:
    The daemon restarting after an unhandled exception (`Daemon ended with exception -- Sleep 15
    seconds and restart daemon`), the extension handler process dying (`ExtHandler process ...
    launched with command '...' exited with return code: N` on 2.8+, `Agent did not terminate
    cleanly`, `did not terminate cleanly` on older agents), and agent `UnhandledError` events.

Why it matters:
    While the agent is restarting, nothing processes goal states. Extensions are not installed
    or enabled, status is not reported, and the portal shows the VM agent as not ready. Several
    restarts in a row usually mean a crash loop, often caused by a broken Python environment,
    a full disk or a damaged `/var/lib/waagent`.

Example:
    2019/05/02 04:01:17.118230 WARNING Daemon ended with exception -- Sleep 15 seconds and restart daemon

Known benign causes:
    A single handler restart right after an agent update or a `systemctl restart` of the
    agent is normal. That is a warning only when it happens once.

Remediation:
    Look at the traceback next to the first restart (the `UnhandledError` event carries it). Check
    the Python version the agent runs with (`waagent --version`), free disk space, and the
    agent's files under `/var/lib/waagent`. Reinstall the distro's agent package if needed,
    then restart the agent service.

References:
    https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-azure-guest-agent
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, span_text

#: Daemon and handler crashes and restarts, and the agent's unhandled-error event. (A legacy
#: `Daemon ended with exception` line parses with `Daemon` as its prefix, the G1/G2 ambiguity,
#: so the message may start at `ended`.)
CRASH = (
    r"(?:^|Daemon )ended with exception|ExtHandler process \S+ launched with command .* exited with return code"
    r"|did not terminate cleanly|op=UnhandledError"
)
#: Restarts at or above this count are a crash loop (an error), fewer a warning.
LOOP = 3

RULE = Rule(
    id="agent-not-processing",
    category="agent-health",
    severity="error",
    title="Guest agent crashing or restarting",
    triggers=CRASH,
)


def detect(context: Context) -> list[Hit]:
    rows = context.search(CRASH, kinds=("waagent",))
    if rows.height == 0:
        return []
    restarts = rows.filter(~pl.col("message").str.contains("op=UnhandledError")).height or rows.height
    severity = "error" if restarts >= LOOP else "warning"
    how = "crash loop: " if restarts >= LOOP else ""
    summary = f"The agent {how}restarted or crashed {restarts} time(s) {span_text(rows)}; goal states were not processed meanwhile"
    return [Hit(summary, rows.select(HIT_COLUMNS), severity=severity, extension="WALinuxAgent", count=restarts)]

"""The agent itself stopped or kept restarting, so goal states were not processed.

What it detects:
    The daemon restarting after an unhandled exception (`Daemon ended with exception -- Sleep 15
    seconds and restart daemon`), the extension handler process dying (`ExtHandler process ...
    launched with command '...' exited with return code: N` on 2.8+, `Agent did not terminate
    cleanly`, `did not terminate cleanly` on older agents), the handler's main loop failing (`Agent
    WALinuxAgent-2.2.46 failed with exception: ...`, `restarted more than 3 times in 300 seconds`),
    tracebacks through the 2.0 agent's own code (`/usr/sbin/waagent`), agent `UnhandledError`
    events, and `systemctl status` output showing the agent's unit failed or in `auto-restart`.

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
    r"|did not terminate cleanly|op=UnhandledError|was orphaned -- exiting|is an orphan -- exiting"
    # 2.1/2.2: the handler's main loop died (`Agent WALinuxAgent-2.2.46 failed with exception: ...`),
    # or the daemon gave up relaunching it.
    r"|^Agent WALinuxAgent-\S+ failed with exception|restarted more than \d+ times in \d+ seconds"
    # The distro-installed agent (not an updated egg) failing at launch.
    r"|launched with command '[^']*/s?bin/waagent [^']*' (?:failed with|returned code: [1-9])"
    # 2.0, the single-file agent: any traceback through its own code is its main loop failing.
    r'|File "/usr/sbin/waagent", line \d+, in '
)
#: `systemctl status waagent` (or walinuxagent) showing the service down or being restarted.
SERVICE_DOWN = r"^\s*Active: (?:failed|activating \(auto-restart\))"
_SERVICE = r"\b(?:waagent|walinuxagent)\.service\b"
#: Restarts at or above this count are a crash loop (an error), fewer a warning.
LOOP = 3

RULE = Rule(
    id="agent-not-processing",
    category="agent-health",
    severity="error",
    title="Guest agent crashing or restarting",
    triggers="|".join((CRASH, SERVICE_DOWN, _SERVICE)),
)


def detect(context: Context) -> list[Hit]:
    hits = _service_down(context)
    rows = context.search(CRASH, kinds=("waagent",))
    if rows.height == 0:
        return hits
    restarts = rows.filter(~pl.col("message").str.contains("op=UnhandledError")).height or rows.height
    severity = "error" if restarts >= LOOP else "warning"
    how = "crash loop: " if restarts >= LOOP else ""
    span = span_text(rows)
    summary = f"The agent {how}restarted or crashed {restarts} time(s){' ' + span if span else ''}; goal states were not processed meanwhile"
    return [*hits, Hit(summary, rows.select(HIT_COLUMNS), severity=severity, extension="WALinuxAgent", count=restarts)]


def _service_down(context: Context) -> list[Hit]:
    """`systemctl status` output of the agent's unit showing it failed or restarting."""
    down = context.search(SERVICE_DOWN)
    if down.height == 0:
        return []
    units = context.search(_SERVICE, words=(".service",)).select("source_path").unique()
    down = down.join(units, on="source_path", how="semi")
    if down.height == 0:
        return []
    state = down["message"][0].strip()
    summary = f"The agent's service is not running: systemctl shows `{state[:120]}`; nothing processes goal states"
    return [Hit(summary, down.select(HIT_COLUMNS), extension="WALinuxAgent")]

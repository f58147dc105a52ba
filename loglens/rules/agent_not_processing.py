"""The agent itself stopped or kept restarting, so goal states were not processed.

What it detects:
    The daemon restarting after an unhandled exception (`Daemon ended with exception -- Sleep 15
    seconds and restart daemon`; before 2.2.14 only `Sleep 15 seconds and restart daemon`), the
    extension handler process dying (`ExtHandler process ... launched with command '...' exited
    with return code: N` on 2.8+, `Agent did not terminate cleanly`, `did not terminate cleanly` on
    older agents, `is an orphan -- exiting`, `is reached memory limit -- exiting`), the handler's
    main loop failing (`Agent WALinuxAgent-2.2.46 failed with exception: ...`, `restarted more than 3
    times in 300 seconds`), the distro-installed agent failing at launch (`launched with command
    '/usr/sbin/waagent -run-exthandlers' failed with ...`), tracebacks through the 2.0 agent's own
    code (`/usr/sbin/waagent`), agent `UnhandledError` events, and `systemctl status` output showing
    the agent's unit failed or in `auto-restart` (or its process exited with `status=1/FAILURE`).

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
from loglens.rules._agent import CRASHED, EVENT_ECHO, LAUNCH_FAILED, by_record, carries, echoed, installed_launch
from loglens.rules._common import HIT_COLUMNS, span_text

#: The agent's telemetry of an unhandled exception: it accompanies a crash, it is not one more.
_UNHANDLED = "agent.unhandled-error-event"
#: The handler's main loop failing; its telemetry echo (`Event: ... message=<same text>`) is not a second failure.
_HANDLER_FAILED = "agent.handler-failed-exception"
#: `systemctl status` showing a unit down (its state, or its process's non-zero exit), and the agent's unit named.
_UNIT_DOWN = ("agent.systemd-unit-down", "agent.systemd-process-failed")
_AGENT_UNIT = "agent.systemd-unit"
#: Restarts at or above this count are a crash loop (an error), fewer a warning.
LOOP = 3

RULE = Rule(
    id="agent-not-processing",
    category="agent-health",
    severity="error",
    title="Guest agent crashing or restarting",
    severity_note="warning for one restart",
    messages=(*CRASHED, *LAUNCH_FAILED, *_UNIT_DOWN, _AGENT_UNIT, EVENT_ECHO),
    reads=("records",),
    false_positives=(
        "agent-update.autoupdate-event",
        "benign.telemetry-dropped",
        "telemetry.events-dropped",
    ),
)


def detect(context: Context) -> list[Hit]:
    hits = _service_down(context)
    crashes = by_record(context, (*CRASHED, *LAUNCH_FAILED))
    # A launch failure counts here only for the distro-installed agent (a downloaded egg failing
    # is a failed update, agent-update-failed); `returned code: 0` is no failure.
    launch_only = carries(LAUNCH_FAILED) & ~carries(CRASHED)
    installed = installed_launch() & (pl.col("exit_code").cast(pl.Int64, strict=False).fill_null(1) != 0)
    echo = echoed(context) & (pl.col("ids").list.len() == 1) & carries(_HANDLER_FAILED)
    rows = crashes.filter(~(launch_only & ~installed) & ~echo)
    if rows.height == 0:
        return hits
    restarts = rows.filter(~carries(_UNHANDLED)).height or rows.height
    severity = "error" if restarts >= LOOP else "warning"
    how = "crash loop: " if restarts >= LOOP else ""
    span = span_text(rows)
    summary = f"The agent {how}restarted or crashed {restarts} time(s){' ' + span if span else ''}; goal states were not processed meanwhile"
    return [*hits, Hit(summary, rows.select(HIT_COLUMNS), severity=severity, extension="WALinuxAgent", count=restarts)]


def _service_down(context: Context) -> list[Hit]:
    """`systemctl status` output of the agent's unit showing it failed or restarting."""
    down = by_record(context, _UNIT_DOWN, kinds=None)
    if down.height == 0:
        return []
    units = by_record(context, (_AGENT_UNIT,), kinds=None).select("source_path").unique()
    down = down.join(units, on="source_path", how="semi")
    if down.height == 0:
        return []
    state = down["message"][0].strip()
    summary = f"The agent's service is not running: systemctl shows `{state[:120]}`; nothing processes goal states"
    return [Hit(summary, down.select(HIT_COLUMNS), extension="WALinuxAgent")]

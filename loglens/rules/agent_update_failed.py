"""A guest agent self-update failed, was blocked, or rolled back.

What it detects:
    A newly launched agent crashing (`Agent WALinuxAgent-2.2.40 launched with command '...' failed
    with return code: 1`, `returned code`, `failed with exception`, 2.1's `launch failed with
    command ... failed with exception` and `failed with code`), the daemon blocking that version
    (`is permanently blacklisted`, 2.1's `is permenantly blacklisted` and `is blacklisted`, 2.14+
    `is permanently disabled`, `restarted more than 3 times`; 2.2 then skips it at every start,
    `is blacklisted - skipping download` and `error state: ... Fatal: True`, a warning on its own),
    rolling back (`is reverting to the installed agent`, `Marking the agent ... as bad version`,
    `Blacklisting the agent`), and download, manifest or unpack failures (`Unable to download Agent`,
    `download failed with exception`, `No matching package found in the agent manifest`, `is missing
    agent handler manifest file`, `has a malformed HandlerManifest.json`, `Exception unpacking Agent`)
    or the agent giving up (`[SelfUpdate]Unable to update Agent`, `Attempted enough update retries`).

Why it matters:
    After a failed update the VM keeps running the older extension handler. It may lack fixes,
    and a crash loop of the new version delays every extension operation while the daemon
    restarts it. A version the daemon has blocked is not tried again until a newer one ships.

Example:
    2019/06/18 10:14:30.221875 WARNING Agent WALinuxAgent-2.2.40 launched with command 'python -u bin/WALinuxAgent-2.2.40-py2.7.egg -run-exthandlers' failed with return code: 1
    2019/06/18 10:14:30.222101 WARNING Agent WALinuxAgent-2.2.40 is permanently blacklisted

Known benign causes:
    A requested downgrade (`a downgrade was requested in the GoalState`) also marks the newer
    version as bad. That is intended.

Remediation:
    Look for the crash reason just before the launch failure (tracebacks, `Python:` version,
    disk space under /var/lib/waagent). Update the distro's agent package (`apt install
    walinuxagent` or `yum update WALinuxAgent`), then restart the agent service. If one agent
    version keeps failing, keep the working one and report the failure to the agent team.

References:
    https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-azure-guest-agent
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._agent import (
    BLOCKED,
    CHOSEN,
    DOWNLOAD_FAILED,
    GAVE_UP,
    LAUNCH_FAILED,
    RESTARTED_TOO_OFTEN,
    ROLLBACK,
    SKIPPED,
    UPDATE_FAILED,
    by_record,
    carries,
    installed_launch,
)
from loglens.rules._common import HIT_COLUMNS, span_text

RULE = Rule(
    id="agent-update-failed",
    category="upgrade",
    severity="error",
    title="Guest agent update failed or rolled back",
    messages=tuple(dict.fromkeys((*UPDATE_FAILED, *CHOSEN))),
    reads=("records",),
)

#: What each kind of message says happened, in the order the summary tells it.
_STEPS = (
    ("the new agent crashed at launch", LAUNCH_FAILED),
    ("it restarted too often", (RESTARTED_TOO_OFTEN,)),
    ("it was blocked", BLOCKED),
    ("the agent reverted to the installed version", ROLLBACK),
    ("the download failed", DOWNLOAD_FAILED),
    ("the update was abandoned after retries", GAVE_UP),
)


def detect(context: Context) -> list[Hit]:
    failures = by_record(context, UPDATE_FAILED)
    # The installed agent (not a downloaded egg) failing at launch is agent health, not an update:
    # agent-not-processing reports it.
    failures = failures.filter(~(carries(LAUNCH_FAILED) & installed_launch()))
    if failures.height == 0:
        return []
    rollbacks = by_record(context, CHOSEN)
    hits = []
    for (version,), rows in failures.group_by(["version"], maintain_order=True):
        carried = set(rows["ids"].explode().to_list())
        steps = [label for label, ids in _STEPS if carried & set(ids)]
        codes = rows.filter(carries(LAUNCH_FAILED))["exit_code"].drop_nulls()
        last = rows["timestamp"].max()
        # Pasted text may have no times: then the order of the lines decides.
        later = pl.col("timestamp") > last if last else pl.col("record") > rows["record"].max()
        after = rollbacks.filter(later).head(1)
        back_to = after["version"][0] if after.height else None
        parts = ", ".join(steps) + (f" (exit code {codes[0]})" if codes.len() else "")
        rolled = f"; the daemon went back to {back_to}" if back_to and back_to != version else ""
        span = span_text(rows)
        summary = f"Agent update to {version or 'a new version'} failed: {parts}{' ' + span if span else ''}{rolled}"
        severity = None
        if carried <= set(SKIPPED):
            # Only the daemon skipping a version it blocked earlier: the failure itself is older.
            summary = f"Agent {version} was blocked after an earlier failed update; the daemon skips it {span}"
            severity = "warning"
        rows = pl.concat([rows.select(HIT_COLUMNS), after.select(HIT_COLUMNS)])
        hits.append(Hit(summary.strip(), rows, severity=severity, extension="WALinuxAgent", version=version))
    return hits

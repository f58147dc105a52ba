"""A guest agent self-update failed, was blocked, or rolled back.

What it detects:
    A newly launched agent crashing (`Agent WALinuxAgent-2.2.40 launched with command '...' failed
    with return code: 1`, `returned code`, `failed with exception`), the daemon blocking that
    version (`is permanently blacklisted`, 2.14+ `is permanently disabled`, `restarted more than 3
    times`; 2.2 then skips it at every start, `is blacklisted - skipping download` and `error state:
    ... Fatal: True`, a warning on its own), rolling back (`is reverting to the installed agent`, `Marking the agent ... as bad
    version`, `Blacklisting the agent`), and download or retry failures (`Unable to download Agent`,
    `[SelfUpdate]Unable to update Agent`, `Attempted enough update retries`).

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
import regex

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, span_text

#: Launch failures, blocking and rollback, download and retry failures.
FAILURE = (
    r"Agent WALinuxAgent-\S+ launched with command .* (?:failed with return code|returned code|failed with exception)"
    r"|Agent WALinuxAgent-\S+ is permanently (?:blacklisted|disabled)|Agent WALinuxAgent-\S+ restarted more than \d+ times"
    r"|Agent WALinuxAgent-\S+ is blacklisted - skipping download|Agent WALinuxAgent-\S+ error state: .*Fatal: True"
    r"|is reverting to the installed agent|Marking the agent \S+ as bad version|Blacklisting the agent \S+"
    r"|Unable to download Agent|Agent WALinuxAgent-\S+ download failed|\[(?:SelfUpdate|RSM)\]\s*Unable to update Agent"
    r"|Attempted enough update retries for version|No matching package found in the agent manifest for version"
    r"|Downloaded agent package: \S+ is missing agent handler manifest file"
)
#: The daemon launching the distro-installed agent (`/usr/sbin/waagent`), not an updated egg.
INSTALLED_LAUNCH = r"launched with command '[^']*/s?bin/waagent [^']*'"
#: The daemon passing over a version blocked before this log starts.
_SKIPPED = r"is blacklisted - skipping download|error state: .*Fatal: True"
_VERSION = r"WALinuxAgent-(\d+(?:\.\d+)+)|agent (\d+(?:\.\d+)+)|version: (\d+(?:\.\d+)+)"
_ROLLBACK_TO = r"Determined Agent WALinuxAgent-(\S+) to be the latest agent|Installed Agent WALinuxAgent-(\S+) is the most current agent"


RULE = Rule(
    id="agent-update-failed",
    category="upgrade",
    severity="error",
    title="Guest agent update failed or rolled back",
    triggers=FAILURE + "|" + _ROLLBACK_TO,
)


def detect(context: Context) -> list[Hit]:
    agent = context.records.filter(pl.col("kind") == "waagent")
    # The installed agent (not a downloaded egg) failing at launch is agent health, not an update:
    # agent-not-processing reports it.
    failures = agent.filter(pl.col("message").str.contains(FAILURE))
    failures = failures.filter(~pl.col("message").str.contains(INSTALLED_LAUNCH))
    if failures.height == 0:
        return []
    failures = failures.with_columns(
        agent_version=pl.col("message")
        .str.extract(_VERSION, 1)
        .fill_null(pl.col("message").str.extract(_VERSION, 2))
        .fill_null(pl.col("message").str.extract(_VERSION, 3))
    )
    rollbacks = agent.filter(pl.col("message").str.contains(_ROLLBACK_TO))
    hits = []
    for (version,), rows in failures.group_by(["agent_version"], maintain_order=True):
        text = "\n".join(rows["message"].to_list())
        steps = [label for label, token in _STEPS if regex.search(token, text)]
        code = regex.search(r"(?:return|returned) code: (-?\d+)", text)
        last = rows["timestamp"].max()
        # Pasted text may have no times: then the order of the lines decides.
        later = pl.col("timestamp") > last if last else pl.col("record") > rows["record"].max()
        after = rollbacks.filter(later).head(1)
        back_to = None
        if after.height:
            match = regex.search(_ROLLBACK_TO, after["message"][0])
            back_to = match.group(1) or match.group(2)
        parts = ", ".join(steps) + (f" (exit code {code.group(1)})" if code else "")
        rolled = f"; the daemon went back to {back_to}" if back_to and back_to != version else ""
        span = span_text(rows)
        summary = f"Agent update to {version or 'a new version'} failed: {parts}{' ' + span if span else ''}{rolled}"
        severity = None
        if rows["message"].str.contains(_SKIPPED).all():
            # Only the daemon skipping a version it blocked earlier: the failure itself is older.
            summary = (
                f"Agent {version} was blocked after an earlier failed update; the daemon skips it {span_text(rows)}"
            )
            severity = "warning"
        rows = pl.concat([rows.select(HIT_COLUMNS), after.select(HIT_COLUMNS)])
        hits.append(Hit(summary, rows, severity=severity, extension="WALinuxAgent", version=version))
    return hits


_STEPS = (
    ("the new agent crashed at launch", r"launched with command .* (?:failed with|returned code)"),
    ("it restarted too often", r"restarted more than"),
    (
        "it was blocked",
        r"permanently (?:blacklisted|disabled)|as bad version|Blacklisting the agent|is blacklisted - skipping",
    ),
    ("the agent reverted to the installed version", r"reverting to the installed agent"),
    (
        "the download failed",
        r"Unable to download Agent|download failed|No matching package found|missing agent handler manifest",
    ),
    ("the update was abandoned after retries", r"Attempted enough update retries|Unable to update Agent"),
)

"""The agent killed an extension command that ran past its time limit.

What it detects:
    The agent's own command limits being hit. `Timeout(N): <cmd>` (and, from agent 2.9 with
    cgroups, `Timeout(N);CPUThrottledTime(Xsecs): <cmd>`) in an `Event:` error or an `[ExtensionError]`
    warning: the agent gives enable and uninstall 300 s, and install, update and disable 900 s,
    and then kills the command's process group. Also the 90-minute wait for dependent
    extensions: `did not reach a terminal state within the allowed timeout` and `failed or timed
    out, will skip processing the rest of the extensions`.

Why it matters:
    A killed command leaves the extension half-installed or half-configured, and the handler
    status turns to error code 1011. When extensions are sequenced, the agent skips every
    extension after the one that timed out.

Example:
    2019/03/14 11:07:11.603772 ERROR ExtHandler Event: name=Microsoft.Azure.Extensions.CustomScript, op=Enable, message=[ExtensionError] Timeout(300): bin/custom-script-shim enable

Known benign causes:
    None: the agent only kills commands that ran out of time. Downloads that time out (`Timeout
    downloading`) are network problems and are not counted here.

Remediation:
    Find what the command was waiting for in the extension's own log (`/var/log/azure/<extension>/`)
    and the `[stdout]`/`[stderr]` of the event. Usual causes are a package-manager lock, a slow or
    blocked download, or too few CPU/memory resources (see `CPUThrottledTime`). Fix the cause, then
    remove the extension and set it again.

References:
    https://learn.microsoft.com/azure/virtual-machines/extensions/features-linux#troubleshoot-vm-extensions
"""

from __future__ import annotations

import polars as pl
import regex

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.knowledge import COMMAND_LIMITS
from loglens.rules._common import HIT_COLUMNS, span_text, version_of

#: The agent's timeout text, optionally with cgroup CPU throttling.
TIMEOUT = r"Timeout\((\d+)\)(?:;CPUThrottledTime\(([\d.]+)secs\))?: "
#: The dependency wait (90 minutes by default).
DEPENDENCY = r"did not reach a terminal state within the allowed timeout|failed or timed out, will skip processing the rest of the extensions"


RULE = Rule(
    id="extension-command-timeout",
    category="timeout",
    severity="error",
    title="Extension command killed at the agent's time limit",
    triggers=TIMEOUT + "|" + DEPENDENCY,
)


def detect(context: Context) -> list[Hit]:
    kinds = ("waagent", "command_execution")
    killed = context.search(TIMEOUT, kinds=kinds).filter(~pl.col("message").str.contains("Timeout downloading"))
    hits = []
    for (extension,), rows in killed.group_by(["extension"], maintain_order=True):
        text = rows["message"][0]
        limit, throttled = regex.search(TIMEOUT, text).groups()
        operation = _operation(text)
        expected = COMMAND_LIMITS.get((operation or "").lower())
        version = version_of(rows)
        what = f"{operation or 'A command'} of {extension or 'an extension'}{' ' + version if version else ''}"
        limit_text = f"{limit} s" + (f" (the agent's {operation.lower()} limit)" if expected == int(limit) else "")
        cpu = f"; CPU throttled {throttled} s" if throttled and float(throttled) > 0 else ""
        times = f", {rows.height} times" if rows.height > 1 else ""
        summary = f"{what} was killed by the agent after {limit_text}{cpu} {span_text(rows)}{times}"
        hits.append(Hit(summary, rows.select(HIT_COLUMNS), extension=extension, version=version))
    waited = context.search(DEPENDENCY, kinds=kinds)
    for (extension,), rows in waited.group_by(["extension"], maintain_order=True):
        name = regex.search(r"[Ee]xtension (\S+) (?:did not|failed)", rows["message"][0])
        who = name.group(1) if name else extension or "a dependent extension"
        summary = f"The agent gave up waiting for {who} (90-minute dependency limit) and skipped the extensions sequenced after it {span_text(rows)}"
        hits.append(Hit(summary, rows.select(HIT_COLUMNS), extension=extension or (name.group(1) if name else None)))
    return hits


def _operation(text: str) -> str | None:
    match = regex.search(r"\bop=(\w+)", text) or regex.search(
        r"\b(enable|install|update|disable|uninstall)\b[^\n]*$", text.split("\n", 1)[0], regex.I
    )
    return match.group(1).capitalize() if match else None

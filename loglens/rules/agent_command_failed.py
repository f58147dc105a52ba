"""A command the agent itself ran (iptables, nmcli, hostname, mount, ...) failed.

What it detects:
    The agent's report of one of its own helper commands exiting non-zero: `Command:
    [iptables -w -t security -A OUTPUT -d 168.63.129.16 ...], return code: [1], result: [...]`
    (agents 2.2 and later), and the follow-up lines that name what it was for (`failed to set
    DHCP hostname for interface eth0: return code 6`).

Why it matters:
    These commands set up the VM for Azure: the firewall rules that protect 168.63.129.16, the
    hostname published through DHCP, the resource disk. When one fails the agent carries on, so
    the symptom shows up later and elsewhere (a wrong DNS name, an unprotected WireServer, a
    missing temporary disk). The result text says why it failed.

Example:
    2018/07/06 14:01:46.761953 ERROR ExtHandler Command: [iptables -w -t security -A OUTPUT -d 168.63.129.16 -p tcp -m owner --uid-owner 0 -j ACCEPT], return code: [1], result: [iptables: No chain/target/match by that name.

Known benign causes:
    A command retried successfully right after (the same command without a failure later).
    Kernels without the `security` iptables table make the agent's firewall commands fail
    harmlessly on some older images.

Remediation:
    Run the command by hand as root to see the full error. For iptables, check that the
    kernel modules and tables exist (`iptables -t security -L`); for nmcli, that the device is
    managed by NetworkManager; then restart the agent.

References:
    https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-azure-guest-agent
"""

from __future__ import annotations

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, span_text

#: The agent's shell helper reporting a failed command (the result may run on to later lines).
COMMAND = r"Command: \[(?P<command>[^\]]*)\], return code: \[(?P<code>-?\d+)\]"
#: What the failed command was for, as the agent says it after.
PURPOSE = r"failed to set DHCP hostname for interface \S+: return code -?\d+"

RULE = Rule(
    id="agent-command-failed",
    category="command-failure",
    severity="warning",
    title="A command the agent ran failed",
    triggers=COMMAND + "|" + PURPOSE,
)


def detect(context: Context) -> list[Hit]:
    kinds = ("waagent",)
    failed = (
        context.search(COMMAND, kinds=kinds)
        .with_columns(pl.col("message").str.extract_groups(COMMAND).alias("c"))
        .unnest("c")
        .filter(pl.col("code").cast(pl.Int64, strict=False) != 0)
    )
    if failed.height == 0:
        return []
    purposes = context.search(PURPOSE, kinds=kinds)
    hits = []
    for (command, code), rows in failed.group_by(["command", "code"], maintain_order=True):
        program = command.split()[0] if command.split() else "a command"
        result = rows["message"][0].split("result: [", 1)[-1].split("\n", 1)[0].rstrip("]").strip()
        near = purposes.filter(pl.col("message").str.contains(f"return code {code}", literal=True))
        why = f" ({near['message'][0]})" if near.height else ""
        times = f", {rows.height} times" if rows.height > 1 else ""
        summary = f"The agent's `{program}` command failed with return code {code}{times}{why}: {result[:200]} {span_text(rows)}"
        hits.append(Hit(summary.strip(), pl.concat([rows.select(HIT_COLUMNS), near.select(HIT_COLUMNS)])))
    return hits

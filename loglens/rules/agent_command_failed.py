"""A command the agent itself ran (iptables, nmcli, hostname, mount, ...) failed.

What it detects:
    The agent's report of one of its own helper commands exiting non-zero, in every generation:
    `Command: [iptables -w -t security -A OUTPUT -d 168.63.129.16 ...], return code: [1], result:
    [...]` (2.2.31+; `..., stdout: [...] stderr: [...]` from 2.2.45), `Command [...] raised
    unexpected exception` (the program could not start), the three-line forms of older agents
    (`run cmd '...' failed` / `Error Code:N` / `Result:...` in 2.1-2.2.9, `Command: '...'` /
    `Return code: N` / `Result: ...` in 2.2.10-2.2.30, and the 2.0 agent's `CalledProcessError.
    Error Code is N` / `Command string was ...` / `Command result was ...`), and the follow-up
    lines that name what it was for (`failed to set DHCP hostname for interface eth0: return code
    6`, `failed to restart eth0: return code 1`, `Failed to create user account:..., Retcode: 9`).
    Extensions that bundle the 2.0 agent's module report their own commands in the same words;
    when such a report follows an extension's `[Name-Version]` line, the finding names it.

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

from catalogue.match import ID
from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._agent import by_record, carries
from loglens.rules._common import HIT_COLUMNS, span_text

#: One-line reports: the command, its exit code and its output in one record.
ONE_LINE = ("agent.command-failed", "agent.command-failed-output", "agent.command-raised-exception")
#: Older agents spread a failure over consecutive records: the line naming the command, the line
#: with its exit code, the line with its output. `(command, code, result, whether the code comes first)`.
SPREAD = (
    ("agent.run-cmd-failed", "agent.run-cmd-error-code", "agent.command-result", False),
    ("agent.command-quoted", "agent.command-return-code", "agent.command-result", False),
    (
        "agent.legacy-called-process-error-command",
        "agent.legacy-called-process-error-code",
        "agent.legacy-called-process-error-result",
        True,
    ),
)
#: What a failed command was for, as the agent says it after (matched by exit code).
PURPOSE = ("agent.set-dhcp-hostname-failed", "agent.restart-interface-failed", "agent.osutil-command-failed")
#: How far (in records) the parts of a spread-out report lie from each other.
_NEAR = 3

RULE = Rule(
    id="agent-command-failed",
    category="command-failure",
    severity="warning",
    title="A command the agent ran failed",
    messages=tuple(dict.fromkeys((*ONE_LINE, *(i for parts in SPREAD for i in parts[:3]), *PURPOSE))),
    reads=("records",),
    false_positives=(
        "benign.pidof-dhclient",
    ),
)


def detect(context: Context) -> list[Hit]:
    groups: dict[tuple, list[tuple[str | None, pl.DataFrame]]] = {}
    for command, code, result, rows in [*_one_line(context), *_spread(context)]:
        runner = _extension_writing(context, rows)
        groups.setdefault((command, code, runner), []).append((result, rows.select(HIT_COLUMNS)))
    if not groups:
        return []
    purposes = by_record(context, PURPOSE)
    hits = []
    for (command, code, runner), reports in groups.items():
        rows = pl.concat([r for _, r in reports]).unique("record", maintain_order=True).sort("record")
        program = command.split()[0] if command and command.split() else "a command"
        first = next((text for text, _ in reports if text and text.strip("[] ")), "")
        result = first.split("\n", 1)[0].strip().removesuffix("]").strip()
        near = purposes.filter(pl.col("exit_code") == code) if code is not None else purposes.clear()
        why = f" ({near['message'][0].strip()})" if near.height else ""
        times = f", {len(reports)} times" if len(reports) > 1 else ""
        outcome = f"failed with return code {code}" if code is not None else "could not be run"
        extension, version = runner or (None, None)
        # Old extensions log through the 2.0 agent's module, in the same words: say whose command it was.
        who = f"{extension}'s" if extension else "The agent's"
        summary = f"{who} `{program}` command {outcome}{times}{why}: {result[:200]} {span_text(rows)}"
        hits.append(
            Hit(summary.strip(), pl.concat([rows, near.select(HIT_COLUMNS)]), extension=extension, version=version)
        )
    return hits


def _extension_writing(context: Context, rows: pl.DataFrame) -> tuple[str, str | None] | None:
    """The extension whose own `[Name-Version]` line comes just before a report, if one does:
    extensions that bundle the 2.0 agent's module report their commands in the agent's words."""
    first = rows.sort("record").row(0, named=True)
    if not first["record"]:
        return None
    before = context.records.filter(
        (pl.col("source_path") == first["source_path"])
        & pl.col("record").is_between(max(first["record"] - _NEAR, 0), first["record"] - 1)
        & pl.col("extension").is_not_null()
    )
    if before.height == 0:
        return None
    last = before.sort("record").row(-1, named=True)
    return last["extension"], last["extension_version"]


def _one_line(context: Context) -> list[tuple[str, str | None, str | None, pl.DataFrame]]:
    """`(command, exit code, output, rows)` of the one-line reports of non-zero exits."""
    found = context.messages.filter(pl.col(ID).is_in(list(ONE_LINE)) & (pl.col("kind") == "waagent"))
    found = found.unique("record", keep="first", maintain_order=True)
    raised = pl.col(ID) == "agent.command-raised-exception"
    found = found.filter(raised | (pl.col("exit_code").cast(pl.Int64, strict=False) != 0))
    return [
        (row["command"], row["exit_code"], row["error"], found.filter(pl.col("record") == row["record"]))
        for row in found.iter_rows(named=True)
    ]


def _spread(context: Context) -> list[tuple[str, str | None, str | None, pl.DataFrame]]:
    """`(command, exit code, output, rows)` of the reports spread over consecutive records."""
    out = []
    for command_id, code_id, result_id, code_first in SPREAD:
        parts = by_record(context, (command_id, code_id, result_id))
        commands = parts.filter(carries(command_id))
        for row in commands.iter_rows(named=True):
            nearby = parts.filter(
                (pl.col("source_path") == row["source_path"])
                & ((pl.col("record").cast(pl.Int64) - row["record"]).abs() <= _NEAR)
            )
            after = pl.col("record") > row["record"]
            code_side = ~after if code_first else after
            # The nearest exit-code line on its side of the command line.
            codes = nearby.filter(carries(code_id) & code_side).sort("record", descending=code_first).head(1)
            if codes.height == 0 or codes["exit_code"][0] in (None, "0"):
                continue
            results = nearby.filter(carries(result_id) & after & (pl.col("record") != row["record"])).head(1)
            result = results["error"][0] if results.height else None
            rows = pl.concat([codes, parts.filter(pl.col("record") == row["record"]), results])
            out.append((row["command"], codes["exit_code"][0], result, rows.sort("record")))
    return out

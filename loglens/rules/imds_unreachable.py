"""The agent or an extension could not reach the Instance Metadata Service (169.254.169.254).

What it detects:
    The agent's IMDS failures in every generation, as the message catalogue knows them (the
    `imds.` entries of `catalogue/entries/goal_state.toml`): `[IMDS_CONNECTION_ERROR] Unable to
    connect to IMDS endpoint 169.254.169.254` (2.2.4x: `Unable to connect to primary IMDS
    endpoint`), `Failed to get IMDS info`, `IMDS error in /metadata/...`, `Error in
    SendImdsHeartbeat` / `Exception sending imds heartbeat`, `Could not determine the image origin
    from IMDS`, and extension lines that fail on 169.254.169.254 (`dial tcp 169.254.169.254:80:
    i/o timeout`).

Why it matters:
    Extensions that use managed identities or read VM metadata (monitoring agents, Key Vault,
    AAD login, custom platform agents) fail when IMDS is unreachable. The usual cause is a guest
    firewall or proxy rule that catches the link-local address, the same way a WireServer
    block happens.

Example:
    2025-05-20T04:35:09.002213Z WARNING MonitorHandler ExtHandler [PERIODIC] [IMDS_CONNECTION_ERROR] Unable to connect to IMDS endpoint 169.254.169.254

Known benign causes:
    A single periodic warning during host maintenance.

Remediation:
    Allow outbound TCP 80 to 169.254.169.254 and exclude it from any proxy (`NO_PROXY`). Test with
    `curl -H Metadata:true "http://169.254.169.254/metadata/instance?api-version=2021-02-01"`.

References:
    https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service
"""

from __future__ import annotations

import catalogue
from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, span_text

#: IMDS failures of the agent and of extensions: every `imds.` entry of category `wireserver`.
FAILURES = tuple(e.id for e in catalogue.load().entries if e.id.startswith("imds.") and e.category == "wireserver")


RULE = Rule(
    id="imds-unreachable",
    category="wireserver",
    severity="warning",
    title="Instance Metadata Service unreachable",
    messages=("imds.",),
)


def detect(context: Context) -> list[Hit]:
    rows = context.tagged(FAILURES, kinds=("waagent", "command_execution", "extension_log", "status", "instance_view"))
    hits = []
    for (extension,), group in rows.group_by(["extension"], maintain_order=True):
        who = extension or "The agent"
        hits.append(
            Hit(
                f"{who} could not reach IMDS 169.254.169.254: {group.height} failure(s) {span_text(group)}",
                group.select(HIT_COLUMNS),
                extension=extension,
            )
        )
    return hits

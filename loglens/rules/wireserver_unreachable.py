"""The agent or an extension could not reach the WireServer (168.63.129.16).

What it detects:
    Failures to talk to 168.63.129.16 (port 80 WireServer and port 32526 HostGAPlugin): HTTP
    errors and timeouts (`IOError timed out -- 6 attempts made`, `Connection refused`, `No route
    to host`), `[ProtocolError]`/`[Wireserver Exception]`, goal-state fetch failures (`Error
    fetching the goal state`, `Fetching the goal state is still failing`, `Exception retrieving
    extension handlers`, `Attempts to retrieve the goal state are failing`), the boot-time
    endpoint loop (`WireServer is not responding`, `Protocol endpoint not found`, `Retry detect
    protocol`), endpoint discovery blocked (`Failed to send DHCP request: [DhcpError] [Errno 1]
    Operation not permitted`), the HostGAPlugin answering with an error (`get API versions
    returned status code [400]`), HostGAPlugin heartbeat and status-upload failures, and the agent
    failing to set up its own firewall rules. Failures are grouped into streaks; a `recovered from
    previous errors` line ends a streak. Pasted text without times is one finding, backed by a
    failed provisioning or a failed `curl` probe of the address in the same text.

Why it matters:
    The agent gets every goal state, extension package and certificate through the WireServer,
    and reports status back through it. While it is unreachable, no extension can be installed,
    enabled or updated, and Azure sees stale status. A guest firewall (iptables/nftables, firewalld, a
    proxy or a security product) that blocks 168.63.129.16 breaks extensions even when outbound
    internet access works; the agent's proxy support does not apply here.

Example:
    2025-05-20T04:30:11.552101Z ERROR ExtHandler ExtHandler Error fetching the goal state: [ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] GET http://168.63.129.16/machine/ -- IOError timed out -- 6 attempts made

Known benign causes:
    A few failures that recover within minutes (host maintenance, a network blip) are reported as
    a warning. Lines the agent's own tests treat as harmless (a vmSettings or goal-state fetch
    overtaken by a newer goal state, telemetry drops, HostGAPlugin health probes, a persistent
    firewall file on a read-only /lib; `loglens/benign.py`) are info unless they persist. Healthy lines that merely mention the address (`Route to 168.63.129.16 exists`,
    `Wire server endpoint:168.63.129.16`, firewall rules set successfully, iptables dumps) never
    count.

Remediation:
    Make sure the guest allows outbound TCP 80 and 32526 to 168.63.129.16 (and DNS on 53) for root:
    check `iptables -L -nv`, `nft list ruleset`, firewalld and any proxy or security agent, and
    test with `curl http://168.63.129.16/?comp=versions`. Do not route this address through a
    proxy. After fixing, restart the agent (`systemctl restart walinuxagent` or `waagent`).

References:
    https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from loglens.context import Context
from loglens.findings import Hit, Rule
from loglens.rules._common import HIT_COLUMNS, duration_text, span_text

#: Failure tokens that must accompany the address.
_FAILURE = r"IOError|timed out|Connection refused|No route to host|Network is unreachable|Connection reset|attempts made|\[HTTP Failed\]|\[HTTP Retry\]|Status Code|Timeout"
#: Messages that are failures whatever address they show (the WireServer client and goal-state loop).
FAILURE = (
    r"168\.63\.129\.16[^\n]*(?:"
    + _FAILURE
    + r")|\[Wireserver Exception\]|\[Wireserver Failed\]|Calling wire server failed"
    r"|\[ProtocolNotFoundError\]|No protocol found|WireServer is not responding|Protocol endpoint not found"
    r"|Retry detect protocols?: retry=|No route exists to 168\.63\.129\.16|Exception retrieving extension handlers"
    r"|An error occurred while retrieving the goal state|Attempts to retrieve the goal state are failing"
    r"|Error fetching the goal state|Fetching the goal state is still failing|Fetching the goal state failed"
    r"|Error in SendHostPluginHeartbeat|Failed to report vm agent status|Exception uploading status blob"
    r"|Failed to upload status blob via either channel|GET vmSettings \[[^\]]*\]: (?:Timeout|\[HTTP Failed\])"
    # The HostGAPlugin answering its API-version query with an error (2.2 agents).
    r"|get API versions returned status code \[\d+\]"
    # Endpoint discovery blocked: the agent may not send DHCP requests (appliances, hardened images).
    r"|Failed to send DHCP request: \[DhcpError\]"
)
#: The agent's own firewall set-up failing (the rules that protect 168.63.129.16).
FIREWALL_FAILURE = (
    r"Unable to add (?:ACCEPT|DROP) firewall rule|Unable to establish firewall|An error occurred while setting up the firewall"
    r"|Unable to setup the persistent firewall rules|Error initializing firewall|Unable to add firewall rules"
)
#: What shows a WireServer failure in pasted text mattered: a failed provisioning, or `curl` to the
#: address answering `000` (no HTTP response at all).
CORROBORATION = r"ProvisioningState/failed|curl [^\n]*168\.63\.129\.16|^000$"
#: A streak ends at the next sign that the WireServer answered again: the agent saying it
#: recovered, or a goal state fetched or processed. (`Fetched a new incarnation` is left out: it
#: comes with every goal state beside `ProcessExtensionsGoalState completed`, and would only add
#: rows to the narrowed view.)
RECOVERED = (
    r"recovered from previous errors|Fetch goal state completed|Fetched new vmSettings"
    r"|ProcessExtensionsGoalState completed|ProcessExtensionsInGoalState completed|ProcessGoalState completed"
)
#: Failures with no answer from the server at all.
_NO_ANSWER = r"(?i)timed out|connection refused|no route to host|network is unreachable|connection reset|DhcpError|not responding|endpoint not found|IOError"
#: Failures that are an answer from the server (an HTTP status), not a missing connection.
ANSWERED = r"\[(?P<a>[1-5][0-9]{2}): |Status Code (?P<b>[1-5][0-9]{2})|status code \[(?P<c>[1-5][0-9]{2})\]"
#: Where a failing request went: (label, token in the message), the first that matches names it.
ENDPOINTS = (
    ("vmSettings", "vmSettings"),
    ("HostGAPlugin health", ":32526/health"),
    ("HostGAPlugin", ":32526"),
    ("HostGAPlugin", "API versions"),
    ("telemetry", "comp=telemetrydata"),
    ("telemetry", "DroppedEventsCount"),
    ("status upload", "status blob"),
    ("endpoint discovery", "DhcpError"),
    ("endpoint discovery", "Protocol endpoint not found"),
    ("endpoint discovery", "WireServer is not responding"),
    ("goal state", "goal state"),
    ("goal state", "168.63.129.16/machine"),
)
#: Up to this many failures that then recover are a transient blip (the agent team's own threshold).
TRANSIENT_MAX = 5
#: Failures further apart than this start a new streak. The agent repeats `still failing` only
#: every 6 hours during a long outage, so the gap must be longer than that.
STREAK_GAP = timedelta(hours=7)


RULE = Rule(
    id="wireserver-unreachable",
    category="wireserver",
    severity="error",
    title="WireServer 168.63.129.16 unreachable",
    triggers="|".join((FAILURE, RECOVERED, FIREWALL_FAILURE, CORROBORATION)),
)


def detect(context: Context) -> list[Hit]:
    kinds = ("waagent", "command_execution", "extension_log", "control_plane")
    failures = context.search(FAILURE, kinds=kinds).filter(~pl.col("message").str.contains(RECOVERED))
    hits = []
    if failures.height:
        # Success lines come with every goal state: only the first after a failure ends a streak.
        successes = context.search(RECOVERED, kinds=kinds).filter(pl.col("timestamp").is_not_null())
        events = pl.concat(
            [
                failures.filter(pl.col("timestamp").is_not_null()).with_columns(recovered=pl.lit(False)),
                successes.with_columns(recovered=pl.lit(True)),
            ]
        ).sort("timestamp", maintain_order=True)
        events = events.filter(~pl.col("recovered") | ~pl.col("recovered").shift(1).fill_null(True))
        hits += [h for streak in _streaks(events) if (h := _streak_hit(streak))]
    untimed = failures.filter(pl.col("timestamp").is_null())
    if untimed.height:
        # Pasted text without times: no streak to measure, but the failures are still evidence.
        how = " and ".join(sorted(_symptoms(untimed)))
        summary = f"168.63.129.16 unreachable ({how}): {untimed.height} failure(s); the text gives no times"
        # A failed provisioning or a failed manual probe in the same text shows the failure mattered.
        backing = context.search(CORROBORATION).join(
            untimed.select("source_path").unique(), on="source_path", how="semi"
        )
        if backing.height:
            summary += "; the same text shows " + (
                "a manual probe of 168.63.129.16 failing"
                if backing["message"].str.contains("curl|^000$").any()
                else "a failed provisioning"
            )
        rows = pl.concat([untimed, backing]).unique("record", maintain_order=True).select(HIT_COLUMNS)
        hits.append(Hit(summary, rows, count=untimed.height, corroborated=backing.height > 0))
    firewall = context.search(FIREWALL_FAILURE, kinds=kinds)
    if firewall.height:
        summary = f"The agent could not set up its firewall rules for 168.63.129.16 ({span_text(firewall)}); other processes may reach the WireServer unprotected, or iptables is broken"
        hits.append(Hit(summary, firewall.select(HIT_COLUMNS), severity="warning"))
    return hits


def _streaks(events: pl.DataFrame) -> list[pl.DataFrame]:
    """Split failures (and the success line that closes them; column `recovered`) into streaks.

    Only the streaks that hold a failure are kept, so the per-streak work is proportional to the
    failures.
    """
    if events.height == 0:
        return []
    gap = (pl.col("timestamp").diff() > STREAK_GAP).fill_null(False)
    # A new streak starts after a success line or after a long gap.
    starts = (pl.col("recovered").shift(1).fill_null(False) | gap).cum_sum()
    events = events.with_columns(streak=starts)
    events = events.filter((~pl.col("recovered")).any().over("streak"))
    return [part for _, part in events.group_by("streak", maintain_order=True)]


def _streak_hit(streak: pl.DataFrame) -> Hit | None:
    failures = streak.filter(~pl.col("recovered"))
    if failures.height == 0:
        return None
    recovery = streak.filter(pl.col("recovered"))
    first, last = failures["timestamp"].min(), failures["timestamp"].max()
    ended = recovery["timestamp"].max() if recovery.height else None
    lasted = ((ended or last) - first).total_seconds()
    how = " and ".join(sorted(_symptoms(failures)))
    if ended is not None:
        tail = f"recovered at {ended:%H:%M} UTC after {duration_text(lasted)}"
    else:
        tail = "still failing at the last failure logged" if failures.height > 1 else "no recovery logged"
    transient = ended is not None and failures.height <= TRANSIENT_MAX and lasted <= 3600
    where = ", ".join(_endpoints(failures))
    statuses = _statuses(failures)
    what = (
        f"168.63.129.16 answered with errors (HTTP {', '.join(statuses)}; {where})"
        if statuses and not _unreachable(failures)
        else f"168.63.129.16 unreachable ({how}; {where})"
    )
    if transient:
        what = f"Transient WireServer blip ({how}; {where})"
    summary = f"{what}: {failures.height} failure(s) {span_text(failures)}, {tail}"
    rows = pl.concat([failures, recovery]).select(HIT_COLUMNS)
    # One failure with nothing after it shows no persistence: a warning, not an outage.
    severity = "warning" if transient or (failures.height == 1 and ended is None) else None
    return Hit(summary, rows, severity=severity, count=failures.height)


def _endpoints(failures: pl.DataFrame) -> list[str]:
    """Which endpoints the failing requests went to, in a stable order."""
    found = []
    for message in failures["message"].to_list():
        label = next((name for name, token in ENDPOINTS if token in (message or "")), "WireServer")
        if label not in found:
            found.append(label)
    return found


def _statuses(failures: pl.DataFrame) -> list[str]:
    codes = failures.select(pl.col("message").str.extract_groups(ANSWERED)).unnest("message")
    values = pl.concat([codes[c] for c in codes.columns]).drop_nulls().unique().sort()
    return values.to_list()


def _unreachable(failures: pl.DataFrame) -> bool:
    """True when some failure had no answer at all (timeout, refused, no route, reset)."""
    return bool(failures["message"].str.contains(_NO_ANSWER).any())


def _symptoms(failures: pl.DataFrame) -> set[str]:
    text = "\n".join(failures["message"].to_list())
    found = {
        label
        for label, token in (
            ("timeouts", "timed out"),
            ("connection refused", "Connection refused"),
            ("no route to host", "No route to host"),
            ("network unreachable", "Network is unreachable"),
            ("protocol not found", "Protocol endpoint not found"),
            ("DHCP requests not permitted", "[DhcpError]"),
            ("HTTP error answers", "returned status code ["),
        )
        if token in text
    }
    return found or {"request failures"}

"""The agent or an extension could not reach the WireServer (168.63.129.16).

What it detects:
    Failures to talk to 168.63.129.16 (port 80 WireServer and port 32526 HostGAPlugin) in every
    agent generation, as the message catalogue knows them (`catalogue/entries/goal_state.toml`,
    the `wire.` entries of category `wireserver`): HTTP errors and timeouts (`IOError timed out --
    6 attempts made`, `Connection refused`, `No route to host`), `[Wireserver Exception]`,
    goal-state fetch failures (`Error fetching the goal state`, `Fetching the goal state is still
    failing`, `Attempts to retrieve the goal state are failing`, `Exception retrieving extension
    handlers`, the 2.0 agent's `UpdateGoalState failed`), the boot-time endpoint loop (`WireServer
    is not responding`, `Protocol endpoint not found`, `Retry detect protocol`), endpoint discovery
    blocked (`Failed to send DHCP request: [DhcpError] [Errno 1] Operation not permitted`), the
    WireServer or HostGAPlugin answering with an error (`Calling wire server failed: 503`, `get
    API versions returned status code [400]`, the 2.0 agent's `ERROR:HTTP Req: POST
    /machine?comp=health` with `HTTP Err: Status=503`, `Failed to post: /machine?comp=health Http
    resource gone.`), health-report, heartbeat and status-upload failures, and the agent failing
    to set up its own firewall rules. Failures are grouped into streaks; a `recovered from previous
    errors` line (or a goal state fetched or processed) ends a streak. Pasted text without times is
    one finding, backed by a failed provisioning or a failed `curl` probe of the address in the
    same text.

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
    firewall file on a read-only /lib; the `benign` catalogue entries) are info unless they persist.
    `[Wireserver Exception]` only wraps what a call raised: around an error of the agent's own
    (`'latin-1' codec can't encode character`, `'HTTPResponse' object has no attribute 'statue'`)
    it is reported as info, not as an unreachable WireServer. Healthy lines that merely mention
    the address (`Route to 168.63.129.16 exists`, `Wire server endpoint:168.63.129.16`, the 2.0
    agent's `Discovered Windows Azure endpoint: 168.63.129.16`, firewall rules set successfully,
    iptables dumps) never count.

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

import catalogue
from loglens.context import Context
from loglens.findings import Hit, Hits, Rule
from loglens.rules._common import HIT_COLUMNS, span_text
from loglens.rules._wireserver_streaks import SYMPTOMS, how_it_failed, streak_facts, streak_table, symptoms_of

# A streak of `FAILURES` ends at the first of `RECOVERED` after it.
from loglens.wireserver import FAILURES, RECOVERED, WRAPPER

_ENTRIES = catalogue.load().entries
#: The agent's own firewall set-up failing (the rules that protect 168.63.129.16).
FIREWALL_FAILURES = tuple(e.id for e in _ENTRIES if e.id.startswith("firewall.") and e.category == "wireserver")
#: 2.0 lines that the agent writes for every request under `Logs.Verbose=y` and at ERROR only when
#: the request failed: they count as failures at ERROR only.
FAILED_WHEN_ERROR = ("wire.legacy-http-request", "wire.legacy-http-call-failed")
#: What shows a WireServer failure in pasted text mattered: a failed provisioning, or a `curl`
#: probe of the address that got no HTTP answer.
CORROBORATION = ("wire.provisioning-state-failed", "wire.curl-probe")
#: The 2.0 agent logs a failed request over several lines (`socket IOError ...` before it,
#: `HTTP Err: Status=503` after it): its socket error and status are read this many records around.
LEGACY_WINDOW = 4
#: Failures further apart than this start a new streak. The agent repeats `still failing` only
#: every 6 hours during a long outage, so the gap must be longer than that.
STREAK_GAP = timedelta(hours=7)
#: The record columns the rule decides with (the rest of `HIT_COLUMNS` only cites).
_DECIDING = ("record", "source_path", "line_first", "timestamp", "level", "kind")
#: The kinds of records a failure may come from.
_KINDS = ("waagent", "command_execution", "extension_log", "control_plane")


RULE = Rule(
    id="wireserver-unreachable",
    category="wireserver",
    severity="error",
    title="WireServer 168.63.129.16 unreachable",
    severity_note="warning for a blip that recovered or a lone failure; info when only known-benign lines prove it",
    messages=("wire.", "firewall.", "net.", "benign.telemetry-dropped"),
    false_positives=(
        "benign.artifact-fetch-fallback",
        "benign.dns-firewall-rule",
        "benign.goal-state-blip",
        "benign.goal-state-gone",
        "benign.hostplugin-heartbeat",
        "benign.persistent-firewall-read-only",
        "benign.telemetry-dropped",
        "benign.vmsettings-transient",
        "cgroups.mount-failed",
    ),
)


def detect(context: Context) -> list[Hit | Hits]:
    records, said = _records(context)
    failures = records.filter(
        pl.col("ids").list.eval(pl.element().is_in(FAILURES)).list.any()
        & ~pl.col("ids").list.eval(pl.element().is_in(RECOVERED)).list.any()
        # The 2.0 request lines are failures only when logged as errors.
        & (
            pl.col("ids").list.eval(pl.element().is_in(FAILURES) & ~pl.element().is_in(FAILED_WHEN_ERROR)).list.any()
            | (pl.col("level").cast(pl.String) == "ERROR").fill_null(False)
        )
    )
    failures = _with_legacy_neighbours(failures, records)
    hits = []
    if failures.height:
        hits += _streak_hits(_events(failures, records), said)
    untimed = failures.filter(pl.col("timestamp").is_null())
    if untimed.height:
        hits.append(_untimed_hit(untimed, records, said))
    wrapped = records.filter(
        pl.col("ids").list.contains(WRAPPER)
        & ~pl.col("ids").list.eval(pl.element().is_in([*FAILURES, *SYMPTOMS])).list.any()
    )
    if wrapped.height:
        # The WireServer client wraps any exception, the agent's own bugs included: say so, as info.
        errors = wrapped.join(
            context.messages_by_record((WRAPPER,), ("error",), ("record",)).select("record", "error"),
            on="record",
            how="left",
        )["error"]
        when = span_text(wrapped)
        summary = (
            "The agent's WireServer client failed on an error of its own, not on the network"
            f"{f' ({when})' if when else ''}: {errors.drop_nulls().first() or 'see the evidence'}"
        )
        hits.append(Hit(summary, _cited(wrapped, said), severity="info", count=wrapped.height))
    firewall = records.filter(pl.col("ids").list.eval(pl.element().is_in(FIREWALL_FAILURES)).list.any())
    if firewall.height:
        summary = f"The agent could not set up its firewall rules for 168.63.129.16 ({span_text(firewall)}); other processes may reach the WireServer unprotected, or iptables is broken"
        hits.append(Hit(summary, _cited(firewall, said), severity="warning"))
    return hits


def _records(context: Context) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records of the failure kinds that carry this rule's messages: one row per record with
    the columns the rule decides with (`_DECIDING`), every id it carries (`ids`) and the first
    `endpoint` and `status` any of them states; and apart, the rest of their `HIT_COLUMNS` (`said`).

    The message text is joined back only onto the rows a hit cites (`_cited`): carried through
    every filter, sort and concatenation of a noisy log's 141,000 records it was copied each time.
    """
    wanted = (
        *RECOVERED,
        *CORROBORATION,
        *SYMPTOMS,
        "net.not-permitted",
        "benign.telemetry-dropped",
        "wire.",
        "firewall.",
    )
    records = context.messages_by_record(wanted, ("endpoint", "status"), (*HIT_COLUMNS, "kind"))
    records = records.filter(pl.col("kind").is_in(_KINDS))
    said = [c for c in HIT_COLUMNS if c not in _DECIDING]
    return records.select(*_DECIDING, "ids", "endpoint", "status"), records.select("record", *said)


def _events(failures: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """The timed failures and, after each, the first success line (`recovered`), in time order.

    Success lines come with every goal state: they are put in order by time and record alone, and
    only those that end a streak join back whole (a noisy log has 100,000 of them)."""
    timed = pl.col("timestamp").is_not_null()
    successes = records.filter(pl.col("ids").list.eval(pl.element().is_in(RECOVERED)).list.any() & timed)
    order = pl.concat(
        [
            failures.filter(timed).select("record", "timestamp", recovered=pl.lit(False)),
            successes.select("record", "timestamp", recovered=pl.lit(True)),
        ]
    ).sort("timestamp", maintain_order=True)
    order = order.filter(~pl.col("recovered") | ~pl.col("recovered").shift(1).fill_null(True))
    ends = successes.join(order.filter(pl.col("recovered")).select("record"), on="record", how="semi")
    rows = pl.concat([failures.filter(timed), ends], how="diagonal_relaxed")
    # A record is a failure or a success, never both (a failure carries no recovery message).
    return order.select("record", "recovered").join(rows, on="record", how="left", maintain_order="left")


def _cited(rows: pl.DataFrame, said: pl.DataFrame) -> pl.DataFrame:
    """``rows`` (of `_records`) with the `HIT_COLUMNS` a hit needs, joined back from ``said``."""
    return rows.select(*_DECIDING).join(said, on="record", how="left", maintain_order="left").select(HIT_COLUMNS)


def _with_legacy_neighbours(failures: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """The 2.0 agent's failures gain the socket errors and statuses logged on the lines around them."""
    legacy = failures.filter(pl.col("ids").list.eval(pl.element().str.starts_with("wire.legacy-")).list.any())
    neighbours = records.filter(
        pl.col("ids").list.eval(pl.element().is_in([*SYMPTOMS, "wire.legacy-http-status"])).list.any()
    )
    if legacy.height == 0 or neighbours.height == 0:
        return failures
    near = (
        legacy.select("record", "source_path")
        .join(neighbours.select("source_path", pl.col("record").alias("other"), "ids", "status"), on="source_path")
        .filter((pl.col("other").cast(pl.Int64) - pl.col("record").cast(pl.Int64)).abs() <= LEGACY_WINDOW)
        .group_by("record")
        .agg(pl.col("ids").explode().alias("near_ids"), pl.col("status").drop_nulls().first().alias("near_status"))
    )
    return (
        failures.join(near, on="record", how="left", maintain_order="left")
        .with_columns(
            ids=pl.concat_list("ids", pl.col("near_ids").fill_null(pl.lit([], pl.List(pl.String)))),
            status=pl.coalesce("status", "near_status"),
        )
        .drop("near_ids", "near_status")
    )


def _untimed_hit(untimed: pl.DataFrame, records: pl.DataFrame, said: pl.DataFrame) -> Hit:
    """Pasted text without times: no streak to measure, but the failures are still evidence."""
    how = how_it_failed(untimed.select(symptoms_of()).to_series().explode().to_list())
    summary = f"168.63.129.16 unreachable ({how}): {untimed.height} failure(s); the text gives no times"
    # A failed provisioning or a failed manual probe in the same text shows the failure mattered;
    # a probe that printed an HTTP status shows the WireServer answered, and backs nothing.
    backing = records.filter(
        pl.col("ids").list.eval(pl.element().is_in(CORROBORATION)).list.any()
        & (pl.col("status").is_null() | (pl.col("status") == "000"))
    ).join(untimed.select("source_path").unique(), on="source_path", how="semi")
    if backing.height:
        probed = backing["ids"].list.contains("wire.curl-probe").any()
        summary += "; the same text shows " + (
            "a manual probe of 168.63.129.16 failing" if probed else "a failed provisioning"
        )
    rows = pl.concat([untimed.select(_DECIDING), backing.select(_DECIDING)]).unique("record", maintain_order=True)
    rows = _cited(rows, said)
    return Hit(summary, rows, count=untimed.height, corroborated=backing.height > 0)


def _streak_hits(events: pl.DataFrame, said: pl.DataFrame) -> list[Hits]:
    """The hits of every streak of failures (with the success line that closes it; column `recovered`).

    A streak starts after a success line or after a long gap; only streaks that hold a failure
    count. What each summary says is computed for all streaks at once, and the hits are one
    `Hits`: a VM whose connection blips every hour has thousands of streaks.
    """
    if events.height == 0:
        return []
    gap = (pl.col("timestamp").diff() > STREAK_GAP).fill_null(False)
    starts = (pl.col("recovered").shift(1).fill_null(False) | gap).cum_sum()
    events = events.with_columns(streak=starts)
    events = events.filter((~pl.col("recovered")).any().over("streak"))
    if events.height == 0:
        return []
    return [Hits(streak_table(streak_facts(events)), _cited(events, said))]

"""Routine lines: what a healthy agent repeats all day, thinned out of the kept records.

Every goal state runs the same enable, `Command:`, goal-state and all-done lines, and the agent
logs a heartbeat every half hour: a year of a healthy VM is hundreds of thousands of them, and the
rules would tag, hold and filter each one. Rules read a routine line only next to something that
happened (the first success after a failure, the first enable after an update, the version seen
running after a hand-over), so the stream keeps, per run of routine lines between two notable
ones (`loglens.context.Keep.notable`), the first of each kind, and for the agent's own steady
lines (heartbeats, the handler's launch) also the last of each version, which versions and facts
read. Operations are measured from every operation line all the same (`loglens.operations.lines`).
"""

from __future__ import annotations

import polars as pl

from loglens.operations import MARKED

#: The agent's heartbeat (2.2.x on) and the daemon saying the handler it launched runs.
_STEADY = r"^\[HEARTBEAT\] Agent WALinuxAgent-|^Agent WALinuxAgent-\S+ launched with command .* is successfully running"
#: The agent version a steady line names: runs of each version are thinned apart.
_AGENT_VERSION = r"WALinuxAgent-(\S+)"


def routine() -> pl.Expr:
    """The kind of routine line a record is (over records with the `operations.with_markers`
    columns): `operation` (an enable start, a `Command:` end, a completed goal state, an all-done
    line with every status `success`), `steady` (a heartbeat or launch line), else null."""
    message = pl.col("message")
    operation = (
        (pl.col("is_start") & message.str.starts_with("Enable extension"))
        | (pl.col("is_end") & message.str.starts_with("Command: "))
        | (pl.col("is_goal_done") & message.str.contains(r"^Process(?:Extensions(?:In)?)?GoalState completed"))
        | (pl.col("is_all_done") & (message.str.count_matches("'success'") == message.str.count_matches(r"\('")))
    )
    return (
        pl.when(operation.fill_null(False))
        .then(pl.lit("operation"))
        .when(message.str.contains(_STEADY).fill_null(False))
        .then(pl.lit("steady"))
    )


def thin_routine() -> pl.Expr:
    """Over records in log order, with `kept`, `routine` and `notable`: `kept`, but False for the
    routine lines of a run that are neither the first of their kind (source, extension, version,
    marker; for steady lines the agent version) nor, for steady lines, the last. A run is what
    follows a notable line, or an operation line that is not routine, up to the next.

    Keeping the last operation line of each run too changed no finding on the samples, the corpus
    and the generated logs, and cost a noisy VM twice the kept rows; the last heartbeat is what
    `agent-version-outdated` cites, and versions and facts read the last launch line."""
    kind = pl.col("routine")
    thinned = (pl.col("kept") & kind.is_not_null() & ~pl.col("notable")).alias("thinned")
    breaks = pl.col("kept") & (pl.col("notable") | (MARKED & kind.is_null()))
    run = breaks.cum_sum().alias("run")
    version = pl.when(kind == "steady").then(pl.col("message").str.extract(_AGENT_VERSION, 1)).alias("agent_version")
    key = pl.struct(
        run, thinned, kind, "source_path", "extension", "extension_version", "is_start", "is_end", "is_goal_done", version
    )
    edge = key.is_first_distinct() | ((kind == "steady") & key.is_last_distinct())
    return pl.col("kept") & (~thinned | edge)

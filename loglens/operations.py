"""Extension operations and how long they took, measured from the agent's lifecycle lines.

An operation starts at the agent's `Enable extension: [...]` (`Install`, `Update`, `Disable`,
`Uninstall`; all agent generations) and ends at its `Command:` line, its error `Event:`, or the
end of the goal state. CustomScript, RunCommand and ApplicationHealth start enable in the
background: for them the end is the handler log's last word, a final status file, or the agent's
`All extensions in the goal state have reached a terminal state` line. An operation with no
end is still running at the end of its log. The provisioning-timeout rule and the timeline chart
both read this one table.
"""

from __future__ import annotations

import polars as pl

from loglens.knowledge import BACKGROUND_ENABLE, MULTI_CONFIG_HANDLERS, handler_of, platform_limit
from loglens.schema import OPERATION_COLUMNS, conform, empty_frame

#: A handler log's end event that reports failure.
_HANDLER_FAILED = r'\bevent="(?:failed to handle|enable failed|enable script failed)"'
#: `extensionName=RC0001` in a multi-config handler's own log.
_CONFIG_IN_HANDLER_LOG = r"\bextensionName=([^\s\"]+)"
#: Agent lifecycle line starting an operation (all agent generations).
START = r"^(Install|Enable|Update|Disable|Uninstall) extension(?::? \[|\.$)"
#: Agent lines ending one: success output (2.3+) or the failure event.
END = r"^Command: |^Event: name="
#: The agent finishing a goal state ends whatever operation it ran (agents before 2.3 log no `Command:`).
GOAL_STATE_DONE = r"^ProcessGoalState completed|^ProcessExtensionsGoalState (?:completed|failed)|^ProcessExtensionsInGoalState (?:completed|failed)|op=ProcessGoalState"
#: A Go handler's last word on an operation.
HANDLER_END = r'\bevent=(?:end|enabled|"(?:failed to handle|enable failed|enable script failed)")(?:\s|$)'
#: Every extension of the goal state finished (2.5+).
ALL_DONE = r"^All extensions in the goal state have reached a terminal state"
#: Every line the measurement reads (the engine keeps them in the narrowed record view).
TRIGGERS = "|".join((START, END, GOAL_STATE_DONE, ALL_DONE))
_AGENT_KINDS = ["waagent", "command_execution"]


def measure(frames: dict[str, pl.DataFrame], records: pl.DataFrame, log_ends: pl.DataFrame) -> pl.DataFrame:
    """One row per operation, with the columns of `loglens.schema.OPERATION_COLUMNS` (no collection).

    Args:
        frames: the load's frames (extension logs and status files end background enables).
        records: the record view, with at least every line `TRIGGERS` matches.
        log_ends: per source path, its last timestamp (`Context.log_ends`).
    """
    records = records.filter(pl.col("timestamp").is_not_null())
    agent = records.filter(pl.col("kind").is_in(_AGENT_KINDS) & pl.col("extension").is_not_null())
    starts = agent.filter(pl.col("message").str.contains(START)).with_columns(
        operation=pl.col("message").str.extract(START, 1), started=pl.col("timestamp")
    )
    if starts.height == 0:
        return empty_frame(OPERATION_COLUMNS).drop("collection")
    measured = _join_ends(starts.sort("timestamp"), agent, records)
    terminal = _handler_terminal(frames).sort("timestamp")
    measured = measured.join_asof(terminal, on="timestamp", by="extension", strategy="forward", check_sortedness=False)
    measured = measured.join(log_ends, on="source_path", how="left")
    return conform(_with_outcome(measured), OPERATION_COLUMNS).drop("collection")


def _join_ends(starts: pl.DataFrame, agent: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """Beside each start: the next end marker of its extension, goal-state end and all-done line."""
    goal_states = (
        records.filter(pl.col("kind").is_in(_AGENT_KINDS) & pl.col("message").str.contains(GOAL_STATE_DONE))
        .select("source_path", "timestamp", goal_record="record", goal_time="timestamp")
        .sort("timestamp")
    )
    end_columns = (
        "extension",
        "timestamp",
        pl.col("record").alias("end_record"),
        pl.col("timestamp").alias("end_time"),
    )
    ends = pl.concat(
        [
            agent.filter(pl.col("message").str.contains(END)).select(
                *end_columns, end_failed=pl.col("message").str.starts_with("Event: ")
            ),
            # The next operation of the same extension closes one too.
            starts.select(*end_columns, end_failed=pl.lit(False)),
        ]
    ).sort("timestamp")
    all_done = (
        records.filter(pl.col("message").str.contains(ALL_DONE))
        .select("source_path", "timestamp", all_done_time="timestamp")
        .sort("timestamp")
    )
    forward = {"on": "timestamp", "strategy": "forward", "check_sortedness": False}
    return (
        starts.join_asof(ends, by="extension", allow_exact_matches=False, **forward)
        .join_asof(goal_states, by="source_path", allow_exact_matches=False, **forward)
        .join_asof(all_done, by="source_path", **forward)
    )


def _with_outcome(measured: pl.DataFrame) -> pl.DataFrame:
    """finished, took, limit, ongoing and outcome from the joined end markers."""
    background = handler_of(pl.col("extension")).is_in(BACKGROUND_ENABLE) & (pl.col("operation") == "Enable")
    agent_end = pl.min_horizontal("end_time", "goal_time")
    # A background enable ends when its handler log, status file or the agent's status summary says
    # so, or when the agent reports it failed, whichever comes first.
    failed_end = pl.when(pl.col("end_failed")).then(pl.col("end_time"))
    background_end = pl.min_horizontal("handler_time", "all_done_time", failed_end)
    finished = pl.when(background).then(background_end).otherwise(agent_end)
    # An operation still open at the end of its log has run at least until that log's last line.
    measured = measured.with_columns(
        ongoing=finished.is_null(),
        finished=pl.coalesce(finished, pl.col("log_end")),
        limit=platform_limit(pl.col("extension")),
    ).with_columns(took=pl.col("finished") - pl.col("started"))
    failed = (
        pl.when(background)
        .then(
            (failed_end == pl.col("finished"))
            | (pl.col("handler_failed") & (pl.col("handler_time") == pl.col("finished"))).fill_null(False)
        )
        .otherwise(pl.col("end_failed") & (pl.col("end_time") == pl.col("finished")))
    )
    outcome = (
        pl.when(pl.col("ongoing"))
        .then(pl.lit("still running"))
        .when(failed)
        .then(pl.lit("failed"))
        .otherwise(pl.lit("succeeded"))
    )
    return measured.with_columns(outcome=outcome)


def _as_agent_names(frame: pl.DataFrame, config: pl.Expr) -> pl.DataFrame:
    """Name a multi-config handler's records `Handler.Name`, as the agent's prefix does."""
    multi = pl.col("extension").is_in(MULTI_CONFIG_HANDLERS) & config.is_not_null()
    return frame.with_columns(
        extension=pl.when(multi).then(pl.concat_str("extension", pl.lit("."), config)).otherwise("extension")
    )


def _handler_terminal(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """When background operations ended: handler log end events and final status files."""
    logs = frames["extension_logs"].filter(pl.col("message").str.contains(HANDLER_END))
    logs = _as_agent_names(logs, pl.col("message").str.extract(_CONFIG_IN_HANDLER_LOG, 1))
    status = frames["status"].filter(pl.col("status").cast(pl.String).is_in(["success", "error", "warning"]))
    status = _as_agent_names(status, pl.col("config_name"))
    columns = ["extension", "timestamp", "source_path", "line_first", "message", "handler_failed"]
    logs = logs.with_columns(handler_failed=pl.col("message").str.contains(_HANDLER_FAILED))
    status = status.with_columns(handler_failed=pl.col("status").cast(pl.String) == "error")
    both = pl.concat([logs.select(columns), status.select(columns)]).filter(pl.col("timestamp").is_not_null())
    return both.with_columns(handler_time=pl.col("timestamp")).rename(
        {"source_path": "handler_source", "line_first": "handler_line", "message": "handler_message"}
    )

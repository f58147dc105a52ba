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

from datetime import timedelta

import polars as pl

#: Public-docs limits: 20 minutes, 90 for CustomScript, Chef and DSC.
DEFAULT_LIMIT = timedelta(minutes=20)
LONG_LIMIT = timedelta(minutes=90)
LONG_LIMIT_EXTENSIONS = (
    "Microsoft.Azure.Extensions.CustomScript",
    "Microsoft.OSTCExtensions.CustomScriptForLinux",
    "Chef.Bootstrap.WindowsAzure.LinuxChefClient",
    "Microsoft.OSTCExtensions.DSCForLinux",
)
#: Operations above this share of their limit are a warning.
WARN_SHARE = 0.75
#: Extensions whose shim starts enable in the background (the agent sees it end at once).
BACKGROUND_ENABLE = (
    "Microsoft.Azure.Extensions.CustomScript",
    "Microsoft.CPlat.Core.RunCommandLinux",
    "Microsoft.CPlat.Core.RunCommandHandlerLinux",
    "Microsoft.ManagedServices.ApplicationHealthLinux",
)
#: A handler log's end event that reports failure.
_HANDLER_FAILED = r'\bevent="(?:failed to handle|enable failed|enable script failed)"'
#: Multi-config handlers: the agent names each of their extensions `Handler.Name` in its prefix.
MULTI_CONFIG_HANDLERS = ("Microsoft.CPlat.Core.RunCommandHandlerLinux",)
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
#: The platform's verdict and the agent's sign of a non-converged goal state.
PLATFORM_TIMEOUT = r"VMExtensionProvisioningTimeout|[Pp]rovisioning of VM extension .* has timed out"
NOT_CONVERGED = r"not all the extensions in the previous goal state have completed: .*'transitioning'"
#: Every extension of the goal state finished (2.5+).
ALL_DONE = r"^All extensions in the goal state have reached a terminal state"
#: Every line the measurement reads (the engine keeps them in the narrowed record view).
TRIGGERS = "|".join((START, END, GOAL_STATE_DONE, ALL_DONE))


def measure(frames: dict[str, pl.DataFrame], records: pl.DataFrame, log_ends: pl.DataFrame) -> pl.DataFrame:
    """One row per operation: extension, version, operation, started, finished, took, limit, outcome.

    Args:
        frames: the load's frames (extension logs and status files end background enables).
        records: the record view, with at least every line `TRIGGERS` matches.
        log_ends: per source path, its last timestamp (`Context.log_ends`).
    """
    records = records.filter(pl.col("timestamp").is_not_null())
    agent = records.filter(pl.col("kind").is_in(["waagent", "command_execution"]) & pl.col("extension").is_not_null())
    starts = agent.filter(pl.col("message").str.contains(START)).with_columns(
        operation=pl.col("message").str.extract(START, 1), started=pl.col("timestamp")
    )
    if starts.height == 0:
        return pl.DataFrame()
    # An operation still open at the end of its log has run at least until that log's last line.
    goal_states = (
        records.filter(
            pl.col("kind").is_in(["waagent", "command_execution"]) & pl.col("message").str.contains(GOAL_STATE_DONE)
        )
        .select("source_path", "timestamp", goal_record="record", goal_time="timestamp")
        .sort("timestamp")
    )
    ends = pl.concat(
        [
            agent.filter(pl.col("message").str.contains(END)).select(
                "extension",
                "timestamp",
                end_record="record",
                end_time="timestamp",
                end_failed=pl.col("message").str.starts_with("Event: "),
            ),
            starts.select(
                "extension", "timestamp", end_record="record", end_time="timestamp", end_failed=pl.lit(False)
            ),
        ]
    ).sort("timestamp")
    # The next end marker (or next operation) of the same extension closes an operation.
    measured = starts.sort("timestamp").join_asof(
        ends, on="timestamp", by="extension", strategy="forward", allow_exact_matches=False, check_sortedness=False
    )
    measured = measured.join_asof(
        goal_states,
        on="timestamp",
        by="source_path",
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    all_done = (
        records.filter(pl.col("message").str.contains(ALL_DONE))
        .select("source_path", "timestamp", all_done_time="timestamp")
        .sort("timestamp")
    )
    measured = measured.join_asof(
        all_done, on="timestamp", by="source_path", strategy="forward", check_sortedness=False
    )
    terminal = _handler_terminal(frames).sort("timestamp")
    measured = measured.join_asof(terminal, on="timestamp", by="extension", strategy="forward", check_sortedness=False)
    measured = measured.join(log_ends, on="source_path", how="left")
    handler = handler_of(pl.col("extension"))
    background = handler.is_in(BACKGROUND_ENABLE) & (pl.col("operation") == "Enable")
    agent_end = pl.min_horizontal("end_time", "goal_time")
    # A background enable ends when its handler log, status file or the agent's status summary says
    # so, or when the agent reports it failed, whichever comes first.
    failed_end = pl.when(pl.col("end_failed")).then(pl.col("end_time"))
    background_end = pl.min_horizontal("handler_time", "all_done_time", failed_end)
    finished = pl.when(background).then(background_end).otherwise(agent_end)
    limit = pl.when(handler.is_in(LONG_LIMIT_EXTENSIONS)).then(pl.lit(LONG_LIMIT)).otherwise(pl.lit(DEFAULT_LIMIT))
    measured = measured.with_columns(
        ongoing=finished.is_null(),
        finished=pl.coalesce(finished, pl.col("log_end")),
        limit=limit,
    ).with_columns(took=pl.col("finished") - pl.col("started"))
    outcome = (
        pl.when(pl.col("ongoing"))
        .then(pl.lit("still running"))
        .when(
            pl.when(background)
            .then(
                (failed_end == pl.col("finished"))
                | (pl.col("handler_failed") & (pl.col("handler_time") == pl.col("finished"))).fill_null(False)
            )
            .otherwise(pl.col("end_failed") & (pl.col("end_time") == pl.col("finished")))
        )
        .then(pl.lit("failed"))
        .otherwise(pl.lit("succeeded"))
    )
    return measured.with_columns(outcome=outcome)


def handler_of(extension: pl.Expr) -> pl.Expr:
    """The handler of an extension name: `Handler.Name` of a multi-config handler becomes `Handler`."""
    handlers = "|".join(h.replace(".", r"\.") for h in MULTI_CONFIG_HANDLERS)
    return extension.str.replace(rf"^({handlers})\.[^.]+$", "$1")


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

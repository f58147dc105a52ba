"""Extension operations and how long they took, measured from the agent's lifecycle lines.

An operation starts at the agent's `Enable extension: [...]` (`Install`, `Update`, `Disable`,
`Uninstall`; all agent generations) and ends at its `Command:` line, its error `Event:`, or the
end of the goal state. CustomScript, RunCommand and ApplicationHealth start enable in the
background: for them the end is the handler log's last word, a final status file, or the agent's
`All extensions in the goal state have reached a terminal state` line. An operation with no
end is still running at the end of its log. The provisioning-timeout rule and the timeline chart
both read this one table.

The table is measured from the operation lines alone (`lines`: starts, ends, goal-state and
all-done lines), not from the kept records: a healthy log repeats the same enable, `Command:` and
goal-state lines thousands of times, and the kept records hold only the first of each such run
(`loglens.routine`), so the records rules tag and read grow with the incidents, not with how many
commands the VM ran. The lines are paired into operations as the agent's log streams past
(`loglens.pairing`) and let go, but for those a finding may cite; `measure` finishes the paired
operations (a background enable's handler end, the log's end, the limit, the outcome). A
goal-state line's own text is kept only where it may be cited (`QUIET_GOAL_GAP`): as categoricals,
every goal state's distinct text would be held to the end of the process.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from loglens.knowledge import (
    BACKGROUND_ENABLE,
    DEFAULT_LIMIT,
    LONG_LIMIT,
    MULTI_CONFIG_HANDLERS,
    WARN_SHARE,
    handler_of,
    platform_limit,
)
from loglens.packed import PackedFrame
from loglens.schema import OPERATION_COLUMNS, OPERATION_LINE_COLUMNS, OUTCOMES, conform, empty_frame

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


def with_markers(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (with `message`) with the marker columns of `OPERATION_LINE_COLUMNS` (`is_start`, ...)."""
    message = pl.col("message")
    return frame.with_columns(
        is_start=message.str.contains(START),
        is_end=message.str.contains(END),
        is_goal_done=message.str.contains(GOAL_STATE_DONE),
        is_all_done=message.str.contains(ALL_DONE),
    )


#: True for a row `with_markers` marked as an operation line.
MARKED = pl.any_horizontal("is_start", "is_end", "is_goal_done", "is_all_done") & pl.col("timestamp").is_not_null()


def lines(records: pl.DataFrame) -> pl.DataFrame:
    """The operation lines of ``records`` (the record view's columns and `record`; marked by
    `with_markers` or not yet), as `OPERATION_LINE_COLUMNS` says, the repeating text columns as
    categoricals (a 2 GB log has over a million such lines)."""
    if "is_start" not in records.columns:
        records = with_markers(records)
    found = records.filter(MARKED)
    return conform(
        found.with_columns(
            operation=pl.when("is_start").then(pl.col("message").str.extract(START, 1)),
            end_failed=pl.col("message").str.starts_with("Event: "),
            message=pl.when(_may_be_cited()).then("message"),
        ),
        OPERATION_LINE_COLUMNS,
    )


#: A goal-state line within this time of the one before it in its source cannot end a slow
#: operation: whatever it ends started after that one, and slow is `WARN_SHARE` of the shortest limit.
QUIET_GOAL_GAP = min(DEFAULT_LIMIT, LONG_LIMIT) * WARN_SHARE


def _may_be_cited() -> pl.Expr:
    """False for a goal-state line that cannot end a slow operation, whose text is then left out.

    Every goal-state line's text is its own (incarnation, milliseconds): as categoricals they were
    half a million distinct strings on a 2 GB log, never freed. A line is known not to matter when
    an earlier goal-state line of its source, in the same frame, is at most `QUIET_GOAL_GAP` before
    it (an operation it ends started after that line, so ran less). A line with no earlier one in
    the frame, or after one logged later (a clock set back), keeps its text.
    """
    goal_time = pl.when("is_goal_done").then(pl.col("timestamp"))
    before = goal_time.shift(1).forward_fill().over("source_path")
    quiet = (pl.col("timestamp") >= before) & (pl.col("timestamp") - before < QUIET_GOAL_GAP)
    return ~(pl.col("is_goal_done") & quiet.fill_null(False))


def measure(paired: Iterable[pl.DataFrame], frames: dict[str, pl.DataFrame], log_ends: pl.DataFrame) -> PackedFrame:
    """Every operation, with the columns of `loglens.schema.OPERATION_COLUMNS` (no collection), held
    compressed a part at a time (`loglens.packed`: a 2 GB log's 600,000 operations are 57 MB as a
    frame); `in_order` reads them back.

    Args:
        paired: the operations paired from the operation lines (`loglens.pairing.Pairing.parts`).
        frames: the load's frames (extension logs and status files end background enables).
        log_ends: per source path, its last timestamp (`Context.log_ends`).
    """
    forward = {"on": "timestamp", "strategy": "forward", "check_sortedness": False}
    terminal = _handler_terminal(frames).sort("timestamp").with_columns(pl.col("extension").cast(pl.Categorical))
    log_end = log_ends.with_columns(pl.col("source_path").cast(pl.Categorical))
    measured = PackedFrame(empty_frame(OPERATION_COLUMNS).drop("collection").schema)
    for part in paired:
        part = part.rename({"started": "timestamp"}).join_asof(terminal, by="extension", **forward)
        part = part.rename({"timestamp": "started"}).join(log_end, on="source_path", how="left")
        finished = _with_outcome(part.join(_limits(part), on="ext_code", how="left"))
        measured.add(conform(finished, OPERATION_COLUMNS).drop("collection"))
    return measured


def in_order(operations: pl.DataFrame) -> pl.DataFrame:
    """``operations`` (read from `measure`'s parts) in the order they started: parts read oldest
    first are in order already; several files or a clock set back are not."""
    started = operations.get_column("started")
    return operations if started.is_sorted() else operations.sort("started", maintain_order=True)


def _limits(starts: pl.DataFrame) -> pl.DataFrame:
    """Per extension (`ext_code`): its platform limit, and whether its enable runs in the background."""
    names = starts.select("ext_code", "extension").unique("ext_code")
    extension = pl.col("extension").cast(pl.String)
    return names.select(
        "ext_code", limit=platform_limit(extension), background_handler=handler_of(extension).is_in(BACKGROUND_ENABLE)
    )


def _with_outcome(measured: pl.DataFrame) -> pl.DataFrame:
    """finished, took, ongoing and outcome from the joined end markers (`limit` is joined already)."""
    background = pl.col("background_handler") & (pl.col("operation") == "Enable")
    agent_end = pl.min_horizontal("end_time", "goal_time")
    # A background enable ends when its handler log, status file or the agent's status summary says
    # so, or when the agent reports it failed, whichever comes first.
    failed_end = pl.when(pl.col("end_failed")).then(pl.col("end_time"))
    background_end = pl.min_horizontal("handler_time", "all_done_time", failed_end)
    finished = pl.when(background).then(background_end).otherwise(agent_end)
    # An operation still open at the end of its log has run at least until that log's last line.
    measured = measured.with_columns(ongoing=finished.is_null(), finished=pl.coalesce(finished, pl.col("log_end")))
    failed = (
        pl.when(background)
        .then(
            (failed_end == pl.col("finished"))
            | (pl.col("handler_failed") & (pl.col("handler_time") == pl.col("finished"))).fill_null(False)
        )
        .otherwise(pl.col("end_failed") & (pl.col("end_time") == pl.col("finished")))
    )
    outcome = pl.when(pl.col("ongoing")).then(_OUTCOME[2]).when(failed).then(_OUTCOME[1]).otherwise(_OUTCOME[0])
    return measured.with_columns(took=pl.col("finished") - pl.col("started"), outcome=outcome)


#: The outcomes as literals of the column's own type (no string column to cast).
_OUTCOME = [pl.lit(o, dtype=pl.Enum(OUTCOMES)) for o in OUTCOMES]


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

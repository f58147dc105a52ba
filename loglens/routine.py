"""Routine lines: what a healthy agent repeats all day, thinned out of the kept records.

Every goal state runs the same enable, `Command:`, goal-state and all-done lines, and the agent
logs a heartbeat every half hour: a year of a healthy VM is hundreds of thousands of them, and the
rules would tag, hold and filter each one. Rules read a routine line only next to something that
happened (the first success after a failure, the first enable after an update, the version seen
running after a hand-over), so the stream keeps, per run of routine lines between two notable
ones (`loglens.keep.Keep.notable`), the first of each kind, and for the agent's own steady
lines (heartbeats, the handler's launch) also the last of each version, which versions and facts
read. A notable line of the WireServer connection alone (a blip, `CONNECTION`) ends only the run of
goal-state completions, whose first after a failure the WireServer rule reads as the recovery: a VM
whose connection blips hourly would otherwise keep every hour's heartbeats, enables and commands.
Operations are measured from every operation line all the same (`loglens.operations.lines`).
"""

from __future__ import annotations

import threading

import polars as pl

import catalogue
from catalogue.match import ID, found_in
from loglens import wireserver
from loglens.operations import MARKED

#: The catalogue messages of the WireServer connection failing and answering again, and nothing
#: else: the WireServer's and HostGAPlugin's failures, the socket errors they end in, the recovery and
#: goal-state signals the WireServer rule reads, and the blips the agent's own tests call benign.
CONNECTION = (
    *wireserver.FAILURES,
    *(e.id for e in catalogue.load().entries if e.id.startswith("net.")),
    *wireserver.RECOVERED,
    wireserver.WRAPPER,
    "wire.legacy-http-status",
    "benign.goal-state-blip",
    "benign.vmsettings-transient",
    "benign.hostplugin-heartbeat",
    "benign.telemetry-dropped",
)

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
    """Over records in log order, with `kept`, `routine`, `notable` and `connection`: `kept`, but
    False for the routine lines of a run that are neither the first of their kind (source,
    extension, version, marker; for steady lines the agent version) nor, for steady lines, the
    last. A run is what follows a notable line, or an operation line that is not routine, up to the
    next; a notable line of the WireServer connection alone (`Keep.connection`) ends only the run of
    goal-state completions.

    Keeping the last operation line of each run too changed no finding on the samples, the corpus
    and the generated logs, and cost a noisy VM twice the kept rows; the last heartbeat is what
    `agent-version-outdated` cites, and versions and facts read the last launch line."""
    kind = pl.col("routine")
    thinned = (pl.col("kept") & kind.is_not_null() & ~pl.col("notable")).alias("thinned")
    breaks = pl.col("kept") & (pl.col("notable") | (MARKED & kind.is_null()))
    # A blip ends only the run of goal-state completions (a noisy 525 MB log: 104,701 -> 40,352 kept).
    others_break = breaks & ~pl.col("connection")
    run = pl.when(pl.col("is_goal_done")).then(breaks.cum_sum()).otherwise(others_break.cum_sum()).alias("run")
    version = pl.when(kind == "steady").then(pl.col("message").str.extract(_AGENT_VERSION, 1)).alias("agent_version")
    key = pl.struct(
        run, thinned, kind, "source_path", "extension", "extension_version", "is_start", "is_end", "is_goal_done", version
    )
    edge = key.is_first_distinct() | ((kind == "steady") & key.is_last_distinct())
    return pl.col("kept") & (~thinned | edge)


class ConnectionLines:
    """Which kept records tell of the WireServer connection alone, a verdict kept per distinct text.

    Over kept records with `row`, `message` and `connection` (may tell of the connection alone, by
    its anchors), it gives True where every catalogue message of ``ids`` the line carries is one of
    `CONNECTION`. The anchors only narrow the lines down (`failed: ` is one of another message's);
    the catalogue's patterns decide, once per distinct text: a log repeats its blips, and each
    catalogue pass costs ~25 ms (0.4 s of a 525 MB log's parsing threads when run per chunk).
    """

    #: Texts remembered at most; past it the verdicts start again (a log of ever-new failure texts).
    KNOWN_AT_MOST = 100_000

    def __init__(self, ids: tuple[str, ...]) -> None:
        self._ids = ids
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()

    def __call__(self, rows: pl.DataFrame) -> pl.Series:
        texts = rows.filter(pl.col("connection")).get_column("message").unique().to_list()
        with self._lock:
            if len(self._known) > self.KNOWN_AT_MOST:
                self._known.clear()
            verdicts = {text: self._known[text] for text in texts if text in self._known}
        if new := [text for text in texts if text not in verdicts]:
            fresh = self._alone(new)
            verdicts.update(fresh)
            with self._lock:
                self._known.update(fresh)
        alone = [text for text, yes in verdicts.items() if yes]
        return rows.select(pl.col("connection") & pl.col("message").is_in(alone)).to_series().alias("connection")

    def _alone(self, texts: list[str]) -> dict[str, bool]:
        frame = pl.DataFrame({"text": range(len(texts)), "message": texts}, schema={"text": pl.UInt32, "message": pl.String})
        pairs = found_in(frame, "text", ids=self._ids).pairs
        alone = pairs.group_by("text").agg(pl.col(ID).is_in(CONNECTION).all()).filter(pl.col(ID))
        chosen = set(alone["text"].to_list())
        return {text: n in chosen for n, text in enumerate(texts)}

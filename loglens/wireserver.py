"""The catalogue's messages of the WireServer connection, named once for the two places that read
them: the WireServer rule (`loglens.rules.wireserver_unreachable`), and the stream's thinning,
where a line of the connection alone ends only the run of goal-state completions (`loglens.routine`)."""

from __future__ import annotations

import catalogue

_ENTRIES = catalogue.load().entries
#: Failures to talk to the WireServer or the HostGAPlugin: every `wire.` entry of that category.
FAILURES = tuple(e.id for e in _ENTRIES if e.id.startswith("wire.") and e.category == "wireserver")
#: The next sign that the WireServer answered again: the agent saying it recovered, or a goal state
#: fetched or processed. (`Fetched a new incarnation` is left out: it comes with every goal state
#: beside `ProcessExtensionsGoalState completed`.)
RECOVERED = (
    "wire.goal-state-recovered",
    "wire.goal-state-fetched",
    "wire.goal-state-processed",
    "wire.legacy-goal-state-retrieved",
)
#: The WireServer client's wrapper around any exception a call raised: a failure only when what it
#: wraps is one (an HTTP or socket error, tagged on the same line); else an error of the agent's own.
WRAPPER = "wire.wireserver-exception"

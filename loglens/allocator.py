"""Polars' memory allocator told to share freed memory between threads and give it back sooner.

Polars allocates through its own jemalloc, configured on import with four arenas per core (each
thread allocates from one of them), freed pages returned to the system after 500 ms, and pages it
has released lazily (`MADV_FREE`, still counted in RSS until the system reclaims them) kept a further
second. An analysis stream is a pipeline: parsing threads allocate a chunk's frames, the reading
thread and Polars' own workers free them moments later. Memory freed into one arena is reused only by
the threads of that arena, so with many arenas each chunk took fresh pages, each a page fault, while
the freed ones waited out their decay. One arena per four cores (one on the two-core machines this
was measured on) lets the next chunk reuse what the last freed: a 525 MB log's page faults fell
from 526,000-640,000 to 297,000-338,000. Freed pages returned after 50 ms, and none kept lazily
released, then cost no time (some pages are faulted in again: 537,000). Measured in one sitting, alternately, whole process (`loglens analyze
--json`), against 200 ms and Polars' arenas: a 2 GB agent log peaks at 381-387 MB instead of
445-459 MB, in 16.2-17.9 s instead of 16.9-19.2 s (the README's Performance section has the rest).

Polars appends `_RJEM_MALLOC_CONF` (the variable of its prefixed jemalloc build) to its own settings
when it is first imported, and later settings win: this module sets it before Polars loads, which
`loglens/__init__.py` does. A setting the user made is left as it is; with Polars already imported
(a notebook that imported it first) it has no effect, and nothing else changes.
"""

from __future__ import annotations

import os
import sys

#: jemalloc's environment variable in Polars' build (its symbols carry the `_rjem_` prefix).
VARIABLE = "_RJEM_MALLOC_CONF"
#: Cores per arena: jemalloc's arena lock is shared by the threads of an arena, so a many-core
#: machine keeps several (unmeasured there: the gain measured is on two cores, with one arena).
CORES_PER_ARENA = 4


def _cores() -> int:
    # As `parsers.chunks` counts them; not imported from there, which would load Polars first.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def setting(cores: int) -> str:
    """The allocator setting for a machine of ``cores``: freed pages back after 50 ms
    (`dirty_decay_ms`; Polars sets 500), none kept lazily released (`muzzy_decay_ms:0`; Polars
    sets 1000), one arena per `CORES_PER_ARENA` cores (`narenas`; jemalloc's default is four per core)."""
    return f"dirty_decay_ms:50,muzzy_decay_ms:0,narenas:{max(1, cores // CORES_PER_ARENA)}"


#: The setting on this machine.
SETTING = setting(_cores())


def configure() -> bool:
    """Set `VARIABLE` unless the user has, or Polars is already loaded; True when it was set."""
    if VARIABLE in os.environ or "polars" in sys.modules:
        return False
    os.environ[VARIABLE] = SETTING
    return True

"""Polars' memory allocator told to give freed memory back to the system sooner.

Polars allocates through its own jemalloc, configured on import to return freed pages after 500 ms
and to keep pages it has released lazily (`MADV_FREE`, still counted in RSS until the system
reclaims them) for a further second. An analysis frees most of what it allocates within moments
(each chunk's lines once its records are kept, each join's inputs once it is done), so those
pages, not the data, set much of the peak. Freed pages returned after 200 ms and none kept
lazily released measured, in one sitting: peak RSS 674-734 MB -> 505-556 MB on a 525 MB agent log
and 795-866 MB -> 689-691 MB on a 2 GB one, for about 3% more time (returning them at once cost
20%). Polars appends `_RJEM_MALLOC_CONF` (the variable of its prefixed jemalloc build) to its own
settings when it is first imported, and later settings win: this module sets it before Polars
loads, which `loglens/__init__.py` does. A setting the user made is left as it is; with Polars
already imported (a notebook that imported it first) it has no effect, and nothing else changes.
"""

from __future__ import annotations

import os
import sys

#: jemalloc's environment variable in Polars' build (its symbols carry the `_rjem_` prefix).
VARIABLE = "_RJEM_MALLOC_CONF"
#: Freed pages go back after 200 ms (`dirty_decay_ms`; Polars sets 500), none kept lazily
#: released (`muzzy_decay_ms:0`; Polars sets 1000).
SETTING = "dirty_decay_ms:200,muzzy_decay_ms:0"


def configure() -> bool:
    """Set `VARIABLE` unless the user has, or Polars is already loaded; True when it was set."""
    if VARIABLE in os.environ or "polars" in sys.modules:
        return False
    os.environ[VARIABLE] = SETTING
    return True

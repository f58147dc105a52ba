"""Property: whatever real file is mutated, renamed or packed however, loading, analysing and
rendering it raises nothing, every line adds up, and time stays bounded. The long campaign
(`python -m benchmarks.fuzz`) runs the same inputs by the hundred thousand."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.hostile import CONTAINERS, HOSTILE_NAMES, MUTATIONS, Input, check, seeds

#: Wall time one example may take (a few small files; generous for a loaded CI machine).
BOUND_SECONDS = 20

mutation = st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 1 << 20), st.binary(max_size=3))
one_input = st.builds(
    Input,
    seed=st.sampled_from(seeds()),
    mutations=st.lists(mutation, max_size=4),
    container=st.sampled_from(CONTAINERS),
    rename=st.sampled_from((None, "notes.txt", "paste", "output.json", *HOSTILE_NAMES)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(one_input, min_size=1, max_size=4))
def test_any_input_loads_analyses_and_adds_up(inputs):
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        problems = check(Path(tmp), [inputs])
        elapsed = time.monotonic() - started
    assert not problems, problems
    assert elapsed < BOUND_SECONDS, f"{elapsed:.1f} s for {len(inputs)} small input(s)"

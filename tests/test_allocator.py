"""Polars' allocator setting (`loglens.allocator`): set on import of loglens before Polars loads
(Polars puts its own defaults first, and the last setting wins), never over the user's own, and a
no-op once Polars is loaded; jemalloc reads it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from loglens import allocator

_SHOW = "import os, sys; {first}; print(os.environ.get({name!r}))"


def _run(first: str, env: dict[str, str]) -> str:
    code = _SHOW.format(first=first, name=allocator.VARIABLE)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != allocator.VARIABLE}
    return {**env, **extra}


def test_importing_loglens_sets_the_allocator_before_polars_loads():
    assert _run("import loglens, polars", _env()).endswith("," + allocator.SETTING)


def test_the_users_own_setting_is_kept():
    setting = _run("import loglens, polars", _env(**{allocator.VARIABLE: "narenas:2"}))
    assert setting.endswith(",narenas:2") and allocator.SETTING not in setting


def test_nothing_is_set_once_polars_is_loaded():
    assert allocator.SETTING not in _run("import polars, loglens", _env())


def test_one_arena_per_four_cores_and_never_none():
    assert [allocator.setting(cores).rsplit("narenas:", 1)[1] for cores in (1, 2, 4, 7, 8, 64)] == [
        "1",
        "1",
        "1",
        "1",
        "2",
        "16",
    ]


def test_jemalloc_takes_every_option_of_the_setting():
    # `stats_print` makes jemalloc print its options at exit: each one of ours shows as set.
    env = _env(**{allocator.VARIABLE: allocator.setting(2) + ",stats_print:true"})
    done = subprocess.run([sys.executable, "-c", "import polars"], env=env, capture_output=True, text=True, check=True)
    for name, value in (("dirty_decay_ms", "50"), ("muzzy_decay_ms", "0"), ("narenas", "1")):
        assert re.search(rf"opt\.{name}: {value}\b", done.stderr), name


def test_jemalloc_reads_the_variable():
    # An invalid pair makes Polars' jemalloc complain at start: proof that it reads this variable.
    env = _env(**{allocator.VARIABLE: "no_such_option:1"})
    done = subprocess.run([sys.executable, "-c", "import polars"], env=env, capture_output=True, text=True, check=False)
    assert "no_such_option" in done.stderr

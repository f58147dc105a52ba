"""Where an analysis's seconds go: `loglens analyze`'s time on one file, by stage.

Each stage is a function of the pipeline, timed wherever it runs (the parsing threads included),
its own time summed over calls (the time of the stages it calls is theirs). With ``--serial`` one
chunk is parsed at a time and Polars runs on one thread, so the stages add up to the analysis's
CPU time: that is the work each stage costs. Without it the figures are thread-seconds (the
parsing threads overlap) beside the wall time.

A stage whose function is renamed fails the run (`STAGES` names each one), rather than vanishing
from the table. The timing wrappers are this tool's own; nothing is changed for other callers.

Usage (from the repository root): python -m benchmarks.stages FILE [--serial]
"""

from __future__ import annotations

import argparse
import importlib
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

#: (module, attribute or Class.method, stage): the stream's per-chunk work first, then the rest.
STAGES = (
    ("parsers.chunks", "RawChunk.load", "read the chunk's bytes"),
    ("parsers.waagent", "decode_chunk", "decode them into lines"),
    ("parsers.waagent", "_recognise_headers", "recognise each line's header"),
    ("parsers.waagent", "_mark_records", "mark record starts"),
    ("parsers.waagent", "chosen", "choose records (keep pattern on every line)"),
    ("parsers.waagent", "_stamped", "timestamps of record starts"),
    ("parsers.waagent", "summary_of", "summary columns of the others"),
    ("parsers.waagent", "_records_of", "fold and finish the chosen records"),
    ("loglens.summaries", "spans", "spans of a chunk"),
    ("loglens.summaries", "timeline", "timeline of a chunk"),
    ("loglens.operations", "with_markers", "operation markers"),
    ("loglens.pipeline", "RecordDigest.transform", "keep and thin each chunk's records"),
    ("loglens.packed", "PackedFrame.add", "pack kept rows and operation lines"),
    ("loglens.operations", "lines", "select operation lines"),
    ("loglens.summaries", "Piled.settle", "combine the summaries as they pile up"),
    ("loglens.summaries", "Piled.combined", "combine the summaries at the end"),
    ("loglens.engine", "build_contexts", "contexts: kept rows tagged by the catalogue"),
    ("loglens.operations", "measure", "measure the operations"),
    ("loglens.engine", "_run_rule", "the rules"),
    ("loglens.engine", "findings_frames", "findings from the hits"),
    ("loglens.engine", "_other_errors", "unexplained errors grouped"),
    ("parsers.chunk_index", "ChunkIndex.records_at", "evidence context read back"),
    ("loglens.outputs", "write_document", "the JSON document"),
)


def _timed(function: Callable, stage: str, spent: Counter, lock: threading.Lock, inside: threading.local) -> Callable:
    """``function`` adding its own time to ``spent[stage]``: less the time of the stages it calls
    (they count theirs), and once when it calls itself."""

    def timed(*args, **kwargs):
        stack = inside.__dict__.setdefault("stack", [])
        if any(entry[0] == stage for entry in stack):
            return function(*args, **kwargs)
        entry = [stage, 0.0]  # the stage, and the time its inner stages took
        stack.append(entry)
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            took = time.perf_counter() - start
            stack.pop()
            if stack:
                stack[-1][1] += took
            with lock:
                spent[stage] += took - entry[1]

    return timed


def instrument(spent: Counter) -> None:
    """Wrap every stage of `STAGES` so that its time is added to ``spent``."""
    lock, inside = threading.Lock(), threading.local()
    for module_name, attribute, stage in STAGES:
        owner = importlib.import_module(module_name)
        *classes, name = attribute.split(".")
        for class_name in classes:
            owner = getattr(owner, class_name)
        setattr(owner, name, _timed(getattr(owner, name), stage, spent, lock, inside))


def one_chunk_at_a_time() -> None:
    """The stream parses one chunk at a time (Polars' own threads are set before it loads)."""
    from parsers import chunks, waagent_stream

    def in_order(function, items, in_flight=1):
        return chunks.map_in_order(function, items, 1)

    waagent_stream.map_in_order = in_order


def measure(path: Path, serial: bool = False) -> tuple[dict[str, float], float, float]:
    """Seconds per stage, wall and CPU seconds of analysing ``path`` and writing its JSON document."""
    # Imported here, after `main` set Polars' threads.
    from loglens import api, outputs

    spent: Counter = Counter()
    instrument(spent)
    if serial:
        one_chunk_at_a_time()
    wall, cpu = time.perf_counter(), time.process_time()
    analysis = api.analyze([path])
    with tempfile.TemporaryDirectory() as folder:
        outputs.write_document(analysis, Path(folder) / "analysis.json")
    return dict(spent), time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--serial", action="store_true", help="one chunk and one Polars thread at a time")
    args = parser.parse_args()
    if args.serial:
        # Read once, when Polars and the engine load: so before anything imports them. (The
        # catalogue's tagging still splits its records between two threads.)
        os.environ["POLARS_MAX_THREADS"] = "1"
        os.environ["LOGLENS_RULE_THREADS"] = "1"
    spent, wall, cpu = measure(args.file, args.serial)
    size = args.file.stat().st_size / 1e6
    unit = "CPU" if args.serial else "thread"
    print(f"{args.file} ({size:,.0f} MB): {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"| stage | {unit}-seconds |\n|---|---|")
    for _, _, stage in STAGES:
        print(f"| {stage} | {spent.get(stage, 0.0):.2f} |")
    if args.serial:
        print(f"| everything else (the stream's own loop, the report model ...) | {wall - sum(spent.values()):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

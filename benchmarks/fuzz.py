"""The fuzz campaign: hundreds of thousands of hostile inputs through load, analysis and every
text output, in worker processes with a time limit per batch.

    python -m benchmarks.fuzz                      # 100,000 inputs, 2 workers
    python -m benchmarks.fuzz --inputs 2000 --seed 7

Prints inputs run, crashes (an exception escaped), hangs (a batch over its time limit) and
accounting violations, each with the (seed, batch) that regenerates it: `--replay SEED:BATCH`
runs one batch in this process and shows the traceback.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks.hostile import check, random_input

#: Inputs per VM collection in a batch; several VMs per load, as support bundles come.
_PER_VM = 5


def run_batch(seed: int, batch: int, size: int) -> tuple[int, list[str], str | None]:
    """One batch: (inputs run, accounting problems, the crash's traceback or None)."""
    generator = random.Random(f"{seed}:{batch}")
    inputs = [random_input(generator) for _ in range(size)]
    vms = [inputs[i : i + _PER_VM] for i in range(0, len(inputs), _PER_VM)]
    with tempfile.TemporaryDirectory(prefix="loglens-fuzz-") as tmp:
        try:
            return size, check(Path(tmp), vms), None
        except Exception:  # noqa: BLE001 - a crash is what the campaign looks for
            return size, [], traceback.format_exc()


def campaign(total: int, workers: int, batch_size: int, seed: int, timeout: float) -> dict:
    """Run ``total`` inputs; return the tallies and what was found."""
    batches = -(-total // batch_size)
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(workers)
    pending: dict[int, tuple] = {}
    tally = {"inputs": 0, "crashes": [], "hangs": [], "violations": []}
    next_batch, started = 0, time.monotonic()
    while next_batch < batches or pending:
        while next_batch < batches and len(pending) < workers * 2:
            size = min(batch_size, total - next_batch * batch_size)
            pending[next_batch] = (pool.apply_async(run_batch, (seed, next_batch, size)), time.monotonic(), size)
            next_batch += 1
        time.sleep(0.05)
        for index, (result, _, _) in list(pending.items()):
            if result.ready():
                count, problems, crash = result.get()
                tally["inputs"] += count
                tally["violations"] += [f"{seed}:{index} {p}" for p in problems]
                if crash:
                    tally["crashes"].append(f"{seed}:{index}\n{crash}")
                del pending[index]
        now = time.monotonic()
        overdue = [index for index, (_, submitted, _) in pending.items() if now - submitted > timeout]
        if overdue:
            # A hung batch takes its worker with it: restart the pool and resubmit the others.
            tally["hangs"] += [f"{seed}:{index}" for index in overdue]
            tally["inputs"] += sum(pending[index][2] for index in overdue)
            pool.terminate()
            pool = context.Pool(workers)
            for index in list(pending):
                _, _, size = pending.pop(index)
                if index not in overdue:
                    pending[index] = (pool.apply_async(run_batch, (seed, index, size)), time.monotonic(), size)
        _progress(tally, batches, next_batch - len(pending), started)
    pool.close()
    pool.join()
    tally["seconds"] = time.monotonic() - started
    return tally


def _progress(tally: dict, batches: int, done: int, started: float) -> None:
    if sys.stderr.isatty():
        rate = tally["inputs"] / max(time.monotonic() - started, 1e-9)
        print(f"\r{done}/{batches} batches, {tally['inputs']:,} inputs, {rate:,.0f}/s", end="", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description="loglens fuzz campaign")
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=250, help="inputs per batch (one load of many VMs)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a batch may take before it is a hang")
    parser.add_argument("--replay", metavar="SEED:BATCH", help="run one batch here and show what it finds")
    args = parser.parse_args()
    if args.replay:
        seed, batch = (int(part) for part in args.replay.split(":"))
        count, problems, crash = run_batch(seed, batch, args.batch)
        print(crash or "\n".join(problems) or f"{count} inputs: nothing found")
        return
    tally = campaign(args.inputs, args.workers, args.batch, args.seed, args.timeout)
    print(
        f"\ninputs {tally['inputs']:,}  crashes {len(tally['crashes'])}  hangs {len(tally['hangs'])}  "
        f"identity violations {len(tally['violations'])}  ({tally['seconds']:.0f} s, "
        f"{tally['inputs'] / tally['seconds']:,.0f} inputs/s, seed {args.seed})"
    )
    for line in tally["crashes"][:5] + tally["hangs"][:20] + tally["violations"][:20]:
        print(line)
    if tally["crashes"] or tally["hangs"] or tally["violations"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

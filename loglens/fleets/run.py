"""Drive a fleet run on Dask: list the VMs, skip those done, run one task per VM, record failures.

By default a `LocalCluster` of worker processes (one thread each, the machine's memory split
between them) lives for the run; `scheduler` submits to an existing cluster instead. Tasks go out
in a bounded window, so a killed run loses at most the tasks in flight, and the scheduler never
holds a million futures at once.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from loglens.errors import InputError, first_line
from loglens.fleets import dataset
from loglens.fleets.task import Settings, analyze_unit, failed_row
from loglens.fleets.units import Unit, discover
from loglens.version import __version__

#: Tasks in flight per worker: enough to keep each busy between results.
_WINDOW_PER_WORKER = 4
#: Set in the local cluster's workers; `dask worker` started by hand takes the same from its environment.
WORKER_ENVIRONMENT = {"POLARS_MAX_THREADS": "1", "LOGLENS_RULE_THREADS": "1"}
#: How long to wait for an existing cluster to offer a worker.
_WORKER_WAIT_SECONDS = 60


@dataclass
class FleetRun:
    """What one run did.

    Attributes:
        units: every VM found under the sources, in order.
        skipped: VMs already in the dataset with the same input and loglens version.
        analysed: VMs analysed by this run (failed ones included).
        failed: `vm: error` for each VM of this run that failed.
        unreadable: how many of those failed on their input (nothing readable or recognised).
        warnings: sources that could not be listed, duplicate VM ids.
    """

    out: Path
    units: list[Unit]
    skipped: int = 0
    analysed: int = 0
    failed: list[str] = field(default_factory=list)
    unreadable: int = 0
    seconds: float = 0.0
    #: From the first task submitted to the last result: the run without cluster start-up.
    task_seconds: float = 0.0
    workers: int = 0
    #: Peak resident memory of each worker process, in bytes (as the workers report it).
    worker_peak_rss: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def vms(self) -> list[str]:
        return [u.vm for u in self.units]


def run(
    sources: list[str],
    out: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    connection_string: str | None = None,
    tz: str | None = None,
    force: bool = False,
    per_vm_html: bool = False,
    progress: Callable[[str], None] | None = None,
) -> FleetRun:
    """Analyse every VM under ``sources`` into the dataset at ``out``.

    Raises:
        InputError: no VM found, an unreachable scheduler, or workers without loglens.
    """
    started = time.perf_counter()
    if importlib.util.find_spec("distributed") is None:
        raise InputError("loglens fleet needs Dask: pip install 'loglens[fleet]'")
    out = Path(out).resolve()
    found = discover(sources, connection_string=connection_string, exclude=out)
    if not found.units:
        raise InputError(f"no VM collections found under {', '.join(sources)}", warnings=found.warnings)
    dataset.prepare(out)
    previous = {} if force else dataset.done(out)
    # Largest first: the big VMs start early instead of holding up the end of the run on one worker.
    todo = sorted((u for u in found.units if not _is_done(u, previous.get(u.vm))), key=lambda u: -u.bytes)
    result = FleetRun(out=out, units=found.units, skipped=len(found.units) - len(todo), warnings=found.warnings)
    if todo:
        settings = Settings(out=str(out), tz=tz, per_vm_html=per_vm_html, connection_string=connection_string)
        with _client(workers, scheduler) as client:
            result.workers = len(client.scheduler_info(n_workers=-1)["workers"])
            _run_tasks(client, todo, settings, result, progress or (lambda _m: None))
            result.worker_peak_rss = client.run(_peak_rss)
    result.seconds = time.perf_counter() - started
    return result


def _is_done(unit: Unit, previous: tuple[str, str, str | None] | None) -> bool:
    """Done: the same input analysed by this loglens version, unless its task was lost."""
    if previous is None:
        return False
    fingerprint, version, failure = previous
    return fingerprint == unit.fingerprint and version == __version__ and failure != "task"


def _run_tasks(client, todo: list[Unit], settings: Settings, result: FleetRun, say: Callable[[str], None]) -> None:
    from distributed import as_completed

    window = max(1, result.workers) * _WINDOW_PER_WORKER
    waiting = iter(todo)
    owners = {}

    def submit(unit: Unit):
        future = client.submit(analyze_unit, unit, settings, key=f"loglens-{unit.stem}-{time.time_ns()}", retries=1)
        owners[future.key] = unit
        return future

    started = time.perf_counter()
    # A progress callback with `advance(fraction)` (`loglens.feedback.Progress`) also gets the share done.
    advance = getattr(say, "advance", None)
    # Results come in batches: one gather per batch, not a round trip per VM.
    running = as_completed([submit(u) for u in islice(waiting, window)], with_results=True, raise_errors=False)
    for batch in running.batches():
        for future, row in batch:
            unit = owners.pop(future.key)
            if future.status != "finished" or not isinstance(row, dict):
                # The task raised twice, or its workers died: a row says why. (`as_completed` hands
                # a failed task's result on as `(type, exception, traceback)`.)
                error = row[1] if isinstance(row, tuple) and len(row) > 1 else row
                row = failed_row(unit, "task", f"{type(error).__name__}: {first_line(error)}")
                try:
                    dataset.write_vm(Path(settings.out), unit.stem, {}, row)
                except OSError as exc:
                    row["error"] += f"; its row could not be written either ({first_line(exc)})"
            future.release()
            result.analysed += 1
            if row["status"] != "ok":
                result.failed.append(f"{unit.vm}: {row['error']}")
                result.unreadable += row.get("failure") == "input"
            following = next(waiting, None)
            if following is not None:
                running.add(submit(following))
        result.task_seconds = time.perf_counter() - started
        rate = result.analysed / max(result.task_seconds, 1e-9)
        say(f"{result.analysed:,}/{len(todo):,} VMs analysed, {len(result.failed):,} failed, {rate:,.1f} VMs/s")
        if advance is not None:
            advance(result.analysed / len(todo))


@contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator:
    """A Dask client: to ``scheduler``, or to a LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {first_line(exc)}") from exc
        with client:
            _check_workers(client, scheduler)
            yield client
        return
    count = workers or os.cpu_count() or 1
    # No dashboard (`dashboard_address=None`); the scheduler's small HTTP endpoint (health,
    # metrics) moves to a free port without a word when 8787 is taken (another cluster, a test).
    warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
    with (
        LocalCluster(
            n_workers=count,
            threads_per_worker=1,
            processes=True,
            memory_limit="auto",
            dashboard_address=None,
            # A task's failure is its VM's `failed` row (with the reason), not a traceback on stderr.
            silence_logs=logging.CRITICAL,
            # One core per worker: a fleet's parallelism is across VMs, and threads inside each
            # task would only contend with the other workers (measured in benchmarks/fleet.py).
            env=WORKER_ENVIRONMENT,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _check_workers(client, scheduler: str) -> None:
    """Fail early, and plainly, when the cluster has no worker or its workers lack this loglens."""
    try:
        client.wait_for_workers(1, timeout=_WORKER_WAIT_SECONDS)
    except TimeoutError as exc:
        raise InputError(f"the Dask scheduler at {scheduler} has no worker (waited {_WORKER_WAIT_SECONDS} s)") from exc
    try:
        versions = client.run(_worker_loglens_version)
    except Exception as exc:
        raise InputError(f"workers of {scheduler} cannot run loglens: {first_line(exc)}") from exc
    wrong = sorted(f"{worker} has {version}" for worker, version in versions.items() if version != __version__)
    if wrong:
        raise InputError(f"workers of {scheduler} need loglens {__version__}: {'; '.join(wrong)}")


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _worker_loglens_version() -> str:
    try:
        from loglens.version import __version__ as version
    except ImportError:
        return "no loglens"
    return version

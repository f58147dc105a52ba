"""Fleet analysis: many VMs on Dask into one Parquet dataset and a fleet report (`loglens fleet`).

`units` splits sources into VMs, `task` analyses one VM on a worker, `dataset` is the layout on
disk, `run` drives the cluster; `summary` (the `Fleet` view), `figures` and `report` read a
finished dataset. The functions here are the public surface (`loglens.fleet`, `loglens.fleet_run`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def fleet_run(sources: Iterable[str] | str, out: Path | str, **options):
    """Analyse every VM under ``sources`` on Dask into the Parquet dataset ``out`` (resumable).

    Options (`loglens.fleets.run.run`): ``workers``, ``scheduler``, ``connection_string``, ``tz``,
    ``force``, ``per_vm_html``, ``progress``.

    Returns:
        A `FleetRun`: VMs found, analysed, skipped and failed.

    Raises:
        InputError: no VM found, an unreachable scheduler, workers without loglens, or no Dask.

    Example:
        >>> run = loglens.fleet_run(["bundles/"], "fleet-out", workers=2)  # doctest: +SKIP
    """
    from loglens.fleets.run import run

    return run([sources] if isinstance(sources, str) else list(sources), out, **options)


def fleet(out: Path | str, *, vms: Iterable[str] | None = None):
    """Open a finished fleet dataset: `vms`, `findings`, `evidence`, `other_errors` as lazy frames.

    Args:
        vms: only these VMs (the CLI's report covers the VMs of its own run).

    Raises:
        InputError: ``out`` is not a fleet dataset.

    Example:
        >>> fleet = loglens.fleet("fleet-out")  # doctest: +SKIP
        >>> fleet.causes()  # doctest: +SKIP
    """
    from loglens.fleets.summary import Fleet

    return Fleet(out, vms=vms)

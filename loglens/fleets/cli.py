"""`loglens fleet`: the command over `loglens.fleets.run` and the fleet report.

Registered on the main app by `loglens.cli`; imports Dask, Polars and plotly only when it runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from loglens import feedback
from loglens.cli_support import input_errors, name_outputs, print_warnings, stdout_console, usage_error
from loglens.printable import printable

#: Failed VMs named one by one on stderr (the dataset and report list them all).
_FAILED_SHOWN = 20
#: Seconds between progress lines when stderr is not a terminal (a CI log, a job's output).
_PLAIN_PROGRESS_EVERY = 10.0


def fleet(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Directories of VM collections, globs, or az://container/prefix URLs.", metavar="SOURCE..."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Directory of the Parquet dataset (created; reruns resume).")],
    workers: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Worker processes of the local cluster, at least 1 (default: one per core).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(metavar="URL", help="Submit to this running Dask scheduler (tcp://HOST:8786) instead.")
    ] = None,
    connection_string: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Azure Storage connection string for az:// sources (default: AZURE_STORAGE_* variables)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Analyse every VM again, even those already done.")] = False,
    html_out: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Write the fleet report as HTML.")] = None,
    markdown_out: Annotated[Path | None, typer.Option("--markdown", metavar="FILE", help="Write the fleet report as Markdown.")] = None,
    per_vm_html: Annotated[
        bool, typer.Option("--per-vm-html", help="Also write each VM's own HTML report, linked from the fleet report.")
    ] = False,
    tz: Annotated[str, typer.Option(metavar="ZONE", help="The VMs' UTC offset or IANA zone, for lines in local time.")] = "UTC",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")] = False,
) -> None:
    """Analyse many VMs on Dask into one Parquet dataset and a fleet report.

    Each VM collection under a SOURCE (an archive, or a directory holding a VM's var/ tree) is one task.

    A rerun skips VMs already done.

    Exit codes: 0 done (VMs that failed are rows of the dataset), 2 usage or input error.

    Example: loglens fleet bundles/ --out fleet-out --html fleet.html
    """
    from loglens import api

    if workers is not None and scheduler:
        usage_error("--workers sizes the local cluster; with --scheduler the cluster has its own workers")
    outputs = {"Fleet HTML report": html_out, "Fleet Markdown report": markdown_out}
    options = {"workers": workers, "scheduler": scheduler, "connection_string": connection_string, "tz": tz}
    with input_errors():
        api.check_writable(out, directory=True)
        for target in filter(None, outputs.values()):
            api.check_writable(target)
        result, report = _run_and_report(
            sources, out, options | {"force": force, "per_vm_html": per_vm_html}, html_out, markdown_out, quiet
        )
    _print_failures(result.failed)
    if result.analysed and result.unreadable == result.analysed and not result.skipped:
        # Nothing readable anywhere is an input error, as it is for `analyze`; the rows in vms/ say why.
        usage_error(f"none of the {result.analysed:,} input(s) found could be analysed (the warnings above say why)")
    if not quiet:
        from loglens.fleets.report import render_terminal

        stdout_console().print(render_terminal(report))
        name_outputs({"Fleet dataset": out, **outputs})


def _run_and_report(sources: list[str], out: Path, options: dict, html_out, markdown_out, quiet: bool):
    from loglens import fleets

    with _progress(quiet) as say:
        say("listing the VM collections")
        result = fleets.fleet_run(sources, out, progress=say, **options)
        if isinstance(say, _PlainProgress):
            say.flush()
        print_warnings(result.warnings)
        say("writing the fleet report")
        # One typed fleet report for the files and the terminal summary.
        report = fleets.fleet(out, vms=result.vms).report(html=html_out, markdown=markdown_out, run=result)
    return result, report


class _PlainProgress:
    """Progress for a pipe: a line every few seconds (a long job shows it is alive), and the
    newest line held back so far printed by `flush` (a log never ends at 7/8 of the VMs)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.pending: str | None = None

    def __call__(self, message: str) -> None:
        self.pending = message
        if time.monotonic() - self.last >= _PLAIN_PROGRESS_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.pending is not None:
            typer.echo(f"progress: {printable(self.pending)}", err=True)
            self.last, self.pending = time.monotonic(), None


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str], None]]:
    """The live line on a terminal; elsewhere `_PlainProgress`."""
    if quiet or sys.stderr.isatty():
        with feedback.progress(quiet) as say:
            yield say
        return
    yield _PlainProgress()


def _print_failures(failed: list[str]) -> None:
    print_warnings([f"VM not analysed: {f}" for f in failed[:_FAILED_SHOWN]])
    if len(failed) > _FAILED_SHOWN:
        print_warnings([f"... and {len(failed) - _FAILED_SHOWN} more VM(s) not analysed (status=failed in vms/)"])


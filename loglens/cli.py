"""The `loglens` command line: a thin layer over ``loglens.api``.

Exit codes: 0 success; 2 usage or input error (nothing readable, bad option, unwritable output).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loglens import api
from loglens.errors import LoglensError
from parsers import ParseResult

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Diagnose Azure Linux VM extension and agent failures.")
# Wide when piped so file paths are not cut; a terminal keeps its own width.
_out = Console(highlight=False, width=None if Console().is_terminal else 200)

EXIT_INPUT_ERROR = 2


@app.callback()
def _main() -> None:
    """Diagnose Azure Linux VM extension and agent failures from collected logs."""


@app.command()
def parse(
    paths: Annotated[list[Path], typer.Argument(help="waagent.log files or directories to search recursively.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .parquet, .csv, .ndjson or .jsonl.")],
    tz: Annotated[
        str, typer.Option(help="The VM's UTC offset (+05:30) or IANA zone, for lines written in local time.")
    ] = "UTC",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")] = False,
) -> None:
    """Parse waagent.log files into one record frame and print the per-file line accounting.

    Example: loglens parse sample_logs --out records.parquet
    """
    try:
        result = api.parse(paths, tz=tz)
        if not any(a.lines for a in result.accounts):
            raise LoglensError("no log lines could be read from the paths given (see warnings above)")
        written = api.export_records(result.frame, out)
    except LoglensError as exc:
        _print_warnings(result.warnings if "result" in locals() else [])
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    _print_warnings(result.warnings)
    if not quiet:
        _out.print(_accounting_table(result))
        _out.print(f"{result.frame.height} rows written to {written}", markup=False)


def _print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        # Plain echo: a warning is one line, never wrapped or styled.
        typer.echo(f"warning: {warning}", err=True)


def _accounting_table(result: ParseResult) -> Table:
    table = Table(title="Line accounting (lines = records + continuations + unparsed)")
    for name in ("file", "kind", "lines", "records", "continuations", "unparsed", "adds up"):
        table.add_column(name, justify="left" if name in ("file", "kind") else "right", overflow="fold")
    for a in result.accounts:
        table.add_row(
            a.path, a.kind, *(f"{n:,}" for n in (a.lines, a.records, a.continuations, a.unparsed)),
            "yes" if a.balanced else "NO",
        )
    return table

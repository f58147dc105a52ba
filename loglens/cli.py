"""The `loglens` command line: a thin layer over ``loglens.api``.

Exit codes: 0 success; 1 (`analyze --fail-on`) a finding at or above the given severity;
2 usage or input error (nothing readable, bad option, unwritable output); 3 an internal error
(a loglens bug), reported in one line (`LOGLENS_DEBUG=1` shows the traceback).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loglens import api
from loglens.errors import LoglensError
from loglens.printable import printable
from loglens.reports import terminal
from parsers import LoadResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Diagnose Azure Linux VM extension and agent failures.",
)
# Wide when piped so file paths are not cut; a terminal keeps its own width.
_out = Console(highlight=False, width=None if Console().is_terminal else 200)

EXIT_FINDINGS = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3
_IGNORED_SHOWN = 5


def main() -> None:
    """The console entry point: the app, with any unexpected exception as one `internal error:` line."""
    try:
        app(prog_name="loglens")
    except Exception as exc:
        if os.environ.get("LOGLENS_DEBUG"):
            raise
        reason = printable(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        typer.echo(
            f"internal error: {type(exc).__name__}: {reason} (a loglens bug; LOGLENS_DEBUG=1 shows the traceback)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL_ERROR)


@app.callback()
def _main() -> None:
    """Diagnose Azure Linux VM extension and agent failures from collected logs."""


@app.command()
def parse(
    paths: Annotated[list[Path], typer.Argument(help="Files, VM directory trees, or .zip/.tar.gz bundles.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="A directory (one Parquet file per frame), or a .parquet/.csv/.ndjson/.jsonl file (waagent records).",
        ),
    ],
    tz: Annotated[
        str, typer.Option(help="The VM's UTC offset (+05:30) or IANA zone, for lines written in local time.")
    ] = "UTC",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")] = False,
) -> None:
    """Parse everything collected from a VM into frames and print the per-source line accounting.

    Example: loglens parse sample_logs --out frames/
    """
    with _input_errors():
        result = api.read(paths, tz=tz)
        api.require_lines(result)
        written = api.export(result, out)
    _print_warnings(result.warnings)
    if not quiet:
        _out.print(_accounting_table(result))
        if result.ignored:
            shown = ", ".join(printable(p) for p in result.ignored[:_IGNORED_SHOWN]) + (
                ", ..." if len(result.ignored) > _IGNORED_SHOWN else ""
            )
            _out.print(f"{len(result.ignored)} file(s) not read (not a source loglens knows): {shown}", markup=False)
        rows = (
            sum(result.frames[p.stem].height for p in written) if len(written) > 1 else result.frames["waagent"].height
        )
        target = out if len(written) > 1 else written[0]
        _out.print(f"{rows} rows written to {target}", markup=False)


class FailOn(str, Enum):
    """Lowest severity that makes `analyze` exit 1."""

    error = "error"
    warning = "warning"
    never = "never"


@app.command()
def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Files, VM directory trees, or .zip/.tar.gz bundles.")],
    json_out: Annotated[
        str | None, typer.Option("--json", help="Write the report document as JSON to this file ('-' for stdout).")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Write the self-contained HTML report (with charts) to this file.")
    ] = None,
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", help="Write the report as Markdown (no charts) to this file.")
    ] = None,
    open_report: Annotated[bool, typer.Option("--open", help="Open the HTML report in the default browser.")] = False,
    fail_on: Annotated[FailOn, typer.Option(help="Exit 1 when a finding has at least this severity.")] = FailOn.never,
    tz: Annotated[
        str, typer.Option(help="The VM's UTC offset (+05:30) or IANA zone, for lines written in local time.")
    ] = "UTC",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")] = False,
) -> None:
    """Find out what went wrong: run every rule and print the findings with their evidence.

    Exit codes: 0 done, 1 a finding at or above --fail-on, 2 usage or input error.

    Example: loglens analyze sample_logs/vm-modern --html report.html --json report.json
    """
    with _input_errors():
        analysis = api.analyze(paths, tz=tz)
        _print_warnings(analysis.warnings)
        document = api.write_document(analysis, json_out)
        if html_out:
            api.write_html(analysis, html_out)
        if markdown_out:
            api.write_markdown(analysis, markdown_out)
    if json_out == "-":
        typer.echo(document, nl=False)
    elif not quiet:
        terminal.print_summary(analysis, _out)
    if html_out and open_report:
        import webbrowser

        if not webbrowser.open(html_out.resolve().as_uri()):
            typer.echo(f"warning: no browser to open {html_out}", err=True)
    if analysis.fails(fail_on.value):
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def rules(
    rule_id: Annotated[str | None, typer.Argument(metavar="ID", help="Print this rule's full documentation.")] = None,
) -> None:
    """List the rules, or print one rule's documentation.

    Example: loglens rules unsupported-os
    """
    from loglens.rules import REGISTRY

    if rule_id is None:
        table = Table(title="loglens rules")
        for name in ("id", "category", "severity", "title"):
            table.add_column(name)
        for module in REGISTRY:
            rule = module.RULE
            table.add_row(rule.id, rule.category, rule.severity, rule.title)
        _out.print(table)
        return
    module = next((m for m in REGISTRY if m.RULE.id == rule_id), None)
    if module is None:
        typer.echo(f"error: no rule {rule_id!r}; `loglens rules` lists them", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    rule = module.RULE
    typer.echo(f"{rule.id} ({rule.category}, {rule.severity}): {rule.title}\n")
    typer.echo(inspect.getdoc(module))


@contextmanager
def _input_errors() -> Iterator[None]:
    """Turn a LoglensError into its warnings, one `error:` line and exit 2."""
    try:
        yield
    except LoglensError as exc:
        _print_warnings(getattr(exc, "warnings", []))
        typer.echo(f"error: {printable(str(exc))}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR) from None


def _print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        # Plain echo: a warning is one line, never wrapped or styled; control characters from
        # file names and log text are shown escaped, so none can forge a line or drive the terminal.
        typer.echo(f"warning: {printable(warning)}", err=True)


def _accounting_table(result: LoadResult) -> Table:
    table = Table(title="Line accounting (lines = records + continuations + unparsed + skipped)")
    for name in ("file", "kind", "lines", "records", "continuations", "unparsed", "skipped", "adds up"):
        table.add_column(name, justify="left" if name in ("file", "kind") else "right", overflow="fold")
    for a in result.accounts:
        numbers = (a.lines, a.records, a.continuations, a.unparsed, a.skipped)
        # Text, not str: a path must never be read as Rich markup (`[/x]` in an archive member name).
        table.add_row(
            Text(printable(a.path)), a.kind_shown, *(f"{n:,}" for n in numbers), "yes" if a.balanced else "NO"
        )
    return table

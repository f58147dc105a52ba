"""The `loglens` command line: a thin layer over ``loglens.api``.

Exit codes: 0 success; 1 (`analyze --fail-on`) a finding at or above the given severity;
2 usage or input error (nothing readable, bad option, unwritable output); 3 an internal error
(a loglens bug), reported in one line (`LOGLENS_DEBUG=1` shows the traceback).
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from loglens import feedback
from loglens.cli_help import Command, Group, completes
from loglens.cli_support import (
    EXIT_FINDINGS,
    EXIT_INPUT_ERROR,
    EXIT_INTERNAL_ERROR,
    input_errors,
    name_outputs,
    print_warnings,
    stdout_console,
    usage_error,
)
from loglens.errors import first_line
from loglens.fleets.cli import fleet as fleet_command
from loglens.printable import printable

app = typer.Typer(
    cls=Group,
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Diagnose Azure Linux VM extension and agent failures.",
)
_out = stdout_console()


def _is_failure(exc: BaseException) -> bool:
    """An exception that is a loglens bug: any Exception, or a Polars panic (a BaseException),
    but not SystemExit from typer or a KeyboardInterrupt. Polars is only looked up if loaded."""
    polars = sys.modules.get("polars")
    return isinstance(exc, Exception) or (polars is not None and isinstance(exc, polars.exceptions.PanicException))


def main() -> None:
    """The console entry point: the app, with any unexpected exception as one `internal error:` line."""
    # A terminal or pipe that cannot show a character (`PYTHONIOENCODING=ascii`, a name that is not
    # UTF-8) gets it escaped rather than the run lost.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        app(prog_name="loglens")
    except BaseException as exc:
        if not _is_failure(exc) or os.environ.get("LOGLENS_DEBUG"):
            raise
        reason = printable(first_line(exc))
        typer.echo(
            f"internal error: {type(exc).__name__}: {reason} (a loglens bug; LOGLENS_DEBUG=1 shows the traceback)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL_ERROR)


def _print_version(value: bool) -> None:
    if value:
        from loglens.version import __version__

        typer.echo(f"loglens {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Diagnose Azure Linux VM extension and agent failures from collected logs."""


@app.command(cls=Command)
def parse(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="Files, VM directory trees, or .zip/.tar.gz bundles.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="A directory (one Parquet file per frame), or a .parquet/.csv/.ndjson/.jsonl file (waagent records).",
        ),
    ],
    tz: Annotated[
        str,
        typer.Option(metavar="ZONE", help="The VM's UTC offset (+05:30) or IANA zone, for lines written in local time."),
    ] = "UTC",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")] = False,
) -> None:
    """Parse everything collected from a VM into frames and print the per-source line accounting.

    Example: loglens parse sample_logs --out frames/
    """
    from loglens import api  # here, not at the top: `loglens --help` must not load Polars

    with input_errors():
        to_file = api.check_export(out) == "file"
        with feedback.progress(quiet) as say:
            if to_file:
                # The records go to the file chunk by chunk as they are parsed: bounded memory.
                result, rows = api.stream_records(paths, out, tz=tz, progress=say)
            else:
                result = api.read(paths, tz=tz, progress=say)
                api.require_lines(result)
                say(f"writing {out}")
                written = api.export(result, out)
                rows = sum(result.frames[p.stem].height for p in written)
    print_warnings(result.warnings)
    if not quiet:
        from loglens.reports import model, terminal

        width = _out.width if _out.is_terminal else None
        _out.print(terminal.accounting(model.inputs(result), tuple(result.ignored), width=width))
        _out.print(f"{rows} rows written to {out}", markup=False)


class FailOn(str, Enum):
    """Lowest severity that makes `analyze` exit 1."""

    error = "error"
    warning = "warning"
    never = "never"


#: Checked by `_check_options`, not by an Enum type: one plain message whatever the typer version.
_FAIL_ON = typer.Option(
    metavar="[error|warning|never]",
    help="Exit 1 when a finding has at least this severity.",
    autocompletion=completes(lambda: [f.value for f in FailOn]),
)


@app.command(cls=Command)
def analyze(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="Files, VM directory trees, or .zip/.tar.gz bundles.")],
    json_out: Annotated[
        str | None, typer.Option("--json", metavar="FILE", help="Write the report document as JSON to this file ('-' for stdout).")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", metavar="FILE", help="Write the self-contained HTML report (with charts) to this file.")
    ] = None,
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", metavar="FILE", help="Write the report as Markdown (no charts) to this file.")
    ] = None,
    open_report: Annotated[bool, typer.Option("--open", help="Open the HTML report in the default browser.")] = False,
    fail_on: Annotated[str, _FAIL_ON] = FailOn.never.value,
    tz: Annotated[
        str,
        typer.Option(metavar="ZONE", help="The VM's UTC offset (+05:30) or IANA zone, for lines written in local time."),
    ] = "UTC",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")] = False,
) -> None:
    """Find out what went wrong: run every rule and print the findings with their evidence.

    Exit codes: 0 done, 1 a finding at or above --fail-on, 2 usage or input error.

    Example: loglens analyze sample_logs/vm-modern --html report.html --json report.json
    """
    from loglens import api
    from loglens.reports import terminal

    _check_options(fail_on, open_report, html_out)
    outputs = {
        "JSON report": json_out if json_out != "-" else None,
        "HTML report": html_out,
        "Markdown report": markdown_out,
    }
    with input_errors():
        for out in filter(None, outputs.values()):
            api.check_writable(out)
        with feedback.progress(quiet) as say:
            analysis = api.analyze(paths, tz=tz, progress=say)
            print_warnings(analysis.warnings)
            say("writing the reports")
            # One report for every output; the reports' evidence blocks and facts, and the charts,
            # only when an output shows them.
            report = api.report_model(analysis, full=bool(html_out or markdown_out), charts=bool(html_out))
            document = api.write_document(analysis, json_out, report) if json_out else ""
            if html_out:
                api.write_html(analysis, html_out, report)
            if markdown_out:
                api.write_markdown(analysis, markdown_out, report)
    if json_out == "-":
        typer.echo(document, nl=False)
    elif not quiet:
        # No cropping: an evidence line longer than the terminal overflows whole rather than being cut.
        _out.print(terminal.render(report, wrap=_out.is_terminal), crop=False)
    if not quiet:
        name_outputs(outputs)
    if html_out and open_report:
        _open_in_browser(html_out)
    if analysis.fails(fail_on.lower()):
        raise typer.Exit(EXIT_FINDINGS)


def _rule_ids() -> list[str]:
    from loglens.rules import REGISTRY

    return [module.RULE.id for module in REGISTRY]


@app.command(cls=Command)
def rules(
    rule_id: Annotated[str | None, typer.Argument(metavar="ID", help="Print this rule's full documentation.", autocompletion=completes(_rule_ids))] = None,
) -> None:
    """List the rules, or print one rule's documentation.

    Example: loglens rules unsupported-os
    """
    from loglens.reports import rules_table

    if rule_id is None:
        _out.print(rules_table.terminal_table())
        return
    documentation = rules_table.documentation(rule_id)
    if documentation is None:
        typer.echo(f"error: no rule {rule_id!r}; `loglens rules` lists them", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    typer.echo(documentation, nl=False)


app.command("fleet", cls=Command)(fleet_command)


@app.command("lnav-format", cls=Command)
def lnav_format(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write the format to this file (default: standard output).")
    ] = None,
) -> None:
    """Write an lnav log format for waagent.log (every agent generation), with the fields loglens parses.

    Example: loglens lnav-format --out waagent.json && lnav -i waagent.json
    """
    from loglens import lnav_format as fmt

    if out is None:
        typer.echo(fmt.render(), nl=False)
        return
    from loglens import api

    with input_errors():
        api.check_writable(out)
        api.write_text(out, fmt.render())
    typer.echo(
        f"lnav format written to {printable(str(out))}; install it with: lnav -i {printable(str(out))}", err=True
    )


def _check_options(fail_on: str, open_report: bool, html_out: Path | None) -> None:
    # Checked here, not by the option's type: one plain message whatever the typer version.
    choices = [f.value for f in FailOn]
    if fail_on.lower() not in choices:
        usage_error(f"--fail-on must be one of {', '.join(choices)} (got {printable(fail_on)!r})")
    if open_report and not html_out:
        usage_error("--open opens the HTML report: give --html FILE too")


def _open_in_browser(report: Path) -> None:
    import webbrowser

    if not webbrowser.open(report.resolve().as_uri()):
        typer.echo(f"warning: no browser to open {printable(str(report))}", err=True)


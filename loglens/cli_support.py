"""What every `loglens` command shares: exit codes, warnings, errors, and naming what was written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from loglens.errors import LoglensError
from loglens.printable import printable

if TYPE_CHECKING:
    from rich.console import Console

EXIT_FINDINGS = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3


@contextmanager
def input_errors() -> Iterator[None]:
    """Turn a LoglensError into its warnings, one `error:` line and exit 2."""
    try:
        yield
    except LoglensError as exc:
        print_warnings(getattr(exc, "warnings", []))
        typer.echo(f"error: {printable(str(exc))}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR) from None


def usage_error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_INPUT_ERROR)


def print_warnings(warnings: list[str]) -> None:
    from loglens.reports.model import summarised_warnings

    for warning in summarised_warnings(warnings):
        # Plain echo: a warning is one line, never wrapped or styled; control characters from
        # file names and log text are shown escaped, so none can forge a line or drive the terminal.
        typer.echo(f"warning: {printable(warning)}", err=True)


def name_outputs(outputs: dict[str, Path | str | None]) -> None:
    for what, out in outputs.items():
        if out:
            typer.echo(f"{what} written to {printable(str(out))}", err=True)


def stdout_console() -> Console:
    """Standard output for tables and findings. A terminal keeps its own width; piped output is
    never hard-wrapped or cut to 80 columns, so each line stays whole for grep and copy-paste."""
    from rich.console import Console

    terminal = Console().is_terminal
    return Console(highlight=False, soft_wrap=not terminal, width=None if terminal else 100_000)

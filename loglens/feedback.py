"""What the CLI shows while it works: a one-line progress display on stderr, only on a terminal.

Piped or redirected output, and `--quiet`, get none: scripts and logs see only results, warnings
and errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from loglens.printable import printable


@contextmanager
def progress(quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """Yield a callback that shows its latest message as a transient status line on stderr."""
    console = Console(stderr=True, highlight=False)
    if quiet or not console.is_terminal:
        yield lambda _message: None
        return
    spinner = Spinner("dots", text="starting")
    with Live(spinner, console=console, transient=True, refresh_per_second=12.5) as live:

        def say(message: str) -> None:
            # Text, never markup: messages carry file names. Drawn at once, so each stage shows.
            spinner.update(text=Text(printable(message)))
            live.refresh()

        yield say

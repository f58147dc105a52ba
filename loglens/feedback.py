"""What the CLI shows while it works: one progress line on stderr, only on a terminal.

The line is a spinner and what is being done; while the agent logs stream, it also shows a bar,
the percent of their bytes read and the time left (`Progress.advance`). Piped or redirected
output, and `--quiet`, get none: scripts and logs see only results, warnings and errors.

A progress callback is anything called with a message; the library calls a callback's
`advance(fraction)` only where it has one, so a notebook's `print` still works.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.table import Column
from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

from loglens.printable import printable


class _WhenKnown(ProgressColumn):
    """A column drawn only once the task has a total: no pulsing bar or `-:--:--` while the
    work's size is not known (the rules' stage, an archive's members)."""

    def __init__(self, column: ProgressColumn) -> None:
        super().__init__()
        self.column = column

    def render(self, task):  # noqa: ANN001 - rich's Task
        return self.column.render(task) if task.total is not None else Text("")


class Progress:
    """The progress line: call it with a message; `advance` sets the fraction done (0 to 1) of the
    stage that message names, which shows the bar, percent and time left."""

    def __init__(self, display: RichProgress | None) -> None:
        self._display = display
        self._task = display.add_task("starting", total=None) if display else None

    def __call__(self, message: str) -> None:
        if self._display is not None:
            # A new stage starts without a bar and with its own time estimate.
            self._display.remove_task(self._task)
            self._task = self._display.add_task(printable(message), total=None)
            self._display.refresh()

    def advance(self, fraction: float) -> None:
        if self._display is not None:
            self._display.update(self._task, total=1.0, completed=min(max(fraction, 0.0), 1.0))
            # Drawn at once: chunks parsed in parallel can finish within one refresh period.
            self._display.refresh()


@contextmanager
def progress(quiet: bool = False) -> Iterator[Progress]:
    """Yield a `Progress` shown as a transient line on stderr (a silent one when quiet or piped)."""
    console = Console(stderr=True, highlight=False)
    if quiet or not console.is_terminal:
        yield Progress(None)
        return
    columns = (
        SpinnerColumn("dots"),
        # One line whatever the width: a long file name is cut, never wrapped onto a second line.
        TextColumn("{task.description}", markup=False, table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
        _WhenKnown(BarColumn(bar_width=24)),
        _WhenKnown(TaskProgressColumn()),
        _WhenKnown(TimeRemainingColumn()),
    )
    with RichProgress(*columns, console=console, transient=True, refresh_per_second=12.5) as display:
        yield Progress(display)

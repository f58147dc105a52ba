"""What the CLI, the notebook and fleet tasks write: the typed report built once per run
(`loglens.reports.report.Report`) and its JSON, HTML and Markdown renderings, and the checks
and error handling every written output shares.
`loglens.api` re-exports these; call them from there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from loglens import atomic
from loglens.engine import Analysis
from loglens.errors import InputError, first_line
from loglens.version import __version__

if TYPE_CHECKING:
    from loglens.reports.report import Report


def report_model(analysis: Analysis, *, full: bool = True, charts: bool | None = None) -> Report:
    """The run's typed report, built once for every output (`loglens.reports.model`): with
    ``full``, the evidence blocks and VM facts that the HTML and Markdown reports show too;
    with ``charts`` (default: ``full``), the charts the HTML report draws."""
    from loglens.reports import model

    charts = full if charts is None else charts
    return model.build(analysis, version=__version__, neighbours=full, facts=full, charts=charts)


def write_document(analysis: Analysis, out: Path | str | None, report: Report | None = None) -> str:
    """The JSON report document; written to ``out`` unless it is None or `-` (then returned only).
    ``report``: the run's report (`report_model`), if built already.

    Raises:
        InputError: the file cannot be written.
    """
    from loglens.reports import document

    text = document.render(report or report_model(analysis, full=False))
    if out is not None and str(out) != "-":
        with writing(out):
            atomic.write_text(out, text)
    return text


def write_html(analysis: Analysis, out: Path | str, report: Report | None = None) -> Path:
    """Write the self-contained HTML report (charts included; opens offline). ``report``: the
    run's full report (`report_model` with charts), if built already.

    Raises:
        InputError: the file cannot be written.
    """
    from loglens.reports import html

    page = html.render(report or report_model(analysis))
    with writing(out):
        return atomic.write_text(out, page)


def write_markdown(analysis: Analysis, out: Path | str, report: Report | None = None) -> Path:
    """Write the Markdown report (verdict, findings, inputs; no charts). ``report``: the run's full
    report (`report_model`), if built already.

    Raises:
        InputError: the file cannot be written.
    """
    from loglens.reports import markdown

    text = markdown.render(report or report_model(analysis, charts=False))
    with writing(out):
        return atomic.write_text(out, text)


def check_writable(out: Path | str, *, directory: bool = False) -> None:
    """Raise before any work when ``out`` cannot be written: a file path that is a directory, a
    missing or read-only parent. ``directory``: ``out`` is a directory to create or fill.

    Raises:
        InputError: naming ``out`` and why.
    """
    out = Path(out)
    if not directory and out.is_dir():
        raise InputError(f"{out}: is a directory; give a file name")
    if directory and out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    # The nearest existing directory is where the file (and any missing parents) will be made.
    parent = out if directory and out.is_dir() else out.parent
    while not parent.exists() and parent != parent.parent:
        if not directory and parent == out.parent:
            raise InputError(f"{out}: cannot write output: directory {parent} does not exist")
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{out}: cannot write output: directory {parent} is not writable")


def write_text(out: Path | str, text: str) -> Path:
    """Write ``text`` to ``out`` atomically.

    Raises:
        InputError: the file cannot be written.
    """
    with writing(out):
        return atomic.write_text(out, text)


@contextmanager
def writing(out: Path | str) -> Iterator[None]:
    """Turn a failed write of ``out`` into an InputError naming it.

    Polars reports a failed write (a full disk, say) as its own ComputeError, not OSError.
    """
    try:
        yield
    except OSError as exc:
        raise InputError(f"{out}: cannot write output: {exc.strerror or exc}") from exc
    except pl.exceptions.PolarsError as exc:
        reason = first_line(exc) or type(exc).__name__
        raise InputError(f"{out}: cannot write output: {reason}") from exc

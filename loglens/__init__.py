"""loglens: find out why an Azure Linux VM extension or the Azure Linux Agent failed.

Example:
    >>> import loglens
    >>> lens = loglens.load("sample_logs/vm-modern")  # doctest: +SKIP
    >>> lens.findings  # doctest: +SKIP
    >>> lens.timeline()  # doctest: +SKIP
"""

from importlib import import_module
from typing import TYPE_CHECKING

from loglens import allocator

# Before anything imports Polars: its allocator reads the setting once (`loglens.allocator`).
allocator.configure()

from loglens.errors import InputError, LoglensError  # noqa: E402 - after the allocator setting
from loglens.version import __version__  # noqa: E402

if TYPE_CHECKING:
    from loglens.api import analyze, export, export_frames, export_records
    from loglens.findings import Findings
    from loglens.fleets import fleet, fleet_run
    from loglens.lens import Lens, load

#: Public names loaded on first use, so that importing loglens (and `loglens --help`) stays fast:
#: Polars, plotly and the rules load only when something is read or analysed.
_LAZY = {
    "analyze": "loglens.api",
    "export": "loglens.api",
    "export_frames": "loglens.api",
    "export_records": "loglens.api",
    "fleet": "loglens.fleets",
    "fleet_run": "loglens.fleets",
    "Findings": "loglens.findings",
    "Lens": "loglens.lens",
    "load": "loglens.lens",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loglens' has no attribute {name!r}")


__all__ = [
    "Findings",
    "InputError",
    "Lens",
    "LoglensError",
    "__version__",
    "analyze",
    "export",
    "export_frames",
    "export_records",
    "fleet",
    "fleet_run",
    "load",
]

"""loglens: find out why an Azure Linux VM extension or the Azure Linux Agent failed.

Example:
    >>> import loglens
    >>> lens = loglens.load("sample_logs/vm-modern")  # doctest: +SKIP
    >>> lens.analyze()  # doctest: +SKIP
    >>> lens.timeline()  # doctest: +SKIP
"""

from loglens.api import analyze, export, export_frames, export_records
from loglens.errors import InputError, LoglensError
from loglens.findings import Findings
from loglens.lens import Lens, load
from loglens.version import __version__

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
    "load",
]

"""loglens: find out why an Azure Linux VM extension or the Azure Linux Agent failed.

Example:
    >>> import loglens
    >>> result = loglens.load(["sample_logs/vm-modern"])  # doctest: +SKIP
    >>> result.frames["waagent"].head()  # doctest: +SKIP
"""

from loglens.api import analyze, export, export_frames, export_records, load
from loglens.errors import InputError, LoglensError

__version__ = "0.1.0"
__all__ = ["InputError", "LoglensError", "__version__", "analyze", "export", "export_frames", "export_records", "load"]

"""loglens: find out why an Azure Linux VM extension or the Azure Linux Agent failed.

Example:
    >>> import loglens
    >>> result = loglens.parse(["sample_logs"])  # doctest: +SKIP
    >>> result.frame.head()  # doctest: +SKIP
"""

from loglens.api import export_records, parse
from loglens.errors import InputError, LoglensError

__version__ = "0.1.0"
__all__ = ["InputError", "LoglensError", "__version__", "export_records", "parse"]

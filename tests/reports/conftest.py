from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.debian_tools import debian_tool

REPO = Path(__file__).resolve().parents[2]
#: Flags for a headless Chromium on a machine with no network (see the env notes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium (installed with apt-get when missing, as root in CI)."""
    return shutil.which("chromium-browser") or debian_tool("chromium", "chromium")

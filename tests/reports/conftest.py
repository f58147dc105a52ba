from __future__ import annotations

import os
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


#: Where chart screenshots go: $LOGLENS_ARTEFACTS when set (CI keeps it), else a pytest temp dir.
_SHOTS = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def chart_shots(request, tmp_path_factory) -> Path:
    """The directory chart tests save their screenshots in (named at the end of the run)."""
    chosen = os.environ.get("LOGLENS_ARTEFACTS")
    # One fixed directory: the fleet tests' conftest shares this fixture, as a second instance.
    shots = Path(chosen) / "charts" if chosen else tmp_path_factory.getbasetemp() / "chart-shots"
    shots.mkdir(parents=True, exist_ok=True)
    request.config.stash[_SHOTS] = shots
    return shots


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    # The fleet tests' conftest imports this hook too: say it once when both are loaded.
    if _SHOTS in config.stash:
        terminalreporter.write_line(f"chart screenshots: {config.stash.get(_SHOTS, None)}")
        del config.stash[_SHOTS]

"""Real programs the tests drive (Chromium, lnav), taken from Debian and installed on demand."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def debian_tool(command: str, package: str) -> str:
    """The path of ``command``; installs Debian's ``package`` with apt-get when it is missing and
    the tests run as root (as in CI); fails the test with what to install otherwise."""
    path = shutil.which(command)
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=False, env=env, capture_output=True)
        path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is needed for this test: install Debian's `{package}` package")
    return path

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from parsers import read_waagent

REPO = Path(__file__).resolve().parents[1]
SAMPLE_LOGS = REPO / "sample_logs"


@pytest.fixture
def parse_text(tmp_path):
    """Write ``text`` (dedented) to a waagent.log in tmp_path and parse it."""

    def parse(text: str, name: str = "waagent.log", **kwargs):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return read_waagent([path], **kwargs)

    return parse

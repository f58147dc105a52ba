"""The crash and hang reproducers of the hardening audit, each a regression test through the CLI:
bad values cost that value, never the run, and opening anything never blocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HANDLER = "var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10"


def loglens(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "loglens", *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env
    )


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("relative", "text", "extra"),
    [
        # A status code no Int64 holds.
        (f"{HANDLER}/status/0.status", '[{"status":{"status":"error","code":99999999999999999999999}}]', ()),
        # An exit-51 status with no message at all.
        (f"{HANDLER}/status/0.status", '[{"status":{"operation":"Install","status":"error","code":51}}]', ()),
        # A level word no format defines.
        (
            "var/log/azure/applicationhealth-extension/handler.log",
            "time=2025-08-05T09:06:02.514Z level=INFOx version=v2 event=x\n",
            (),
        ),
        # An error status without a message, rendered to HTML.
        (f"{HANDLER}/status/0.status", '[{"status":{"operation":"Enable","status":"error"}}]', ("--html", "x.html")),
        # An instance view whose `extensions` is not a list.
        ("iv.json", '{"vmAgent":{},"extensions":5}', ()),
        # Log text that looks like Rich markup.
        (
            "var/log/waagent.log",
            "2025-01-01T00:00:00.000000Z ERROR ExtHandler ExtHandler boom [/] and [bold]x[/bold]\n",
            (),
        ),
    ],
    ids=["huge-code", "51-without-text", "unknown-level", "error-without-message", "extensions-not-a-list", "markup"],
)
def test_odd_values_never_crash_the_run(tmp_path, relative, text, extra):
    _write(tmp_path, relative, text)
    run = loglens("analyze", ".", "--json", "out.json", *extra, cwd=tmp_path)
    assert run.returncode in (0, 2), run.stderr
    assert "Traceback" not in run.stderr
    if run.returncode == 0:
        assert json.loads((tmp_path / "out.json").read_text())["inputs"]


def test_markup_in_log_text_is_printed_as_written(tmp_path):
    _write(
        tmp_path,
        "var/log/waagent.log",
        "2025-01-01T00:00:00.000000Z ERROR ExtHandler ExtHandler boom [/] and [bold]x[/bold]\n",
    )
    run = loglens("analyze", ".", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "[bold]x[/bold]" in run.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_skipped_not_opened(tmp_path):
    os.mkfifo(tmp_path / "p")
    (tmp_path / "tree/var/log").mkdir(parents=True)
    os.mkfifo(tmp_path / "tree/var/log/waagent.log")
    _write(tmp_path, "tree/var/log/waagent.log.1", "2025-01-01T00:00:00.000000Z INFO ExtHandler ExtHandler ok\n")
    alone = loglens("analyze", "p", cwd=tmp_path)
    assert alone.returncode == 2 and "p: not a regular file (a FIFO, socket or device); skipped" in alone.stderr
    tree = loglens("analyze", "tree", "-q", cwd=tmp_path)
    assert tree.returncode == 0 and "waagent.log: not a regular file" in tree.stderr


@pytest.mark.parametrize(
    "separator", ["\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"], ids=lambda s: f"U+{ord(s):04X}"
)
def test_any_separator_inside_a_line_keeps_the_accounting(tmp_path, separator):
    """Only `\\n` ends a line; any other separator is text inside it, in every line-based source."""
    text = f"AutoUpdate.Enabled=y{separator}Extensions.Enabled=n\nOS.EnableRDMA=y\n"
    _write(tmp_path, "etc/waagent.conf", text)
    _write(tmp_path, f"{HANDLER}/config/HandlerState", f"enabled{separator}\n")
    _write(
        tmp_path,
        "var/log/waagent.log",
        f"2025-01-01T00:00:00.000000Z INFO ExtHandler ExtHandler one{separator}two\n"
        "2025-01-01T00:00:01.000000Z INFO ExtHandler ExtHandler three\n",
    )
    _write(
        tmp_path,
        "var/log/azure/custom-script/handler.log",
        f"time=2025-01-01T00:00:00Z version=v2 event=a{separator}b\n",
    )
    run = loglens("parse", ".", "--out", "frames", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    import loglens as library

    lens = library.load(tmp_path, redact=False)
    assert all(a.balanced and a.lines == 2 - (a.kind in ("handler_state", "extension_log")) for a in lens.accounts), [
        a.row() for a in lens.accounts
    ]
    assert lens.config["key"].to_list() == ["AutoUpdate.Enabled", "OS.EnableRDMA"]


def test_blank_handler_state_is_accounted_and_named(tmp_path):
    _write(tmp_path, f"{HANDLER}/config/HandlerState", "\n")
    _write(tmp_path, "var/log/waagent.log", "2025-01-01T00:00:00.000000Z INFO ExtHandler ExtHandler ok\n")
    run = loglens("parse", ".", "--out", "frames", cwd=tmp_path)
    assert run.returncode == 0 and "NO" not in run.stdout.split()
    assert "HandlerState: holds no state (blank lines only)" in run.stderr


def test_directory_links_and_unreadable_files_are_named(tmp_path, monkeypatch):
    import builtins

    from parsers.collect import collect

    _write(tmp_path, "vm/var/log/waagent.log", "2025-01-01T00:00:00.000000Z INFO ExtHandler ExtHandler ok\n")
    _write(tmp_path, "vm/notes.json", "{}")
    _write(tmp_path, "elsewhere/var/log/waagent.log", "x\n")
    (tmp_path / "vm" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    real_open = builtins.open

    def refusing(file, *args, **kwargs):
        if str(file).endswith("notes.json"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing)
    with collect([tmp_path / "vm"]) as found:
        warnings = found.warnings
    assert any(w.endswith("linked: symbolic link to a directory not followed") for w in warnings), warnings
    assert any("notes.json: cannot read it to tell what it is (Permission denied)" in w for w in warnings), warnings

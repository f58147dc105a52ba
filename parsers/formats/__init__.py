"""The registry of source formats: every kind of file loglens reads, declared once.

Each module of this package declares one format, or a few close ones, as `Format` values
(`parsers.formats.declaration`); `FORMATS` lists them in the order their sources are reported and
read. Everything that used to keep its own table reads this one: discovery asks `kind_of_path`,
sniffing asks `kind_of_content`, `parsers.load` calls each format's reader and fills the frames in
`FRAME_SCHEMAS`, the record view takes `RECORD_FRAMES`, and docs/schema.md is rendered from it
(`render_markdown`). Adding a format is a module here plus its line in `FORMATS`.
"""

from __future__ import annotations

import functools
from pathlib import PurePosixPath

from parsers import schema
from parsers.formats import (
    agent_config,
    agent_events,
    agent_log,
    control_plane,
    extension_events,
    extension_logs,
    goal_state,
    handler_files,
    instance_view,
)
from parsers.formats.declaration import Clue, Format, ReadOptions

FORMATS: tuple[Format, ...] = (
    agent_log.WAAGENT,
    agent_log.TEXT,
    agent_log.COMMAND_EXECUTION,
    extension_logs.FORMAT,
    extension_events.FORMAT,
    *handler_files.FORMATS,
    instance_view.INSTANCE_VIEW,
    control_plane.FORMAT,
    goal_state.GOAL_STATE,
    goal_state.HANDLER_MANIFEST,
    instance_view.VM_SHOW,
    *agent_config.FORMATS,
    agent_events.FORMAT,
)


def kinds() -> tuple[str, ...]:
    """Source kinds of the registered formats, in the order they are reported."""
    return tuple(f.name for f in FORMATS)


def frame_schemas() -> dict[str, tuple[schema.Column, ...]]:
    """Every frame a load yields (empty when nothing fed it), with its columns, in registry order."""
    return {name: columns for f in FORMATS for name, columns in f.frames}


def record_frames() -> dict[str, str]:
    """Frames whose rows are records (`loglens.records`), in record order, with the kind they take."""
    found: dict[str, str] = {}
    for f in FORMATS:
        if f.record_kind is not None:
            found.setdefault(f.frames[0][0], f.record_kind)
    return found


# The registry as tables, for readers that take it as it is at import (the loaders call the
# functions, so a format registered later, e.g. by a test, is found, sniffed and read too).
BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
KINDS = kinds()
FRAME_SCHEMAS = frame_schemas()
RECORD_FRAMES = record_frames()


def kind_of_path(path: PurePosixPath) -> str | None:
    """What a file is, judged by its path (any root, any depth); None when the path can't tell."""
    return next((kind for clue, kind in _clues(FORMATS, "paths") if clue.test(path)), None)


def kind_of_content(head: bytes) -> str | None:
    """What a file is, judged by its first bytes; None when no format's clue fits."""
    return next((kind for clue, kind in _clues(FORMATS, "sniffs") if clue.test(head)), None)


@functools.cache
def _clues(formats: tuple[Format, ...], which: str) -> tuple[tuple[Clue, str], ...]:
    """The formats' path or content clues, lowest rank first (built once per registry)."""
    found = ((clue, f.name) for f in formats for clue in getattr(f, which))
    return tuple(sorted(found, key=lambda item: item[0].rank))


def render_markdown(generated_from: str = "`parsers/formats/` and `parsers/schema.py`") -> str:
    """docs/schema.md's source formats and parser frames: what each format is, how it is
    recognised, and the columns of every frame it fills."""
    out = [
        "# Frame schemas",
        "",
        f"Generated from {generated_from} by `python -m loglens.schema > docs/schema.md`;",
        "a test fails when this file is stale. Do not edit by hand.",
        "",
        f"Levels, least to most severe: {', '.join(f'`{lv}`' for lv in schema.LEVELS)}.",
        "",
        "## Source formats",
        "",
        "| format | what | recognised by path | or by content | frames |",
        "|---|---|---|---|---|",
    ]
    for f in FORMATS:
        paths = "; ".join(c.shown for c in f.paths) or "-"
        sniffs = "; ".join(c.shown for c in f.sniffs) or "-"
        frames = ", ".join(f"`{name}`" for name, _ in f.frames)
        out.append(f"| `{f.name}` | {f.summary} | {paths} | {sniffs} | {frames} |")
    out.append("")
    for name, columns in frame_schemas().items():
        fed_by = ", ".join(f"`{f.name}`" for f in FORMATS if name in dict(f.frames))
        out += [f"## `{name}`", "", f"Filled by: {fed_by}.", "", *schema.column_table(columns), ""]
    return "\n".join(out)


__all__ = ["BY_NAME", "FORMATS", "FRAME_SCHEMAS", "KINDS", "RECORD_FRAMES", "Clue", "Format", "ReadOptions", "kinds"]

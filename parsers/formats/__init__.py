"""The registry of source formats: every kind of file loglens reads, declared once.

Each module of this package declares one format, or a few close ones, as `Format` values
(`parsers.formats.declaration`); `FORMATS` lists them in the order their sources are reported and
read. Everything that used to keep its own table reads this one: discovery asks `kind_of_path`,
sniffing asks `kind_of_content`, `parsers.load` calls each format's reader and fills the frames in
`FRAME_SCHEMAS`, the record view takes `RECORD_FRAMES`, and docs/schema.md is rendered from it
(`render_markdown`). Adding a format is a module here plus its line in `FORMATS`.
"""

from __future__ import annotations

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
BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
#: Source kinds, in the order they are reported.
KINDS: tuple[str, ...] = tuple(BY_NAME)
#: Every frame a load yields (empty when nothing fed it), with its columns, in registry order.
FRAME_SCHEMAS: dict[str, tuple[schema.Column, ...]] = {
    name: columns for f in FORMATS for name, columns in f.frames
}
#: Frames whose rows are records (`loglens.records`), in record order, with the kind they take.
RECORD_FRAMES: dict[str, str] = {}
for _format in FORMATS:
    if _format.record_kind is not None:
        RECORD_FRAMES.setdefault(_format.frames[0][0], _format.record_kind)

_PATH_CLUES = sorted(((c, f.name) for f in FORMATS for c in f.paths), key=lambda item: item[0].rank)
_CONTENT_CLUES = sorted(((c, f.name) for f in FORMATS for c in f.sniffs), key=lambda item: item[0].rank)


def kind_of_path(path: PurePosixPath, formats: tuple[Format, ...] | None = None) -> str | None:
    """What a file is, judged by its path (any root, any depth); None when the path can't tell."""
    clues = _PATH_CLUES if formats is None else _clues(formats, "paths")
    return next((kind for clue, kind in clues if clue.test(path)), None)


def kind_of_content(head: bytes, formats: tuple[Format, ...] | None = None) -> str | None:
    """What a file is, judged by its first bytes; None when no format's clue fits."""
    clues = _CONTENT_CLUES if formats is None else _clues(formats, "sniffs")
    return next((kind for clue, kind in clues if clue.test(head)), None)


def _clues(formats: tuple[Format, ...], which: str) -> list[tuple[Clue, str]]:
    return sorted(((c, f.name) for f in formats for c in getattr(f, which)), key=lambda item: item[0].rank)


def render_markdown() -> str:
    """docs/schema.md's source formats and parser frames: what each format is, how it is
    recognised, and the columns of every frame it fills."""
    out = [
        "# Frame schemas",
        "",
        "Generated from `parsers/formats/` (the source formats) and `parsers/schema.py` (their columns)",
        "by `python -m loglens.schema > docs/schema.md`; a test fails when this file is stale. Do not edit by hand.",
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
    for name, columns in FRAME_SCHEMAS.items():
        fed_by = ", ".join(f"`{f.name}`" for f in FORMATS if name in dict(f.frames))
        out += [f"## `{name}`", "", f"Filled by: {fed_by}.", "", *schema.column_table(columns), ""]
    return "\n".join(out)


__all__ = ["BY_NAME", "FORMATS", "FRAME_SCHEMAS", "KINDS", "RECORD_FRAMES", "Clue", "Format", "ReadOptions"]

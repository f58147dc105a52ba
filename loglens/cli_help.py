"""Help and completion in the conventions of other command-line tools.

Typer 0.2x writes its own internals into `--help`: a type column of Python annotations
(`<list[Path]>`, `<bool>` beside a flag, `<int range> [x>=1]`) and `{paths}...` in the usage line.
The command and group classes here show what a user types instead: `PATH...` for arguments,
a metavar (`FILE`, `ZONE`) for an option that takes a value, nothing for a flag. Each parameter
is given a subclass of its own typer class that changes only how it is shown, so parsing,
defaults and completion stay typer's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Typer's own classes only: typer 0.2x carries its own click, and plain `click` may not be installed.
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _ShownArgument(TyperArgument):
    def _shown(self) -> str:
        name = self.metavar or (self.name or "").upper()
        if self.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self._shown()

    def _usage_display_name(self) -> str:
        return self._shown()

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        return [self._shown()]


class _ShownOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or self.type.name.upper()

    def _get_number_range_help_str(self) -> str | None:
        # The help text states a range in words ("at least 1"); `[x>=1]` is the parser's notation.
        return None


def _shown(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperArgument) and not isinstance(param, _ShownArgument):
            param.__class__ = _ShownArgument
        elif isinstance(param, TyperOption) and not isinstance(param, _ShownOption):
            param.__class__ = _ShownOption
    return params


class Command(TyperCommand):
    """A typer command whose help shows metavars, not annotations."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _shown(super().get_params(ctx))


class Group(TyperGroup):
    """The `loglens` group: its own options shown like a command's (no `<bool>` beside `--help`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _shown(super().get_params(ctx))


def completes(values: Callable[[], list[str]]) -> Callable[[str], list[str]]:
    """A typer `autocompletion` function offering each of ``values()`` that starts with what was typed."""

    def complete(incomplete: str) -> list[str]:
        return [value for value in values() if value.startswith(incomplete)]

    return complete

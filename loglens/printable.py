"""Log text made safe to print: control characters shown as escapes, never acted on.

Log lines and archive member names can hold terminal escape sequences (`ESC ]0;title`, cursor
moves, screen clears), line separators that forge extra output lines, and bidirectional
overrides that make text read differently from what it is. Every text loglens prints to a
terminal, a warning or a Markdown file goes through `printable` first.
"""

from __future__ import annotations


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _table(keep: str) -> dict[int, str]:
    codes = [*range(0x20), 0x7F, *range(0x80, 0xA0)]
    # Line and paragraph separators, and the bidi embedding/override/isolate controls.
    codes += [0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]
    codes += [0xFEFF]
    return {code: _escape(code) for code in codes if chr(code) not in keep}


_ONE_LINE = _table(keep="\t")
_LINES = _table(keep="\t\n")


def printable(text: str | None, *, lines: bool = False) -> str:
    """``text`` with control characters written as `\\xNN`/`\\uNNNN` escapes.

    Args:
        lines: keep newlines (a multi-line evidence block); otherwise the result is one line.
    """
    return (text or "").translate(_LINES if lines else _ONE_LINE)

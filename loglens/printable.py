"""Log text made safe to print: control characters shown as escapes, never acted on.

Log lines and archive member names can hold terminal escape sequences (`ESC ]0;title`, cursor
moves, screen clears), line separators that forge extra output lines, and bidirectional
overrides that make text read differently from what it is, and invisible formatting characters
(zero-width spaces and joiners, soft hyphens, tag characters) that hide text or split words. Every text loglens prints to a
terminal, a warning or a Markdown file goes through `printable` first.
"""

from __future__ import annotations


def _escape(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _table(keep: str) -> dict[int, str]:
    codes = [*range(0x20), 0x7F, *range(0x80, 0xA0)]
    # Line and paragraph separators, and the bidi embedding/override/isolate controls.
    codes += [0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]
    codes += [0xFEFF]
    # Invisible formatting: soft hyphen, zero-width space/joiners, word joiner and invisible
    # operators, Mongolian vowel separator, interlinear annotation marks, tag characters (which
    # can spell hidden text).
    codes += [0x00AD, 0x180E, *range(0x200B, 0x200E), *range(0x2060, 0x2065), *range(0xFFF9, 0xFFFC)]
    codes += [*range(0xE0000, 0xE0080)]
    return {code: _escape(code) for code in codes if chr(code) not in keep}


_ONE_LINE = _table(keep="\t")
_LINES = _table(keep="\t\n")


def printable(text: str | None, *, lines: bool = False) -> str:
    """``text`` with control characters written as `\\xNN`/`\\uNNNN` escapes.

    Args:
        lines: keep newlines (a multi-line evidence block); otherwise the result is one line.
    """
    return (text or "").translate(_LINES if lines else _ONE_LINE)

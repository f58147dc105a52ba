"""Hostile inputs for fuzzing: real seed files, mutated, renamed and packed the ways support
engineers receive them, plus the checks every load must pass.

One description of an input (`Input`: seed, mutations, container) is built from either a
`random.Random` (the long campaign, `python -m benchmarks.fuzz`) or hypothesis strategies (the
property test in `tests/test_fuzz.py`), so a failure found by one is replayed by the other.
"""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from parsers.lines import line_count

REPO = Path(__file__).resolve().parents[1]
SEED_ROOTS = ("sample_logs", "tests/corpus/cases", "tests/rules/fixtures", "tests/fixtures")
#: Seeds larger than this are cut: the fuzzer wants many inputs, not big ones.
_SEED_BYTES = 64 * 1024

#: Bytes that separate or break lines somewhere (Python's `str.splitlines` knows all of these).
SEPARATORS = (
    b"\r",
    b"\r\n",
    b"\n\r",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\x1d",
    b"\x1e",
    "\x85".encode(),
    "\u2028".encode(),
    "\u2029".encode(),
    b"\x00",
    b"\xc2",  # a cut UTF-8 sequence
)
#: Text that must never act: terminal escapes, Rich markup, Markdown and HTML, format strings.
ACTIVE = (
    b"\x1b]0;TITLE\x07",
    b"\x1b[2J",
    b"[/]",
    b"[bold]x[/bold]",
    b"![x](https://evil.example/p.png)",
    b"<script>alert(1)</script>",
    b"{0}{1}%s%n",
    b"\\x41\\u00e9\\U0001f600",
)
#: Values swapped into JSON documents.
JSON_VALUES = (b"null", b"[]", b"{}", b"true", b'"x"', b"1e999", b"99999999999999999999999", b"-1", b'"\\ud800"')
MUTATIONS = (
    "insert",
    "delete",
    "truncate",
    "separator",
    "duplicate",
    "flip",
    "number",
    "json",
    "active",
    "nest",
    "wrap",
    "long",
)
#: How an input is packed. Besides what Python writes itself: members claiming Deflate64 or
#: encryption, a member lying about its size, an archive inside an archive, and xz.
CONTAINERS = (
    "plain",
    "plain",
    "plain",
    "gzip",
    "gzip-cut",
    "zip",
    "tar.gz",
    "tar.xz",
    "zip-deflate64",
    "zip-encrypted",
    "zip-lying",
    "zip-nested",
)
#: Names an input may be saved under besides its own: archive members that climb out or are
#: absolute, control characters and markup, a `!` that is no member separator, a SAS query kept
#: by `wget`, a name that is not UTF-8 (surrogate-escaped), and a credential document's name.
HOSTILE_NAMES = (
    "../escape/waagent.log",
    "/abs/waagent.log",
    "a\nb/waagent.log",
    "[/x]/handler.log",
    "dir/",
    "case!1/waagent.log",
    "waagent.log?sv=2021-08-06&sig=FUZZSECRET",
    "h\udcff.log",
    "ovf-env.xml.bak",
)


@dataclass(frozen=True)
class Seed:
    """A real file and where it sits in a VM tree (its path decides how loglens reads it)."""

    relative: str
    data: bytes

    def __repr__(self) -> str:
        return f"seed({self.relative!r})"  # a failing example names its seed; the bytes are in the repo


@dataclass
class Input:
    """One fuzz input: a seed, the mutations applied to it, and how it is packed."""

    seed: Seed
    mutations: list[tuple[str, int, bytes]] = field(default_factory=list)
    container: str = "plain"
    rename: str | None = None

    def content(self) -> bytes:
        data = self.seed.data
        for op, position, payload in self.mutations:
            data = mutate(data, op, position, payload)
        return data


@cache
def seeds() -> tuple[Seed, ...]:
    """Every seed file, keyed by a VM-tree path that keeps its kind (sorted, so runs repeat)."""
    found = []
    for root in SEED_ROOTS:
        for path in sorted((REPO / root).rglob("*")):
            if not path.is_file() or path.suffix in (".py", ".md") or path.name == "expected.json":
                continue
            relative = path.relative_to(REPO / root).as_posix()
            # Keep the part from `var/` or `etc/` on, so the path still names the source kind.
            for marker in ("var/", "etc/"):
                if marker in relative:
                    relative = relative[relative.index(marker) :]
                    break
            found.append(Seed(relative, path.read_bytes()[:_SEED_BYTES]))
    return tuple(found)


def mutate(data: bytes, op: str, position: int, payload: bytes) -> bytes:
    """``data`` with one mutation applied at ``position`` (taken modulo the length)."""
    at = position % (len(data) + 1)
    if op == "insert":
        return data[:at] + payload + data[at:]
    if op == "delete":
        return data[:at] + data[at + 1 + len(payload) * 16 :]
    if op == "truncate":
        return data[:at]
    if op == "separator":
        return data[:at] + SEPARATORS[position % len(SEPARATORS)] + data[at:]
    if op == "duplicate":
        end = min(len(data), at + 1 + (payload[0] if payload else 40) * 8)
        return data[:end] + data[at:end] + data[end:]
    if op == "flip":
        if not data:
            return data
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ (payload[0] if payload else 0xFF) or 1]) + data[at + 1 :]
    if op == "number":
        digit = next((i for i in range(at, len(data)) if 48 <= data[i] <= 57), None)
        if digit is None:
            return data
        end = digit
        while end < len(data) and 48 <= data[end] <= 57:
            end += 1
        return data[:digit] + (b"9" * 30 if position % 2 else b"-1") + data[end:]
    if op == "json":
        colon = data.find(b":", at)
        if colon < 0:
            return data
        end = next((i for i in range(colon + 1, len(data)) if data[i : i + 1] in (b",", b"}", b"]")), len(data))
        return data[: colon + 1] + JSON_VALUES[position % len(JSON_VALUES)] + data[end:]
    if op == "active":
        return data[:at] + ACTIVE[position % len(ACTIVE)] + data[at:]
    if op == "nest":
        # JSON (or text) nested far deeper than any document: brackets and braces at one place.
        depth = 50 + position % 2000
        opening, closing = (b"[", b"]") if position % 2 else (b'{"a":', b"}")
        return data[:at] + opening * depth + b"1" + closing * depth + data[at:]
    if op == "wrap":
        # The whole document as an escaped JSON string inside another (settings as agents log them).
        escaped = data.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
        return b'{"settings": "' + escaped + b'"}'
    if op == "long":
        return data[:at] + b"x" * (1024 * (1 + position % 1200)) + data[at:]
    raise ValueError(op)


def random_input(generator: random.Random) -> Input:
    """An input drawn at random: a seed, up to four mutations, a container, maybe a new name."""
    seed = generator.choice(seeds())
    mutations = [
        (
            generator.choice(MUTATIONS[:-1] if generator.random() < 0.9 else MUTATIONS),
            generator.randrange(1 << 20),
            generator.randbytes(generator.randrange(4)),
        )
        for _ in range(generator.randrange(5))
    ]
    rename = generator.choice((None, None, None, "notes.txt", "paste", "output.json", *HOSTILE_NAMES))
    return Input(seed, mutations, generator.choice(CONTAINERS), rename)


def write_vm(root: Path, inputs: list[Input]) -> list[tuple[Path, Input]]:
    """Write ``inputs`` as one VM collection under ``root``: plain files in the tree, archives
    beside it. Returns each written file with its input."""
    written = []
    for index, item in enumerate(inputs):
        name = item.rename if item.rename and "/" not in item.rename.rstrip("/") else None
        relative = Path(item.seed.relative).parent / name if name else Path(item.seed.relative)
        data = item.content()
        if item.container in ("plain", "gzip", "gzip-cut"):
            target = root / f"f{index}" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if item.container != "plain":
                packed = gzip.compress(data)
                data = packed[: max(10, len(packed) * 2 // 3)] if item.container == "gzip-cut" else packed
                target = target.with_name(target.name + ".gz")
            target.write_bytes(data)
        else:
            suffix = "zip" if item.container.startswith("zip") else item.container
            target = root.parent / f"{root.name}-{index}.{suffix}"
            members = [(item.seed.relative, data)]
            if item.rename and "/" in item.rename:
                members.append((item.rename, data))
            _pack(target, members, item.container)
        written.append((target, item))
    return written


def _pack(target: Path, members: list[tuple[str, bytes]], container: str = "zip") -> None:
    if container == "zip-nested":
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, data in members:
                bundle.writestr(name, data)
        members = [("inner/bundle.zip", inner.getvalue()), *members[:1]]
    if target.suffix == ".zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, data in members:
                bundle.writestr(name, data)
        if container in ("zip-deflate64", "zip-encrypted", "zip-lying"):
            _patch_first_member(target, container)
        return
    with tarfile.open(target, "w:xz" if container == "tar.xz" else "w:gz") as bundle:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))


def _patch_first_member(target: Path, how: str) -> None:
    """Rewrite the first member's headers (local and central) as Python's zipfile never writes them:
    claiming Deflate64 (its data is still deflate: corrupt as Deflate64), encryption, or a size
    smaller than its data."""
    raw = bytearray(target.read_bytes())
    central = raw.find(b"PK\x01\x02")
    for at, method_at, flags_at, size_at in ((0, 8, 6, 22), (central, 10, 8, 24)):
        if at < 0:
            continue
        if how == "zip-deflate64":
            raw[at + method_at : at + method_at + 2] = (9).to_bytes(2, "little")
        elif how == "zip-encrypted":
            raw[at + flags_at] |= 0x1
        else:
            size = int.from_bytes(raw[at + size_at : at + size_at + 4], "little")
            raw[at + size_at : at + size_at + 4] = (size // 2).to_bytes(4, "little")
    target.write_bytes(bytes(raw))


def problems(result, written: list[tuple[Path, Input]]) -> list[str]:
    """Accounting violations in a load of ``written``: unbalanced accounts, and plain files whose
    line count is not their physical line count."""
    out = [f"{a.path}: lines do not add up ({a.row()})" for a in result.accounts if not a.balanced]
    by_path = {Path(a.path).resolve(): a for a in result.accounts if "!" not in a.path}
    for path, item in written:
        account = by_path.get(path.resolve()) if item.container == "plain" else None
        if account is None or any("read error" in w for w in account.warnings):
            continue
        data = path.read_bytes()
        if data.startswith(b"\x1f\x8b"):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error):
                continue  # a damaged stream: what was decoded before the damage is all there is
        expected = line_count(data)
        if account.lines != expected:
            out.append(f"{account.path}: {account.lines} lines counted, the file has {expected}")
    return out


def check(root: Path, vms: list[list[Input]]) -> list[str]:
    """Write each list of inputs as one VM under ``root``, load and analyse them all at once, and
    render every text output; returns the accounting problems (exceptions propagate)."""
    from rich.console import Console

    from loglens import api
    from loglens.reports import document, markdown, model, terminal

    root.mkdir(parents=True, exist_ok=True)
    written = [pair for index, inputs in enumerate(vms) for pair in write_vm(root / f"vm{index}", inputs)]
    result = api.read([root])
    analysis = api.analyze(result)
    document.render(model.build(analysis, facts=False))
    full = model.build(analysis, neighbours=True)
    markdown.render(full)
    Console(file=io.StringIO(), width=100).print(terminal.render(full), crop=False)
    return problems(result, written)

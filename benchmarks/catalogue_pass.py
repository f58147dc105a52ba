"""How fast the message catalogue's one multi-pattern pass tags a big log, against alternatives.

    python -m benchmarks.catalogue_pass [--log benchmarks/data/waagent-500mb.log]

Every line of the log is tagged with the catalogue ids it carries, four ways, each timed on the
same lines (read once, not timed):
- `anchors`: the catalogue's own pass (`catalogue.match`): one Aho-Corasick automaton over every
  entry's anchors (Polars `str.contains_any`), then each entry's pattern only over the lines that
  hold one of its anchors (`tag`).
- `alternation` (with `--alternation`): every pattern joined into one regex, run over the first
  lines (Polars `str.contains`), the way the rules' triggers were combined before the catalogue; it
  only says *whether* a line matches, not which entries, and with hundreds of patterns it is
  impractically slow.
- `hyperscan` and `re2-set` when those packages are installed (they are not dependencies): every
  pattern compiled into one database / set, each line scanned from Python.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl
import regex

import catalogue
from catalogue.match import anchored, tag
from loglens.keep import kept_messages
from loglens.rules import REGISTRY


def _lines(path: Path) -> pl.DataFrame:
    return pl.read_csv(
        path, has_header=False, separator="\x01", quote_char=None, new_columns=["message"],
        schema_overrides=[pl.String], truncate_ragged_lines=True,
    )


def _timed(name: str, run, megabytes: float) -> None:
    start = time.perf_counter()
    note = run()
    seconds = time.perf_counter() - start
    print(f"{name:12} {seconds:7.2f} s  {megabytes / seconds:8.1f} MB/s  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=Path("benchmarks/data/waagent-500mb.log"))
    parser.add_argument("--python-limit", type=int, default=5_000, help="lines the alternation and the Python-loop engines scan")
    parser.add_argument("--alternation", action="store_true", help="also time the one-regex alternation (slow)")
    args = parser.parse_args()
    lines = _lines(args.log)
    megabytes = args.log.stat().st_size / 1e6
    print(f"{lines.height:,} lines, {megabytes:.0f} MB, {len(catalogue.load().entries)} catalogue entries")

    # The entries the rules read (what `loglens analyze` tags): mentions alone are left out.
    ids = kept_messages(tuple(m for module in REGISTRY for m in module.RULE.messages))
    entries = [catalogue.load().by_id[i] for i in ids]
    sample_frame = lines.head(args.python_limit)
    sample = [line or "" for line in sample_frame["message"].to_list()]
    share = len(sample) / max(lines.height, 1)

    def anchors() -> str:
        kept = lines.filter(anchored(ids=list(ids)))
        hits = tag(kept, ids=ids)
        return f"{kept.height:,} lines hold an anchor, {hits.height:,} (line, message) tags"

    def alternation() -> str:
        # Names dropped: one alternation cannot hold the same group name twice.
        pattern = "|".join(f"(?:{_unnamed(e.pattern)})" for e in entries)
        found = sample_frame.filter(pl.col("message").str.contains(pattern)).height
        return f"{found:,} lines match in the first {len(sample):,} lines (MB/s over those)"

    _timed("anchors", anchors, megabytes)
    for name, engine in (("hyperscan", _hyperscan), ("re2-set", _re2_set)):
        run = engine(entries, sample)
        if run is None:
            print(f"{name:12} not installed")
            continue
        _timed(name, run, megabytes * share)
    # Opt-in: one alternation of hundreds of patterns outgrows the regex engine's fast paths (measured
    # 2026-12: 5,000 lines not done in 5 minutes).
    if args.alternation:
        _timed("alternation", alternation, megabytes * share)


def _unnamed(pattern: str) -> str:
    return regex.sub(r"\(\?P<\w+>", "(", pattern)


def _hyperscan(entries, sample):
    try:
        import hyperscan
    except ImportError:
        return None
    database = hyperscan.Database()
    # Hyperscan has no named groups: the names are dropped (it only says which entries match).
    patterns = [_unnamed(e.pattern).encode() for e in entries]
    database.compile(expressions=patterns, ids=list(range(len(patterns))), flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(patterns))

    def run() -> str:
        found = 0

        def on_match(*_):
            nonlocal found
            found += 1

        for line in sample:
            database.scan(line.encode(), match_event_handler=on_match)
        return f"{found:,} tags in the first {len(sample):,} lines (MB/s over those)"

    return run


def _re2_set(entries, sample):
    try:
        import re2
    except ImportError:
        return None
    options = re2.Options()
    pattern_set = re2.Set.SearchSet(options)
    for e in entries:
        pattern_set.Add(_unnamed(e.pattern))
    pattern_set.Compile()

    def run() -> str:
        found = sum(len(pattern_set.Match(line) or ()) for line in sample)
        return f"{found:,} tags in the first {len(sample):,} lines (MB/s over those)"

    return run


if __name__ == "__main__":
    main()

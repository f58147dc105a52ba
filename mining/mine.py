#!/usr/bin/env python3
"""Mine every logged message format from Azure Linux agent / extension repos.

    python mining/mine.py --mirrors /work/.mirror --out mining/inventory

Reads bare git mirrors only (git ls-tree / cat-file --batch); writes one
JSON-lines inventory per repository.  Stdlib only.  See mining/README.md.
"""
import argparse
import collections
import concurrent.futures as cf
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract_py import extract_python, LEVEL_RANK  # noqa: E402
from extract_go import extract_go  # noqa: E402

EXTRACTOR_VERSION = "3"
KIND_RANK = ["exception", "exit", "status", "event", "logger", "go_error", "go_log", "exit_code_const"]
WALA = "Azure/WALinuxAgent"
ALE = "Azure/azure-linux-extensions"
VERSION_FILES = ("waagent", "azurelinuxagent/metadata.py", "azurelinuxagent/common/version.py")


def git(gitdir, *args, binary=False):
    out = subprocess.run(["git", "--git-dir", gitdir] + list(args), check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return out if binary else out.decode("utf-8", "replace")


def find_gitdir(d):
    for c in (os.path.join(d, "repo", ".git"), os.path.join(d, "repo")):
        if os.path.isfile(os.path.join(c, "HEAD")) and os.path.isdir(os.path.join(c, "objects")):
            return c
    return None


class CatFile:
    """One long-lived `git cat-file --batch` process per repository."""

    def __init__(self, gitdir):
        self.p = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, sha):
        self.p.stdin.write(sha.encode() + b"\n")
        self.p.stdin.flush()
        hdr = self.p.stdout.readline().split()
        if len(hdr) < 3 or hdr[1] == b"missing":
            return None
        size = int(hdr[2])
        data = self.p.stdout.read(size)
        self.p.stdout.read(1)
        return data

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def vtuple(s):
    m = re.search(r"(\d+(?:\.\d+)+)", s or "")
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


def wala_family(v):
    if v is None:
        return "2.10+"
    if v < (2, 1):
        return "2.0"
    if v < (2, 3):
        return "2.1-2.2"
    if v < (2, 10):
        return "2.3-2.9"
    return "2.10+"


_ver_re = re.compile(r"""(?:GuestAgentVersion\s*=\s*["']WALinuxAgent-|AGENT_VERSION\s*=\s*['"])([\d.]+)""")


def version_of_blob(cat, sha):
    data = cat.read(sha) or b""
    m = _ver_re.search(data.decode("utf-8", "replace"))
    return m.group(1) if m else None


def list_refs(gitdir, repo, cat):
    """Return list of dicts: label, commit, date, version (WALA only)."""
    refs = []
    out = git(gitdir, "for-each-ref", "--format=%(refname:short)\t%(objectname)\t%(*objectname)", "refs/tags")
    for line in out.splitlines():
        name, obj, peeled = line.split("\t")
        refs.append({"label": name, "commit": peeled or obj})
    try:
        head = git(gitdir, "symbolic-ref", "--short", "HEAD").strip()
    except subprocess.CalledProcessError:
        head = "HEAD"
    refs.append({"label": "HEAD:" + head, "commit": git(gitdir, "rev-parse", "HEAD").strip(), "is_head": True})
    if repo == WALA:
        tagged = {vtuple(r["label"]) for r in refs}
        refs += [p for p in wala_version_points(gitdir, cat, head) if vtuple(p["version"]) not in tagged]
    # keep only commits (tags can point at trees/blobs)
    commits = [r["commit"] for r in refs]
    info = {}
    info = {}
    for c in sorted(set(commits)):
        data = cat.read(c)
        m = re.search(rb"^committer .* (\d+) [-+]\d{4}$", data or b"", re.M)
        if data is not None and data.startswith(b"tree ") and m:
            info[c] = int(m.group(1))
    missing = sorted(set(commits) - set(info))
    if missing:
        print("  %s: %d ref(s) whose commit is missing from the mirror, skipped: %s" % (
            repo, len(missing), " ".join(r["label"] for r in refs if r["commit"] in missing)), file=sys.stderr)
    refs = [r for r in refs if r["commit"] in info]
    for r in refs:
        r["date"] = info[r["commit"]]
    return refs


def wala_version_points(gitdir, cat, head):
    """Synthetic refs for WALinuxAgent history that has no tag (1.x/2.0/2.1 and
    untagged 2.2.x): the last first-parent commit of each agent version on the
    default branch and on archive/* branches.  Labelled <branch>@<version>."""
    branches = [head] + sorted(b for b in git(gitdir, "for-each-ref", "--format=%(refname:short)",
                                              "refs/heads/archive").split() if b)
    points = []
    seen_labels = set()
    for br in branches:
        out = git(gitdir, "log", "--first-parent", "--reverse", "--format=C %H", "--raw", "--no-abbrev",
                  br, "--", *VERSION_FILES)
        # commits touching a version file, in order; version from the file blob
        cur = {}
        touched = []
        for line in out.splitlines():
            if line.startswith("C "):
                touched.append([line[2:].strip(), None])
            elif line.startswith(":"):
                meta, path = line.split("\t", 1)
                newsha = meta.split()[3]
                cur[path] = None if set(newsha) == {"0"} else newsha
                v = None
                for p in VERSION_FILES[::-1]:
                    if cur.get(p):
                        v = version_of_blob(cat, cur[p])
                        if v:
                            break
                touched[-1][1] = v
        # all first-parent commits, to find the last commit of each version run
        allc = git(gitdir, "rev-list", "--first-parent", "--reverse", br).split()
        tv = {c: v for c, v in touched}
        runs = []
        v = None
        for c in allc:
            if c in tv and tv[c]:
                v = tv[c]
            if v is None or v.startswith("9.9.9"):
                continue
            if runs and runs[-1][0] == v:
                runs[-1][1] = c
            else:
                runs.append([v, c])
        for v, c in runs:
            label = "%s@%s" % (br, v)
            if label in seen_labels:
                label += "-" + c[:8]
            seen_labels.add(label)
            points.append({"label": label, "commit": c, "version": v})
    return points


def want_path(repo, path, is_go_repo):
    p = path.lower()
    base = p.rsplit("/", 1)[-1]
    parts = p.split("/")
    if any(x.startswith("test") or x in ("unittest", "unittests", "docs", "examples") for x in parts[:-1]):
        return None
    if base.startswith("test_") or base.endswith("_test.py") or base.endswith("_test.go") or base == "conftest.py":
        return None
    if "vendor" in parts[:-1]:
        i = parts.index("vendor")
        # keep Azure extension helper libraries vendored into Go handlers (not SDKs)
        if not (len(parts) > i + 3 and parts[i + 1] == "github.com" and parts[i + 2] == "azure"
                and "extension" in parts[i + 3]):
            return None
    if base.endswith(".py"):
        return "py"
    if base.endswith(".go"):
        return "go"
    if repo == WALA and base == "waagent":
        return "py"
    if repo == ALE and base in ("waagent", "waagent2.0"):
        return "py"
    return None


def _extract(args):
    sha, lang, path, data = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if lang == "py":
            recs, method = extract_python(data)
        else:
            recs, method = extract_go(data, path), "go"
    return sha, method, recs


def load_cache(path):
    if not path or not os.path.exists(path):
        return {}
    try:
        with gzip.open(path, "rt") as f:
            c = json.load(f)
        return c.get("blobs", {}) if c.get("v") == EXTRACTOR_VERSION else {}
    except (OSError, ValueError):
        return {}


def save_cache(path, blobs):
    if not path:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with gzip.open(tmp, "wt") as f:
        json.dump({"v": EXTRACTOR_VERSION, "blobs": blobs}, f, sort_keys=True)
    os.replace(tmp, path)


def family_for(repo, ref, path):
    short = repo.split("/", 1)[1]
    if repo == WALA:
        v = ref.get("version_t") or vtuple(ref.get("version") or ref["label"])
        return [wala_family(v)]
    if repo == ALE:
        top = path.split("/", 1)[0] if "/" in path else "(root)"
        return [short, short + "/" + top]
    return [short]


def mine_repo(gitdir, repo, cache, pool, stats):
    t0 = time.time()
    cat = CatFile(gitdir)
    refs = list_refs(gitdir, repo, cat)
    if repo == WALA:
        for r in refs:
            if r.get("is_head"):
                try:
                    sha = git(gitdir, "rev-parse", r["commit"] + ":azurelinuxagent/common/version.py").strip()
                    v = version_of_blob(cat, sha)
                except subprocess.CalledProcessError:
                    v = None
                r["version"] = v
                r["version_t"] = (10 ** 6,)  # the default branch head is always newest
            elif (vtuple(r.get("version") or r["label"]) or (0,))[:1] == (9,):
                # dev/test tags carrying 9.9.9.9: place after the newest real version tagged before them
                older = [vtuple(x.get("version") or x["label"]) for x in refs
                         if x["date"] <= r["date"] and not x.get("is_head")]
                older = [o for o in older if o and o[0] != 9]
                r["version_t"] = max(older) + (9999,) if older else (0,)
            r["sortkey"] = (r.get("version_t") or vtuple(r.get("version") or r["label"]) or (0,), r["date"], r["label"])
    else:
        for r in refs:
            r["sortkey"] = ((0,), r["date"], r["label"])
    refs.sort(key=lambda r: r["sortkey"])
    for i, r in enumerate(refs):
        r["idx"] = i
    # blob -> {(ref idx, path)}
    occ = collections.defaultdict(list)
    langs = {}
    tree_seen = {}
    for r in refs:
        out = tree_seen.get(r["commit"])
        if out is None:
            try:
                out = git(gitdir, "ls-tree", "-r", r["commit"])
            except subprocess.CalledProcessError:
                print("  %s: cannot list tree of %s, skipped" % (repo, r["label"]), file=sys.stderr)
                out = ""
            tree_seen[r["commit"]] = out
        for line in out.splitlines():
            meta, path = line.split("\t", 1)
            mode, typ, sha = meta.split()
            if typ != "blob":
                continue
            lang = want_path(repo, path, False)
            if not lang:
                continue
            occ[sha].append((r["idx"], path))
            langs[sha] = lang
    todo = [s for s in occ if s not in cache]
    jobs = []
    for s in todo:
        data = cat.read(s)
        if data is None or b"\x00" in data[:8000] or (
                langs[s] == "py" and not occ[s][0][1].endswith(".py") and b"python" not in data.split(b"\n", 1)[0]):
            cache[s] = {"m": "skip", "r": []}
            continue
        jobs.append((s, langs[s], occ[s][0][1], data))
    cat.close()
    for sha, method, recs in pool.map(_extract, jobs, chunksize=8):
        cache[sha] = {"m": method, "r": [list(x) for x in recs]}
    methods = collections.Counter(cache[s]["m"] for s in occ)
    fallback_paths = sorted({occ[s][0][1] for s in occ if cache[s]["m"] == "regex"})
    # aggregate per format
    agg = {}
    for sha, places in occ.items():
        recs = cache[sha]["r"]
        if not recs:
            continue
        for level, kind, fmt, line in recs:
            a = agg.get(fmt)
            if a is None:
                a = agg[fmt] = {"level": level, "kind": kind, "refs": set(), "fams": set(), "where": {}}
            if LEVEL_RANK[level] > LEVEL_RANK[a["level"]]:
                a["level"] = level
            if KIND_RANK.index(kind) < KIND_RANK.index(a["kind"]):
                a["kind"] = kind
            for idx, path in places:
                a["refs"].add(idx)
                a["fams"].update(family_for(repo, refs[idx], path))
                w = a["where"].get(idx)
                cand = (path, line)
                if w is None or cand < w:
                    a["where"][idx] = cand
    rows = []
    for fmt, a in agg.items():
        first = min(a["refs"])
        last = max(a["refs"])
        path, line = a["where"][last]
        rows.append({
            "id": hashlib.sha1((repo + "\n" + fmt).encode("utf-8")).hexdigest()[:12],
            "repo": repo,
            "family": sorted(a["fams"]),
            "level": a["level"],
            "kind": a["kind"],
            "format": fmt,
            "first": refs[first]["label"],
            "last": refs[last]["label"],
            "where": "%s:%d@%s" % (path, line, refs[last]["commit"][:12]),
        })
    rows.sort(key=lambda r: (r["format"], r["id"]))
    stats[repo] = {"refs": len(refs), "blobs": len(occ), "parsed_now": len(jobs),
                   "methods": dict(methods), "fallback_paths": fallback_paths,
                   "seconds": round(time.time() - t0, 1),
                   "ref_range": (refs[0]["label"], refs[-1]["label"]) if refs else None}
    return rows


def summarize(repo, rows):
    by_fam = collections.defaultdict(collections.Counter)
    for r in rows:
        for f in r["family"]:
            by_fam[f][r["level"]] += 1
        by_fam["(all)"][r["level"]] += 1
    lines = []
    for fam in sorted(by_fam, key=lambda f: (f != "(all)", f)):
        c = by_fam[fam]
        lines.append("  %-48s total=%5d  " % (fam, sum(c.values())) +
                     " ".join("%s=%d" % (lv, c[lv]) for lv in ("error", "warning", "info", "verbose", "debug")))
    return "\n".join(lines)


SELF_CHECKS = [
    (WALA, r"Agent \{\} failed with exception"),
    (WALA, r"Event: name=\{\}, op=\{\}, message=\{\}, duration=\{\}"),
    (WALA, r"WireServer"),
    (WALA, r"HostGAPlugin"),
    ("Azure/custom-script-extension-linux", r"failed to execute command"),
    (WALA, r"^Provisioning"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirrors", default="/work/.mirror")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "inventory"))
    ap.add_argument("--cache", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache", "blobs.json.gz"),
                    help="per-blob result cache ('' to disable)")
    ap.add_argument("--only", action="append", help="owner+name directory to mine (repeatable)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    cache = load_cache(args.cache)
    os.makedirs(args.out, exist_ok=True)
    stats = {}
    all_rows = {}
    dirs = sorted(d for d in os.listdir(args.mirrors) if "+" in d and os.path.isdir(os.path.join(args.mirrors, d)))
    if args.only:
        dirs = [d for d in dirs if d in args.only]
    with cf.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for d in dirs:
            gitdir = find_gitdir(os.path.join(args.mirrors, d))
            if not gitdir:
                print("skip %s: no git dir" % d, file=sys.stderr)
                continue
            repo = d.replace("+", "/", 1)
            rows = mine_repo(gitdir, repo, cache, pool, stats)
            all_rows[repo] = rows
            outp = os.path.join(args.out, d + ".jsonl")
            with open(outp, "w", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False, sort_keys=False, separators=(",", ":")) + "\n")
    save_cache(args.cache, cache)

    total_ew = 0
    grand = collections.Counter()
    for repo in sorted(all_rows):
        rows = all_rows[repo]
        s = stats[repo]
        print("== %s  refs=%d (%s .. %s) source-blobs=%d parsed-now=%d methods=%s  %.1fs" % (
            repo, s["refs"], s["ref_range"][0], s["ref_range"][1], s["blobs"], s["parsed_now"],
            json.dumps(s["methods"], sort_keys=True), s["seconds"]))
        print(summarize(repo, rows))
        ew = sum(1 for r in rows if r["level"] in ("error", "warning"))
        total_ew += ew
        for r in rows:
            grand[r["level"]] += 1
    methods = collections.Counter()
    for s in stats.values():
        methods.update(s["methods"])
    print("== TOTAL formats=%d  %s  error+warning=%d" % (
        sum(grand.values()), " ".join("%s=%d" % kv for kv in sorted(grand.items())), total_ew))
    print("== parse methods over unique source blobs: %s" % json.dumps(dict(methods), sort_keys=True))
    for repo in sorted(stats):
        if stats[repo]["fallback_paths"]:
            print("   regex fallback in %s: %d blobs, paths: %s" % (
                repo, stats[repo]["methods"].get("regex", 0), ", ".join(stats[repo]["fallback_paths"][:12]) +
                (" ..." if len(stats[repo]["fallback_paths"]) > 12 else "")))
    with open(os.path.join(args.out, "_stats.json"), "w") as f:
        json.dump({k: {kk: vv for kk, vv in v.items() if kk not in ("seconds", "parsed_now")} for k, v in sorted(stats.items())},
                  f, indent=1, sort_keys=True)
        f.write("\n")

    print("== self-check")
    ok = True
    for repo, pat in SELF_CHECKS:
        rows = all_rows.get(repo)
        if rows is None:
            print("  SKIP %s /%s/ (repo not mined)" % (repo, pat))
            continue
        hits = [r for r in rows if re.search(pat, r["format"])]
        ok &= bool(hits)
        print("  %s %s /%s/ -> %d formats" % ("PASS" if hits else "FAIL", repo, pat, len(hits)))
        for r in hits[:3]:
            print("      [%s/%s] %r  %s..%s  %s" % (r["level"], r["kind"], r["format"][:110], r["first"], r["last"], r["where"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The tree stays easy to walk: no import circles, small modules, short functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import regex

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("loglens", "parsers", "catalogue")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules ``name`` imports, at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return (found & set(modules)) - {name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return out


def test_no_import_circles():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycles(graph) == []


def test_modules_and_functions_stay_small():
    too_long = []
    for name, path in _modules().items():
        source = path.read_text()
        if source.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []


def _layers() -> list[list[str]]:
    """The layer contract in pyproject.toml (import-linter), top to bottom, as lists of module names."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return [[name.strip() for name in regex.split(r"[:|]", layer)] for layer in contract["layers"]]


def test_every_module_sits_in_a_layer():
    """A new module must be placed in the layer contract, or the contract would not check it."""
    listed = [name for layer in _layers() for name in layer]
    homeless = [m for m in _modules() if m not in PACKAGES and not any(m == n or m.startswith(f"{n}.") for n in listed)]
    assert homeless == [], f"add these to [tool.importlinter] layers in pyproject.toml: {homeless}"


def test_imports_follow_the_layers():
    """parsers < derived frames < rules < engine < reports < surfaces, checked by import-linter
    (direct and indirect imports, imports inside functions included)."""
    run = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0 and "1 kept, 0 broken" in run.stdout, run.stdout[-3000:] + run.stderr


def _layout_rows() -> dict[str, str]:
    """The README's layout table: folder -> what its row says."""
    section = (REPO / "README.md").read_text().split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if found := regex.match(r"\| `([^`]+)` \| (.*) \|$", line):
            rows[found[1].rstrip("/")] = found[2]
    return rows


def test_readme_layout_names_every_module_and_only_modules_that_exist():
    """The layout section is checked against the tree, so it cannot drift: each module of the
    packages (and of mining/, benchmarks/) is named in its folder's row (a sub-package's in its
    parent's row when it has none of its own; rule modules are listed by the rules table), and
    every `name.py` a row names exists under that folder."""
    rows = _layout_rows()
    missing, stale = [], []
    for folder in ("parsers", "loglens", "loglens/fleets", "loglens/reports", "catalogue", "mining", "benchmarks"):
        row = rows.get(folder) or rows[folder.split("/")[0]]
        for path in sorted((REPO / folder).glob("*.py")):
            if path.name not in ("__init__.py", "__main__.py") and f"`{path.name}`" not in row:
                missing.append(f"{folder}/{path.name}")
    for folder, row in rows.items():
        for name in regex.findall(r"`([\w/]*\w\.py)`", row):
            if not list((REPO / folder).rglob(name.rsplit("/", 1)[-1])):
                stale.append(f"{folder}: {name}")
    assert missing == [] and stale == [], f"README layout: not named {missing}; no such module {stale}"


def test_every_imported_package_is_a_declared_dependency():
    """`import click` once passed every test (Dask brings click into the test venv) and broke the
    README's quick start, whose plain install has no click: typer 0.2x carries its own. Every
    third-party package the code imports must be declared in pyproject.toml (dependencies or an extra)."""
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {regex.match(r"[A-Za-z0-9_.\-]+", d)[0].lower().replace("_", "-") for d in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        declared |= {regex.match(r"[A-Za-z0-9_.\-]+", d)[0].lower().replace("_", "-") for d in extra}
    owners = packages_distributions()
    undeclared = set()
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            roots = []
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                roots = [node.module.split(".")[0]]
            for root in roots:
                # The repository's own folders run from its root (`python -m catalogue.render` reads mining/).
                if root in sys.stdlib_module_names or root in PACKAGES or (REPO / root).is_dir():
                    continue
                dists = {d.lower().replace("_", "-") for d in owners.get(root, [root])}
                if not dists & declared:
                    undeclared.add(f"{name}: {root}")
    assert undeclared == set(), f"declare these in pyproject.toml or stop importing them: {sorted(undeclared)}"

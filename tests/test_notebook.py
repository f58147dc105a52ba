"""The worked triage notebook runs top to bottom in a real kernel."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def _execute(name: str, tmp_path: Path) -> tuple[list, Path]:
    """Run notebooks/``name`` in a real kernel from a copy beside the sample logs: its outputs, its folder."""
    notebook_dir = tmp_path / "notebooks"
    notebook_dir.mkdir()
    shutil.copy(REPO / "notebooks" / name, notebook_dir)
    (tmp_path / "sample_logs").symlink_to(REPO / "sample_logs")
    notebook = nbformat.read(notebook_dir / name, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit it with outputs cleared"
    )
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(notebook_dir)}}
    ).execute()
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs], notebook_dir


def test_triage_notebook_executes(tmp_path):
    outputs, notebook_dir = _execute("triage.ipynb", tmp_path)
    assert not [o for o in outputs if o.output_type == "error"]
    html_reprs = [
        o["data"]["text/html"]
        for o in outputs
        if o.output_type == "execute_result" and "text/html" in o.get("data", {})
    ]
    assert any("loglens Lens" in h for h in html_reprs) and any("Findings(" in h for h in html_reprs)
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 3  # timeline, events over time, versions render inline
    # ... and in an nbconvert export too: each also carries its HTML.
    assert all("text/html" in o["data"] and "Plotly.newPlot" in o["data"]["text/html"] for o in figures)
    # Summaries are not cut in the findings tables.
    tables = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    whole = "killed by a signal (for RunCommand: its timeoutInSeconds); stderr: Timeout:signal: killed"
    assert any(whole in t for t in tables)
    # The conclusion printed is the findings' own, and the report is written outside the repository.
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "RunCommandHandlerLinux" in printed and "yum.pid was held" in printed
    assert not list(notebook_dir.glob("*.html"))


def test_public_names_have_docstrings_with_examples():
    import loglens

    for name in ("load", "analyze", "Lens"):
        doc = getattr(loglens, name).__doc__ or ""
        assert doc.strip(), name
    for method in ("findings", "report", "window", "extension", "lazy"):
        assert "Example" in (getattr(loglens.Lens, method).__doc__ or ""), method


def test_fleet_notebook_executes(tmp_path):
    outputs, notebook_dir = _execute("fleet.ipynb", tmp_path)
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 3  # matrix, extension versions, onset
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "4 VMs analysed on 2 workers" in printed
    assert "4 VM(s): 3 with errors" in printed
    assert "2 VM(s) with an unsupported-OS finding: " in printed
    assert not list(notebook_dir.rglob("*.parquet"))


def test_each_notebook_says_one_way_to_open_it_and_that_way_installs():
    """The notebooks said both "run it from the notebooks/ folder" and `jupyter lab notebooks/x.ipynb`,
    and no extra installed Jupyter."""
    import tomllib

    import regex

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        intro = "".join(nbformat.read(path, as_version=4).cells[0].source)
        extra = regex.search(r"from the repository root: `pip install -e '\.\[(\w+)\]'`", intro)
        assert extra and any(d.startswith("jupyterlab") for d in extras[extra[1]]), intro
        assert f"`jupyter lab notebooks/{path.name}`" in intro
        assert "from the `notebooks/` folder" not in intro

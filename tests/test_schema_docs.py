from pathlib import Path

from loglens.schema import render_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "schema.md"


def test_schema_doc_is_current():
    """docs/schema.md is generated; regenerate with `python -m loglens.schema > docs/schema.md`."""
    assert DOC.read_text() == render_markdown() + "\n"

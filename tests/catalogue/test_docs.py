"""docs/catalogue.md is generated from the catalogue and the mined coverage, and kept current."""

from pathlib import Path

from catalogue.render import render_markdown
from mining.coverage import render_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "catalogue.md"


def test_catalogue_doc_is_current():
    """Regenerate with `python -m catalogue.render > docs/catalogue.md`."""
    assert DOC.read_text() == render_markdown(render_table()) + "\n"

"""Notebook display (rasp/notebook.py) and docs/tour.ipynb, executed cell by cell in a kernel."""

from pathlib import Path

import pytest

import rasp

ROOT = Path(__file__).resolve().parent.parent


def test_a_program_shows_itself():
    program = rasp.load("reverse")
    assert repr(program) == f"<Program {program.filename!r}: bidirectional, output 'reverse', 3 named s-ops>"
    html = program._repr_html_()
    assert "reverse.rasp" in html and "<code>reverse</code>" in html
    assert "flip" in html and "query (row) selects key (column)" in html  # the header's example, traced


def test_a_trace_shows_values_and_labelled_selector_grids():
    trace = rasp.load("reverse").trace(list("ab<"))
    assert trace.values["reverse"] == ["<", "b", "a"] and trace.selectors == ("flip",)
    html = trace._repr_html_()
    assert ">&lt;</th>" in html and "><</th>" not in html  # tokens are escaped
    assert html.count("■") == 3 and "q \\ k" in html
    assert str(trace).splitlines()[0].split() == ["tokens", "a", "b", "<"]


def test_the_tour_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(ROOT / "docs" / "tour.ipynb", as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "data" in o and "text/html" in o["data"]]
    assert len(html) >= 3  # the program, its trace, the new program's trace
    text = "".join(o.get("text", "") for o in outputs)
    assert "C-RASP True" in text and "#[j ≤ i]" in text

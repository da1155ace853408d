"""The README's Python examples run as written (they are the first code a new user copies)."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(block):
    if not block.lstrip().startswith("import"):  # a RASP program shown with Python highlighting
        import rasp

        assert "".join(rasp.parse(block).run(list("hello"))) == "olleh"
        return
    if "compiler" in block:
        pytest.importorskip("torch")
    cwd = os.getcwd()
    os.chdir(ROOT)  # the examples name programs/ relative to the checkout
    try:
        exec(compile(block, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2

"""ARCHITECTURE.md: its worked examples run as printed, each under 40 lines, and the
modules its table names exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "ARCHITECTURE.md"


def _examples() -> dict[str, str]:
    """``{"strategy": code, ...}``: the python block under each "… a <thing>" heading."""
    text = DOC.read_text()
    found = re.findall(r"^### … an? (\w+)\n.*?```python\n(.*?)```", text, re.M | re.S)
    return dict(found)


def test_there_is_an_example_for_each_extension_point():
    examples = _examples()
    assert set(examples) == {"strategy", "op", "dataset", "space"}
    for name, code in examples.items():
        assert len(code.strip().splitlines()) < 40, name


@pytest.mark.slow
def test_the_examples_run(tmp_path):
    # One fresh interpreter for all four, so their registrations stay out of this process.
    runner = "\n".join(
        f"exec(compile({code!r}, 'ARCHITECTURE.md:{name}', 'exec'), {{'__name__': '{name}'}})"
        for name, code in _examples().items()
    )
    done = subprocess.run(
        [sys.executable, "-c", runner], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_table_names_files_that_exist():
    text = DOC.read_text()
    table = text[text.index("## Where each algorithm lives") : text.index("## How to add")]
    for cell in re.findall(r"`([\w/{},.…]+\.py)`", table):
        head, _, tail = cell.rpartition("/")
        folder = head if not head.startswith("…") else None
        names = re.match(r"\{(.*)\}\.py", tail)
        stems = names.group(1).split(",") if names else [tail.removesuffix(".py")]
        if folder is None:
            continue  # "…/base.py" repeats the folder of the cell before it
        for stem in stems:
            assert (ROOT / "nasbench" / folder / f"{stem}.py").exists(), cell

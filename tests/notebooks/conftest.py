"""Execute the course notebooks headless, in QUICK mode, and read what they produced.

A lesson has one code cell tagged ``parameters`` (the papermill convention). The
harness inserts a cell right after it that overrides those parameters (``QUICK =
True``, ``RUN_ROOT`` in a temporary folder, ...), replaces each cell tagged
``exercise:<id>`` with the reference answer from ``answers/<lesson>.py``, runs the notebook with
nbclient in ``notebooks/`` (so relative paths behave as in JupyterLab) and returns
the executed notebook, with helpers to find its figures and check outputs.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
SVG_MIME = "image/svg+xml"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# A lesson in QUICK mode takes well under this on 2 cores; a hang fails instead of stalling CI.
CELL_TIMEOUT_S = 600


def lesson_paths() -> list[Path]:
    """Every lesson, in course order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def reference_answers(stem: str) -> dict[str, str]:
    """Exercise id -> reference source for lesson ``stem`` (empty when it has none)."""
    path = Path(__file__).parent / "answers" / f"{stem}.py"
    return dict(runpy.run_path(str(path))["ANSWERS"]) if path.exists() else {}


def execute_lesson(
    path: Path, tmp_path: Path, parameters: dict | None = None, answers: dict | None = None
) -> nbformat.NotebookNode:
    """Run the lesson at ``path`` top to bottom and return the executed notebook.

    Args:
        path: the ``.ipynb`` file.
        tmp_path: a folder for the run stores and data cache the lesson writes.
        parameters: values that override the ``parameters`` cell (QUICK and RUN_ROOT
            are always set).
        answers: exercise id -> source replacing the cell tagged ``exercise:<id>``.

    Returns:
        The executed notebook (outputs filled in).
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    overrides = {"QUICK": True, "RUN_ROOT": str(tmp_path / "runs"), **(parameters or {})}
    index = _parameters_index(nb, path)
    injected = "\n".join(f"{k} = {v!r}" for k, v in overrides.items())
    cell = nbformat.v4.new_code_cell(f"# injected by tests/notebooks\n{injected}")
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)
    for cell in nb.cells:
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith("exercise:") and answers and tag[len("exercise:") :] in answers:
                cell.source = answers[tag[len("exercise:") :]]
    env_before = dict(os.environ)
    os.environ.update({"OMP_WAIT_POLICY": "PASSIVE", "NASBENCH_DATA": str(tmp_path / "cache")})
    try:
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return nb


def _parameters_index(nb: nbformat.NotebookNode, path: Path) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    return tagged[0]


def outputs(nb: nbformat.NotebookNode) -> Iterator[dict]:
    """Every output of every code cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def count_mime(nb: nbformat.NotebookNode, mime: str) -> int:
    """How many outputs carry ``mime`` (plotly figures, SVG drawings, widgets)."""
    return sum(1 for out in outputs(nb) if mime in out.get("data", {}))


def checked_text(nb: nbformat.NotebookNode, stem: str) -> str:
    """The lesson's printed text, once it is shown that the lesson ran cleanly: no cell
    raised, nothing printed a traceback, and every exercise said its answer is correct."""
    errors = [out for out in outputs(nb) if out.get("output_type") == "error"]
    assert not errors, errors[0].get("ename", "") + ": " + errors[0].get("evalue", "")
    text = text_output(nb)
    assert "Traceback" not in text
    assert text.count("✓") == len(reference_answers(stem)), text
    return text


def text_output(nb: nbformat.NotebookNode) -> str:
    """All printed text (streams and text/plain results), joined."""
    parts = []
    for out in outputs(nb):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "text/plain" in out.get("data", {}):
            parts.append(out["data"]["text/plain"])
    return "\n".join(parts)


@pytest.fixture
def run_lesson(tmp_path):
    """``run_lesson("00_quickstart", **parameters)`` -> the executed notebook.

    The reference answers of ``answers/<stem>.py`` fill the exercises unless
    ``answers=`` says otherwise.
    """

    def run(stem: str, answers: dict | None = None, **parameters) -> nbformat.NotebookNode:
        answers = reference_answers(stem) if answers is None else answers
        return execute_lesson(NOTEBOOKS / f"{stem}.ipynb", tmp_path, parameters, answers)

    return run

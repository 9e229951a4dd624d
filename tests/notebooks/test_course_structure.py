"""Every lesson follows the course conventions (read without running anything)."""

from __future__ import annotations

import ast

import nbformat
import pytest

from tests.notebooks.conftest import lesson_paths, reference_answers

LESSONS = lesson_paths()


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_follows_the_conventions(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "learning goals" in nb.cells[0].source.lower() or "learning goals" in (
        nb.cells[1].source.lower()
    ), "the lesson opens with its title and learning goals"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        "commit lessons without outputs"
    )
    parameters = [c for c in code if "parameters" in _tags(c)]
    assert len(parameters) == 1 and "QUICK" in parameters[0].source
    assert "RUN_ROOT" in parameters[0].source


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_exercise_has_a_reference_answer_and_a_check(path):
    nb = nbformat.read(path, as_version=4)
    exercises = [
        (i, tag.split(":", 1)[1])
        for i, c in enumerate(nb.cells)
        for tag in _tags(c)
        if tag.startswith("exercise:")
    ]
    assert exercises, f"{path.name} has no exercise (a cell tagged exercise:<id>)"
    answers = reference_answers(path.stem)
    assert set(answers) == {exercise for _, exercise in exercises}, "answers without exercises"
    for exercise, source in answers.items():
        assigned = {
            target.id
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert "answer" in assigned, f"the answer to {exercise} does not set `answer`"
    for index, exercise in exercises:
        assert exercise in reference_answers(path.stem), f"no reference answer for {exercise}"
        assert "..." in nb.cells[index].source, "an unanswered exercise holds ..."
        later = "".join(c.source for c in nb.cells[index + 1 : index + 3])
        assert "check(" in later, f"exercise {exercise} needs a check cell right after it"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_a_lesson_that_writes_makes_its_folder_in_its_setup_cell(path):
    """A read-only course folder is found by the setup cell, naming RUN_ROOT, not mid-search."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    index = next(i for i, c in enumerate(code) if "parameters" in _tags(c))
    parameters, setup = code[index].source, code[index + 1].source
    writes = "RUN_ROOT" in "".join(c.source for c in code[index + 1 :])
    if "not used" in parameters or "not written" in parameters:
        assert "lesson_folder" not in setup
    else:
        assert writes and "lesson_folder(RUN_ROOT" in setup, "call lesson_folder(RUN_ROOT)"

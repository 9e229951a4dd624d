"""A progress bar for a passing phase that leaves nothing behind, in a terminal or a notebook.

tqdm's notebook bar is an ipywidget. With ``leave=False`` it closes its widget model when
it ends, but the cell keeps the output that points at that model: the notebook saves it,
and reopening shows "Error displaying widget: model not found" where the bar was. Here
the bar is shown under a display id, and that output is replaced by empty text when the
bar ends, so a saved notebook holds no view of a closed model.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm


def _is_notebook_bar() -> bool:
    """True when ``tqdm.auto`` chose the ipywidgets bar (a Jupyter kernel with ipywidgets)."""
    notebook = sys.modules.get("tqdm.notebook")
    return notebook is not None and issubclass(tqdm, notebook.tqdm_notebook)


@contextmanager
def transient_bar(iterable: Iterable, **kwargs: Any) -> Iterator[tqdm]:
    """A tqdm bar over ``iterable`` that disappears when it ends, leaving no output behind.

    Args:
        iterable: what the bar iterates over (its length is the bar's total).
        **kwargs: tqdm's arguments (``desc``, ``unit``, ``disable``, ...); ``leave`` is
            always False.

    Returns:
        A context manager yielding the bar; iterate over the bar inside it.

    Example:
        >>> with transient_bar(range(3), desc="validation", disable=True) as batches:
        ...     sum(batches)
        3
    """
    kwargs["leave"] = False
    if not _is_notebook_bar() or kwargs.get("disable"):
        with tqdm(iterable, **kwargs) as bar:
            yield bar
        return
    from IPython.display import display

    bar = tqdm(iterable, display=False, **kwargs)
    handle = display(bar.container, display_id=True)
    try:
        yield bar
    finally:
        bar.close()
        if handle is not None:
            handle.update({"text/plain": ""}, raw=True)

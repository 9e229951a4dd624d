"""Number boxes that keep what a person typed and say what is wrong with it.

ipywidgets' number boxes edit a person's text without a word: an ``IntText`` drops ``e``,
``.`` and spaces as they are typed (``1e9`` becomes 19, ``3.7`` becomes 37), and the
bounded boxes clamp a value past their range to its end (20,000 epochs become 10,000). A
:class:`NumberBox` is shown by the plain float box, which does neither: it holds what was
typed, and :meth:`NumberBox.read` refuses it in one line naming the box, its range and
the value, for the view to show where it shows its other errors.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets

from nasbench.errors import ConfigError


class NumberBox(widgets.FloatText):
    """A number box with a range (and wholeness) checked on reading, not forced on typing.

    Args:
        value: the starting value.
        min: the smallest value taken, or None.
        max: the largest value taken, or None.
        whole: take whole numbers only (read back as ``int``).
        **kwargs: further ``FloatText`` settings (``description``, ``style``, ``tooltip``).

    Example:
        >>> box = NumberBox(2, min=1, max=10_000, whole=True, description="epochs")
        >>> box.value = 3.7
        >>> box.problem()
        "'epochs' must be a whole number from 1 to 10,000, not 3.7."
        >>> box.value = 1e3
        >>> box.read()
        1000
    """

    def __init__(
        self,
        value: float = 0,
        *,
        min: float | None = None,  # noqa: A002 - the name ipywidgets' bounded boxes use
        max: float | None = None,  # noqa: A002
        whole: bool = False,
        **kwargs: Any,
    ) -> None:
        # Kept here, not sent to the page: the page's bounded boxes clamp silently.
        self.min, self.max, self.whole = min, max, whole
        if whole:
            kwargs.setdefault("step", 1)  # the arrows and arrow keys count in ones
        super().__init__(value=value, **kwargs)

    def problem(self) -> str:
        """What is wrong with the value ('' when nothing is).

        Returns:
            One line naming the box, what it takes and the value.
        """
        value = self.value
        inside = (self.min is None or value >= self.min) and (self.max is None or value <= self.max)
        whole_enough = not self.whole or (math.isfinite(value) and value.is_integer())
        if math.isfinite(value) and inside and whole_enough:
            return ""
        kind = "a whole number" if self.whole else "a number"
        return f"'{self.description}' must be {kind}{self._range()}, not {_shown(value)}."

    def read(self) -> int | float:
        """The value, as ``int`` in a whole-number box.

        Returns:
            The value.

        Raises:
            ConfigError: :meth:`problem`'s line, when the value is not taken.
        """
        problem = self.problem()
        if problem:
            raise ConfigError(problem)
        return int(self.value) if self.whole else float(self.value)

    def _range(self) -> str:
        low = None if self.min is None else _shown(self.min)
        high = None if self.max is None else _shown(self.max)
        if low is not None and high is not None:
            return f" from {low} to {high}"
        if low is not None:
            return f" of at least {low}"
        return f" of at most {high}" if high is not None else ""


def _shown(value: float) -> str:
    """``value`` as a person would write it: 10,000 and 3.7, not 10000.0 and 3.7000001."""
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:g}"

"""A space of categorical hyper-parameter settings, so that any discrete strategy (random
search, Bayesian optimisation, evolution...) can search training recipes as it searches
cells: ``sample``, ``mutate``, ``neighbours`` and a one-hot ``encode``.

A member is an :class:`HPSetting`: one value per hyper-parameter, hashable, with a
canonical JSON form like every genotype. It is not a network space (nothing is built
from it), so it is not in the space registry; ``benchmarks/joint_search.py`` runs the
project's Bayesian optimisation over it for the two-stage baseline of AutoHAS.

Example:
    >>> space = HPSpace({"lr": (0.01, 0.1), "batch_size": (16, 32)})
    >>> space.size(), space.encode(space.validate({"lr": 0.1, "batch_size": 16})).tolist()
    (4, [0.0, 1.0, 1.0, 0.0])
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nasbench.errors import SpaceError


@dataclass(frozen=True)
class HPSetting:
    """One value per hyper-parameter, in the space's order.

    Attributes:
        values: ``((name, value), ...)``.
    """

    values: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict[str, float]:
        """``{name: value}``."""
        return dict(self.values)

    def to_json(self) -> str:
        """The canonical JSON text (sorted keys, compact)."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))


class HPSpace:
    """Every combination of the given categorical hyper-parameter choices.

    Args:
        choices: ``{name: (value, ...)}``, each with at least one distinct value.

    Example:
        >>> HPSpace({"lr": (0.01, 0.1)}).sample(np.random.default_rng(0)).as_dict()
        {'lr': 0.1}
    """

    name = "hyperparameters"

    def __init__(self, choices: Mapping[str, Sequence[float]]) -> None:
        if not isinstance(choices, Mapping) or not choices:
            raise SpaceError(
                f"an HPSpace needs a {{name: (value, ...)}} mapping of at least one "
                f"hyper-parameter, got {choices!r}."
            )
        for name, values in choices.items():
            # A string is a sequence too: "0.1" would become the choices '0', '.', '1'.
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise SpaceError(
                    f"hyper-parameter {name!r} needs a list of values, got {values!r}; write "
                    f"[{values!r}] for a single value."
                )
        self.choices = {str(k): tuple(v) for k, v in choices.items()}
        for name, values in self.choices.items():
            if not values or len(set(values)) != len(values):
                raise SpaceError(f"hyper-parameter {name!r} needs distinct values, got {values}.")

    def size(self) -> int:
        """Number of settings."""
        return int(np.prod([len(v) for v in self.choices.values()]))

    def validate(self, setting: HPSetting | Mapping[str, float]) -> HPSetting:
        """The setting as an :class:`HPSetting`; a one-line SpaceError when it is not a member."""
        values = setting.as_dict() if isinstance(setting, HPSetting) else dict(setting)
        if set(values) != set(self.choices):
            raise SpaceError(
                f"a setting names {sorted(values)}; this space has {sorted(self.choices)}."
            )
        for name, value in values.items():
            if value not in self.choices[name]:
                raise SpaceError(f"{name}={value!r} is not one of {list(self.choices[name])}.")
        return HPSetting(tuple((name, values[name]) for name in self.choices))

    def _pick(self, indices: Sequence[int]) -> HPSetting:
        return HPSetting(
            tuple((n, v[i]) for (n, v), i in zip(self.choices.items(), indices, strict=True))
        )

    def sample(self, rng: np.random.Generator) -> HPSetting:
        """A uniformly random setting."""
        return self._pick([int(rng.integers(len(v))) for v in self.choices.values()])

    def neighbours(self, setting: HPSetting) -> list[HPSetting]:
        """Every setting that differs in exactly one hyper-parameter."""
        current = self.validate(setting).as_dict()
        out = []
        for name, values in self.choices.items():
            for value in values:
                if value != current[name]:
                    out.append(self.validate({**current, name: value}))
        return out

    def mutate(self, setting: HPSetting, rng: np.random.Generator) -> HPSetting:
        """A random neighbour (the setting itself when the space has one member)."""
        nearby = self.neighbours(setting)
        return nearby[int(rng.integers(len(nearby)))] if nearby else self.validate(setting)

    def encode(self, setting: HPSetting, encoding: str = "onehot") -> np.ndarray:
        """One-hot block per hyper-parameter (``encoding`` is accepted for BO's sake)."""
        current = self.validate(setting).as_dict()
        return np.concatenate(
            [
                (np.asarray(values) == current[name]).astype(np.float32)
                for name, values in self.choices.items()
            ]
        )

    def encoding_length(self, encoding: str = "onehot") -> int:
        """Length of :meth:`encode` vectors."""
        return sum(len(v) for v in self.choices.values())

    def enumerate(self) -> Iterator[HPSetting]:
        """Every setting, in grid order."""
        for indices in itertools.product(*(range(len(v)) for v in self.choices.values())):
            yield self._pick(indices)

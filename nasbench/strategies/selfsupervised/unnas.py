"""UnNAS (Liu et al., 2020): DARTS searched on a pretext task, no labels read.

UnNAS asks whether a search needs labels at all. It runs DARTS unchanged, but on
images whose targets are made from the images themselves (rotation, jigsaw,
in-painting, colourisation: :mod:`nasbench.data.pretext`); the cell it finds is then
retrained on the labelled task. Its central evidence is that, over sampled
architectures, the accuracy on a pretext task ranks them much as the accuracy on
the labelled task does.

So this strategy is DARTS (same mixed edge, same first- or second-order alpha step,
same options) plus two hooks the bilevel loop calls before it builds anything:
``search_info`` turns the dataset's info into the pretext task's (its loss, its
outputs), and ``search_data`` wraps the two search halves. The labels of the search
halves are never read.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from nasbench.data.pretext import PRETEXT_TASKS, check_pretext, pretext_dataset, pretext_info
from nasbench.errors import ConfigError, closest_name
from nasbench.strategies import register_strategy
from nasbench.strategies.differentiable.base import option
from nasbench.strategies.differentiable.darts import Darts, DartsConfig


@dataclass
class UnnasConfig(DartsConfig):
    """DARTS's settings plus the pretext task searched on."""

    pretext: str = option(
        "rotation",
        "pretext task made from the images (no labels): rotation (4 classes), jigsaw "
        "(permutation classes), inpainting (predict a blanked patch), colourisation "
        "(colour images only)",
        choices=PRETEXT_TASKS,
    )
    jigsaw_grid: int = option(2, "jigsaw: tiles per side", min=2, max=4)
    jigsaw_permutations: int = option(
        24, "jigsaw: permutations in the fixed set (the classes)", min=2, max=1000
    )
    inpaint_patch: int = option(8, "inpainting: edge of the blanked square in pixels", min=1)
    colour_grid: int = option(4, "colourisation: colour target pooled to grid x grid", min=1)

    def validate(self) -> None:
        # The pretext name first, with a did-you-mean, before the generic choice check.
        if self.pretext not in PRETEXT_TASKS:
            raise ConfigError(
                f"unknown pretext task {self.pretext!r}; use one of {', '.join(PRETEXT_TASKS)}."
                f"{closest_name(str(self.pretext), PRETEXT_TASKS)}"
            )
        super().validate()

    def wrapper_settings(self) -> dict[str, int]:
        """The settings :func:`~nasbench.data.pretext.pretext_dataset` takes for this task."""
        grid = self.colour_grid if self.pretext == "colourisation" else self.jigsaw_grid
        return {
            "grid": grid,
            "n_permutations": self.jigsaw_permutations,
            "patch": self.inpaint_patch,
        }


@register_strategy("unnas", UnnasConfig, kind="self-supervised")
class Unnas(Darts):
    """UnNAS: DARTS on a pretext task (rotation, jigsaw, in-painting), labels unused.

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> method = create_strategy("unnas", {"pretext": "jigsaw"})
        >>> method.config.pretext, method.config.order
        ('jigsaw', 1)
    """

    name = "unnas"
    spaces = ("darts",)

    @staticmethod
    def check_dataset(config: UnnasConfig, info: Any, size: int) -> None:
        """Raise a one-line ConfigError when the pretext task cannot be made from the data
        (colourisation of grey images, a jigsaw grid that does not divide the size...)."""
        settings = config.wrapper_settings()
        check_pretext(
            info,
            config.pretext,
            size,
            grid=settings["grid"],
            n_permutations=settings["n_permutations"],
            patch=settings["patch"],
        )

    @staticmethod
    def search_info(config: UnnasConfig, info: Any) -> Any:
        """The info the supernet is built for: the pretext task's outputs and loss."""
        return pretext_info(info, config.pretext, **config.wrapper_settings())

    @staticmethod
    def search_data(config: UnnasConfig, train: Any, val: Any, seed: int) -> tuple[Any, Any]:
        """The two search halves as pretext data: each half draws its own items' choices,
        both share the task's (one jigsaw permutation set, so a label means one order)."""
        settings = {**config.wrapper_settings(), "task_seed": seed}
        return (
            pretext_dataset(train, config.pretext, seed=seed, **settings),
            pretext_dataset(val, config.pretext, seed=seed + 1, **settings),
        )


def warn_if_jigsaw_labels_changed(config: Any, environment: dict, run_dir: Any) -> None:
    """Warn when a jigsaw UnNAS run began while each search half drew its own permutation
    set: resumed now, its second half's labels would mean other tile orders.

    Args:
        config: the run's stored :class:`~nasbench.config.SearchConfig`.
        environment: the run's recorded environment.
        run_dir: the run folder, for the message.

    Example:
        >>> from nasbench.config import SearchConfig
        >>> warn_if_jigsaw_labels_changed(SearchConfig(), {}, "runs/x")  # not UnNAS: quiet
    """
    if config.strategy != "unnas" or environment.get("pretext_choices"):
        return
    settings = config.strategy_config or {}
    if settings.get("pretext", UnnasConfig.pretext) != "jigsaw":
        return
    warnings.warn(
        f"run '{run_dir}' began when each search half drew its own jigsaw permutation set; "
        "both halves now share one, so after this resume a label of the validation half "
        "means another tile order than before; start a new run to search on one meaning.",
        UserWarning,
        stacklevel=3,
    )

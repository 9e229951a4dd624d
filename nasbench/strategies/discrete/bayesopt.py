"""Bayesian optimisation: a Gaussian process over an architecture encoding, expected improvement.

The surrogate is scikit-learn's ``GaussianProcessRegressor`` (Matern kernel, normalised
targets) over ``space.encode(g, encoding)`` vectors (one-hot, or BANANAS-style path
counts). Each ask fits it to every result so far and proposes the candidate with the
largest expected improvement among a pool of random samples and mutations of the
best genotypes; the first ``n_initial`` asks are random.

A failed candidate (its evaluation diverged: score ``-inf``) is fitted as the lowest
score seen so far, so the surrogate learns that its region is bad without an infinity
in its targets; the asks stay random until ``n_initial`` candidates have a finite score.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from nasbench.errors import ConfigError
from nasbench.evaluation.base import Result
from nasbench.protocols import Genotype, Space
from nasbench.spaces.base import ENCODINGS
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import (
    DiscreteConfig,
    DiscreteStrategy,
    genotype_key,
    option,
)

# The share of a small budget spent on random proposals before the GP (as evolution's
# first population: nasbench.strategies.discrete.evolution.POPULATION_SHARE).
INITIAL_SHARE = 0.25


@dataclass
class BayesOptConfig(DiscreteConfig):
    """Bayesian optimisation settings."""

    encoding: str = option("onehot", "architecture encoding of the GP", choices=ENCODINGS)
    n_initial: int = option(10, "random proposals before the GP is used", min=1)
    pool_size: int = option(200, "random candidates scored per ask", min=1)
    n_mutations: int = option(100, "neighbours of the best genotypes scored per ask", min=0)
    n_parents: int = option(5, "best genotypes whose mutations join the pool", min=1)
    xi: float = option(0.01, "exploration margin of expected improvement", min=0.0)
    nu: float = option(2.5, "Matern smoothness", choices=(0.5, 1.5, 2.5))

    def fit_to_budget(
        self, max_evaluations: int | None, given: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Unless chosen, at most a quarter of ``max_evaluations`` random proposals (2,
        the fewest a GP fits a scale to, where the budget leaves the GP one more): the
        default 10 would spend a small budget on random search.

        Example:
            >>> [BayesOptConfig().fit_to_budget(n) for n in (2, 12, 100)]
            [{'n_initial': 1}, {'n_initial': 3}, {}]
        """
        if max_evaluations is None or "n_initial" in set(given):
            return {}
        n_initial = max(1, min(max(2, int(max_evaluations * INITIAL_SHARE)), max_evaluations - 1))
        return {"n_initial": n_initial} if n_initial < self.n_initial else {}

    def check_budget(self, max_evaluations: int | None) -> None:
        """Some proposals must be left to the GP once the random ones are scored (a
        budget of one evaluation is one random proposal, whatever the strategy)."""
        if max_evaluations is not None and self.n_initial >= max_evaluations > 1:
            raise ConfigError(
                f"bayesopt's n_initial {self.n_initial} random proposals take the whole budget "
                f"of {max_evaluations} evaluations, so the GP would propose none (it is random "
                "search); lower n_initial or raise max_evaluations."
            )


@register_strategy("bayesopt", BayesOptConfig, kind="discrete")
class BayesOpt(DiscreteStrategy):
    """Bayesian optimisation: GP (Matern) over an encoding, expected improvement.

    Example:
        >>> cfg = BayesOptConfig(encoding="path")
        >>> s = BayesOpt(cfg, create_space("nb201"), seed=0)  # doctest: +SKIP
    """

    name = "bayesopt"

    def __init__(self, config: BayesOptConfig, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        space.encoding_length(config.encoding)  # an encoding the space lacks fails here
        self.X: list[np.ndarray] = []
        self.y: list[float] = []
        self.observed: list[Any] = []
        self.seen: set[str] = set()  # asked or told: never propose twice
        self._nearby: dict[str, list[Any]] = {}

    def _key(self, genotype: Genotype) -> str:
        return genotype_key(self.space, genotype, "genotype")

    def _propose(self) -> Any:
        from threadpoolctl import threadpool_limits

        cfg = self.config
        if np.isfinite(self.y).sum() < cfg.n_initial:  # failed candidates teach no scale
            g = self.space.sample(self.rng)
        else:
            # The GP's matrices are tiny (one row per result): threaded BLAS only adds
            # overhead, several times the work itself when other processes share the cores.
            with threadpool_limits(limits=1, user_api="blas"):
                g = self._maximise_ei(self._fit())
        self.seen.add(self._key(g))
        return g

    def _fit(self) -> Any:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        kernel = ConstantKernel(1.0) * Matern(length_scale=1.0, nu=self.config.nu)
        kernel = kernel + WhiteKernel(1e-3, noise_level_bounds=(1e-6, 1e-1))
        gp = GaussianProcessRegressor(
            kernel=kernel,
            normalize_y=True,
            random_state=int(self.rng.integers(2**31)),
        )
        with warnings.catch_warnings():
            # Few points often put a hyperparameter on its bound; the fit is still usable.
            warnings.simplefilter("ignore")
            gp.fit(np.stack(self.X), self._targets())
        return gp

    def _targets(self) -> np.ndarray:
        """The scores to fit, a failed (non-finite) one replaced by the lowest finite one."""
        y = np.asarray(self.y, dtype=float)
        finite = np.isfinite(y)
        return np.where(finite, y, y[finite].min())

    def _neighbours(self, genotype: Genotype) -> list[Any]:
        # The best few change rarely, so their neighbour lists are kept, not rebuilt per ask.
        key = self._key(genotype)
        if key not in self._nearby:
            self._nearby[key] = self.space.neighbours(genotype)
        return self._nearby[key]

    def _pool(self) -> list[Any]:
        cfg = self.config
        pool = [self.space.sample(self.rng) for _ in range(cfg.pool_size)]
        best = np.argsort(self.y, kind="stable")[::-1][: cfg.n_parents]
        nearby = [n for k in best for n in self._neighbours(self.observed[int(k)])]
        if nearby and cfg.n_mutations:
            picks = self.rng.choice(len(nearby), min(cfg.n_mutations, len(nearby)), replace=False)
            pool += [nearby[int(k)] for k in picks]
        unique: dict[str, Any] = {}
        for g in pool:
            key = self._key(g)
            if key not in self.seen:
                unique.setdefault(key, g)
        return list(unique.values())

    def _maximise_ei(self, gp: Any) -> Any:
        pool = self._pool()
        if not pool:  # everything nearby was seen already: fall back to a random sample
            return self.space.sample(self.rng)
        X = np.stack([self.space.encode(g, self.config.encoding) for g in pool])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mu, sigma = gp.predict(X, return_std=True)
        best = float(self._targets().max())
        return pool[int(np.argmax(expected_improvement(mu, sigma, best, self.config.xi)))]

    def _observe(self, genotype: Genotype, result: Result) -> None:
        self.X.append(self.space.encode(genotype, self.config.encoding))
        self.y.append(result.score)
        self.observed.append(genotype)
        self.seen.add(self._key(genotype))


def expected_improvement(
    mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.01
) -> np.ndarray:
    """Expected improvement over ``best`` of Gaussian predictions (maximisation).

    Args:
        mu: predicted means.
        sigma: predicted standard deviations.
        best: the best score observed.
        xi: exploration margin.

    Returns:
        EI per candidate (0 where ``sigma`` is 0 and the mean is no better).

    Example:
        >>> float(expected_improvement(np.array([1.0]), np.array([0.0]), 0.5, 0.0)[0])
        0.5
    """
    sigma = np.maximum(sigma, 1e-12)
    z = (mu - best - xi) / sigma
    return (mu - best - xi) * norm.cdf(z) + sigma * norm.pdf(z)

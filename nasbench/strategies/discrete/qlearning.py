"""MetaQNN: tabular Q-learning over layer choices of the chain space (Baker et al., 2017).

A network is an episode: from the start state the agent picks a layer (or, from
``min_depth`` layers on, terminate), one layer per step, up to ``max_depth``. A
state is (depth, last layer). Actions are epsilon-greedy on the Q table; epsilon
follows MetaQNN's staircase: ``random_episodes`` at epsilon 1, then 0.9, 0.8, ...
down to ``epsilon_min``, ``episodes_per_epsilon`` episodes each. The only reward is
the network's score, at the end. After every episode the agent replays
``replay_updates`` episodes drawn from its experience, updating each transition from
last to first: Q(s, a) <- (1 - lr) Q(s, a) + lr [r + gamma max_a' Q(s', a')].
A failed network (its evaluation diverged: score ``-inf``) is rewarded as the lowest
finite score seen so far, so its layers lose value without turning ``-inf`` for good;
before any finite score it updates nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import ConfigError
from nasbench.evaluation.base import Result
from nasbench.protocols import Genotype, Space
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, option

State = tuple[int, int]  # (depth, index of the last layer; -1 at the start)


@dataclass
class QLearningConfig(DiscreteConfig):
    """MetaQNN settings (defaults scaled down from the paper's 3,500 episodes)."""

    random_episodes: int = option(50, "episodes at epsilon 1 (pure exploration)", min=0)
    episodes_per_epsilon: int = option(10, "episodes at each later epsilon step", min=1)
    epsilon_min: float = option(0.1, "the last epsilon of the staircase", 0.0, 1.0)
    lr: float = option(0.1, "Q-learning rate (MetaQNN: 0.01 over thousands of episodes)", 0, 1)
    discount: float = option(1.0, "discount factor gamma", 0.0, 1.0)
    q_init: float = option(0.5, "initial Q value (optimistic for accuracies in [0, 1])")
    replay_updates: int = option(20, "episodes replayed from experience after each one", min=0)


@register_strategy("qlearning", QLearningConfig, kind="discrete")
class QLearning(DiscreteStrategy):
    """MetaQNN: epsilon-greedy tabular Q-learning over chain layers, with experience replay.

    Example:
        >>> s = QLearning(QLearningConfig(), ChainSpace(max_depth=3), seed=0)  # doctest: +SKIP
    """

    name = "qlearning"
    spaces = ("chain",)  # checked when a config is validated, before a run starts

    def __init__(self, config: QLearningConfig, space: Space, seed: int = 0) -> None:
        from nasbench.spaces import ChainSpace

        if not isinstance(space, ChainSpace):
            raise ConfigError(
                f"qlearning (MetaQNN) searches the 'chain' space, not "
                f"{getattr(space, 'name', space)!r}; use reinforce or evolution there."
            )
        super().__init__(config, space, seed)
        self.layers = space.layer_choices()
        self.layer_index = {layer: k for k, layer in enumerate(self.layers)}
        self.terminate = len(self.layers)  # the extra action
        self.q: dict[State, np.ndarray] = {}
        self.replay: list[tuple[list[tuple[State, int]], float]] = []
        self.episodes = 0
        self.lowest: float | None = None  # the worst finite score: a failed one's reward

    def epsilon(self) -> float:
        """Epsilon for the next episode (MetaQNN's staircase)."""
        cfg = self.config
        done = self.episodes - cfg.random_episodes
        if done < 0:
            return 1.0
        return max(cfg.epsilon_min, round(0.9 - 0.1 * (done // cfg.episodes_per_epsilon), 10))

    def _values(self, state: State) -> np.ndarray:
        if state not in self.q:
            self.q[state] = np.full(len(self.layers) + 1, self.config.q_init, dtype=float)
        return self.q[state]

    def _allowed(self, depth: int) -> np.ndarray:
        allowed = np.ones(len(self.layers) + 1, dtype=bool)
        allowed[self.terminate] = depth >= self.space.min_depth
        if depth >= self.space.max_depth:
            allowed[:] = False
            allowed[self.terminate] = True
        return allowed

    def _propose(self) -> Any:
        eps, state, layers = self.epsilon(), (0, -1), []
        while True:
            allowed = np.flatnonzero(self._allowed(state[0]))
            if self.rng.random() < eps:
                action = int(allowed[self.rng.integers(len(allowed))])
            else:
                values = self._values(state)[allowed]
                best = allowed[values == values.max()]
                action = int(best[self.rng.integers(len(best))])
            if action == self.terminate:
                break
            layers.append(self.layers[action])
            state = (state[0] + 1, action)
        self.episodes += 1
        from nasbench.spaces.genotype import ChainGenotype

        return ChainGenotype(tuple(layers))

    def _transitions(self, genotype: Genotype) -> list[tuple[State, int]]:
        state, out = (0, -1), []
        for layer in genotype.layers:
            action = self.layer_index[layer]
            out.append((state, action))
            state = (state[0] + 1, action)
        if state[0] < self.space.max_depth:
            out.append((state, self.terminate))
        return out

    def _update(self, transitions: list[tuple[State, int]], reward: float) -> None:
        cfg = self.config
        if not math.isfinite(reward):  # failed: the lowest score so far (known at replay)
            if self.lowest is None:
                return
            reward = self.lowest
        for t in range(len(transitions) - 1, -1, -1):
            state, action = transitions[t]
            if t == len(transitions) - 1:
                target = reward
            else:
                nxt = transitions[t + 1][0]
                values = self._values(nxt)[self._allowed(nxt[0])]
                target = cfg.discount * float(values.max())
            q = self._values(state)
            q[action] = (1 - cfg.lr) * q[action] + cfg.lr * target

    def _observe(self, genotype: Genotype, result: Result) -> None:
        episode = (self._transitions(genotype), result.score)
        if math.isfinite(result.score):
            self.lowest = result.score if self.lowest is None else min(self.lowest, result.score)
        self.replay.append(episode)
        self._update(*episode)
        for k in self.rng.integers(len(self.replay), size=self.config.replay_updates):
            self._update(*self.replay[int(k)])

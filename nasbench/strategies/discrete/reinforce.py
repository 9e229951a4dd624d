"""NAS-RL: an LSTM controller trained with REINFORCE (Zoph & Le, 2017).

The controller emits the architecture one decision at a time (see
:mod:`.decisions`): at each step an LSTM cell reads the embedding of the previous
choice, a per-decision linear head gives the logits, and a choice is sampled. The
reward is the evaluator's score; the update is REINFORCE with a moving-average
baseline and an entropy bonus, every ``batch_size`` results. A failed candidate (its
evaluation diverged: score ``-inf``) is rewarded as the lowest finite score seen so far,
the worst the controller knows, so it learns to avoid it without an infinity in the
baseline; before any finite score it teaches nothing and is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nasbench.evaluation.base import Result
from nasbench.protocols import Genotype, Space
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, option
from nasbench.strategies.discrete.decisions import Decisions, decisions


@dataclass
class ReinforceConfig(DiscreteConfig):
    """REINFORCE controller settings."""

    hidden_size: int = option(32, "LSTM controller hidden units", min=1)
    lr: float = option(0.02, "Adam learning rate of the controller", min=0.0)
    baseline_decay: float = option(0.9, "moving-average decay of the reward baseline", 0, 1)
    entropy_weight: float = option(0.03, "weight of the entropy bonus (keeps exploring)", min=0)
    batch_size: int = option(1, "results per controller update", min=1)
    normalize: bool = option(True, "divide the advantage by the std of all rewards so far")
    temperature: float = option(1.0, "softmax temperature of the controller", min=1e-3)
    tanh_constant: float = option(
        1.5, "logits become c * tanh(logits / T), so no choice is ever certain (0: off)", min=0
    )


class Controller(nn.Module):
    """An LSTM cell with one embedding table and one linear head per decision.

    Args:
        sizes: decision key -> number of choices (from ``Decisions.sizes()``).
        hidden_size: LSTM hidden units.
        generator: seeds the uniform(-0.1, 0.1) initialisation (as in NAS-RL/ENAS).
    """

    def __init__(self, sizes: dict[str, int], hidden_size: int, generator: torch.Generator):
        super().__init__()
        self.index = {key: k for k, key in enumerate(sizes)}
        self.start = nn.Parameter(torch.zeros(1, hidden_size))
        # torch's default init draws from the global RNG; the values are replaced below
        # from ``generator``, so it draws on a fork and leaves the caller's stream alone.
        with torch.random.fork_rng(devices=[]):
            self.cell = nn.LSTMCell(hidden_size, hidden_size)
            self.embeddings = nn.ModuleList(nn.Embedding(n, hidden_size) for n in sizes.values())
            self.heads = nn.ModuleList(nn.Linear(hidden_size, n) for n in sizes.values())
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-0.1, 0.1, generator=generator)

    def run(
        self,
        steps: Decisions,
        temperature: float,
        tanh_constant: float = 0.0,
        generator: torch.Generator | None = None,
        choices: Sequence[int] | None = None,
    ) -> tuple[list[int], torch.Tensor, torch.Tensor]:
        """Sample a decision sequence, or score a given one (``choices``).

        Returns:
            (choices, summed log-probability, summed entropy).
        """
        out: list[int] = []
        x, state = self.start, None
        log_prob = torch.zeros(())
        entropy = torch.zeros(())
        while (step := steps.next(out)) is not None:
            key, mask = step
            k = self.index[key]
            state = self.cell(x, state)
            logits = self.heads[k](state[0])[0] / temperature
            if tanh_constant:
                # ENAS's bound on the logits keeps the policy from collapsing early.
                logits = tanh_constant * torch.tanh(logits)
            if mask is not None:
                logits = logits.masked_fill(~torch.as_tensor(mask), float("-inf"))
            logp = torch.log_softmax(logits, dim=-1)
            if choices is None:
                c = int(torch.multinomial(logp.exp(), 1, generator=generator))
            else:
                c = int(choices[len(out)])
            p = logp.exp()
            entropy = entropy - (p * logp.masked_fill(p == 0, 0.0)).sum()
            log_prob = log_prob + logp[c]
            out.append(c)
            x = self.embeddings[k](torch.tensor([c]))
        return out, log_prob, entropy


@register_strategy("reinforce", ReinforceConfig, kind="discrete")
class Reinforce(DiscreteStrategy):
    """NAS-RL: an LSTM controller emits decisions; REINFORCE with a moving-average baseline.

    Example:
        >>> s = Reinforce(ReinforceConfig(), create_space("nb201"), seed=0)  # doctest: +SKIP
    """

    name = "reinforce"

    def __init__(self, config: ReinforceConfig, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        self.decisions = decisions(space)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.controller = Controller(self.decisions.sizes(), config.hidden_size, self.generator)
        self.optimizer = torch.optim.Adam(self.controller.parameters(), lr=config.lr, foreach=True)
        self.baseline: float | None = None
        self.count, self.mean, self.m2 = 0, 0.0, 0.0
        self.lowest: float | None = None  # the worst finite reward: a failed one's stand-in
        self.pending: list[tuple[list[int], float]] = []

    def _propose(self) -> Any:
        with torch.no_grad():
            choices, _, _ = self.controller.run(
                self.decisions,
                self.config.temperature,
                self.config.tanh_constant,
                generator=self.generator,
            )
        return self.decisions.from_decisions(choices)

    def _advantage(self, reward: float) -> float:
        cfg = self.config
        # Welford's running mean/variance of every reward: a scale that does not collapse
        # when the policy does, so the normalised advantage cannot blow up.
        self.count += 1
        delta = reward - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (reward - self.mean)
        if self.baseline is None:
            self.baseline = reward
            return 0.0
        advantage = reward - self.baseline
        self.baseline = cfg.baseline_decay * self.baseline + (1 - cfg.baseline_decay) * reward
        if cfg.normalize:
            advantage /= (self.m2 / self.count) ** 0.5 + 1e-8
        return advantage

    def _reward(self, score: float) -> float | None:
        """``score``, or for a failed (non-finite) one the lowest finite score so far."""
        if math.isfinite(score):
            self.lowest = score if self.lowest is None else min(self.lowest, score)
            return score
        return self.lowest

    def _observe(self, genotype: Genotype, result: Result) -> None:
        reward = self._reward(result.score)
        if reward is None:
            return
        self.pending.append((self.decisions.to_decisions(genotype), self._advantage(reward)))
        if len(self.pending) < self.config.batch_size:
            return
        loss = torch.zeros(())
        for choices, advantage in self.pending:
            _, log_prob, entropy = self.controller.run(
                self.decisions, self.config.temperature, self.config.tanh_constant, choices=choices
            )
            loss = loss - advantage * log_prob - self.config.entropy_weight * entropy
        self.optimizer.zero_grad(set_to_none=True)
        (loss / len(self.pending)).backward()
        self.optimizer.step()
        self.pending = []

    def state_dict(self) -> dict[str, Any]:
        """Base state plus controller, optimizer, baseline and the torch generator."""
        return {
            **super().state_dict(),
            "controller": self.controller.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "baseline": self.baseline,
            "reward_stats": (self.count, self.mean, self.m2),
            "lowest": self.lowest,
            "pending": self.pending,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        super().load_state_dict(state)
        self.controller.load_state_dict(state["controller"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baseline = state["baseline"]
        self.count, self.mean, self.m2 = state["reward_stats"]
        self.lowest = state.get("lowest")
        self.pending = list(state["pending"])
        self.generator.set_state(state["generator"])

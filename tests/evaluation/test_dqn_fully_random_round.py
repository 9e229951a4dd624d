"""A round of Q-learning whose every action is random (epsilon 1) runs no greedy forward:
its choice would be thrown away. The episodes and the training are those of before."""

from __future__ import annotations

import torch
from torch import nn

from nasbench.evaluation.dqn import DqnSettings, train_dqn


class _CountingQ(nn.Module):
    """A linear Q-network over the patch that counts its forwards per mode."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.linear = nn.Linear(27, 6)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.linear.reset_parameters()
        self.calls = {"train": 0, "eval": 0}

    def forward(self, obs):
        self.calls["train" if self.training else "eval"] += 1
        return self.linear(obs[0].flatten(2))


def _train(net: nn.Module, rounds: int, on_round=None) -> list[dict]:
    volumes = torch.rand(2, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([[[2.0, 2.0, 2.0]], [[5.0, 5.0, 5.0]]])
    settings = DqnSettings(rounds=rounds, updates=2, envs=2, episode_steps=5, patch=3, batch_size=4)
    return train_dqn(net, volumes, targets, settings, seed=3, on_round=on_round)


def test_a_round_at_epsilon_one_runs_no_greedy_forward_and_its_episodes_ignore_the_net():
    net, after_first = _CountingQ(seed=0), []
    first = _train(net, 2, lambda r, last: r == 1 and after_first.append(dict(net.calls)))
    assert first[0]["epsilon"] == 1.0  # round 0: every action random
    # Two updates, each one training forward and one eval forward (Double DQN's online
    # choice on the next states); none for the 5 actions of the episode.
    assert after_first == [{"train": 2, "eval": 2}]
    # Another network walks the same random episodes: the same rewards and distances.
    other = _train(_CountingQ(seed=1), 2)
    walked = [k for k in first[0] if k.startswith("agent") or k == "reward"]
    assert [first[0][k] for k in walked] == [other[0][k] for k in walked]


def test_later_rounds_still_act_greedily():
    net = _CountingQ(seed=0)
    history = _train(net, rounds=2)  # round 1: epsilon 0.1, greedy forwards again
    assert history[1]["epsilon"] == 0.1
    assert net.calls == {"train": 4, "eval": 4 + 5}

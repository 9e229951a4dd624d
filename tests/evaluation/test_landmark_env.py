"""The multi-agent landmark environment and the Q-learning pieces, on hand-worked cases."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from nasbench.errors import ConfigError
from nasbench.evaluation.dqn import (
    DqnSettings,
    ReplayBuffer,
    distance_errors,
    epsilon_at,
    localise,
    plane_errors,
    q_targets,
    td_loss,
    train_dqn,
    validation_score,
)
from nasbench.evaluation.landmark_env import (
    STATE_DIM,
    LandmarkEnv,
    extract_patches,
    random_starts,
    smooth,
    step_schedule,
)


def _env(targets, steps=(1,), max_steps=4, size=8):
    targets = torch.tensor(targets, dtype=torch.float32)
    return LandmarkEnv(
        torch.zeros(targets.shape[0], size, size, size), targets, 3, steps, max_steps
    )


def test_reward_is_the_decrease_in_distance_per_agent():
    env = _env([[[4.0, 4.0, 4.0], [0.0, 0.0, 0.0]]])
    env.reset(torch.tensor([[[1, 4, 4], [3, 4, 0]]]))
    _, reward, done = env.step(torch.tensor([[0, 1]]))  # agent 0: +d, agent 1: -d
    assert torch.allclose(reward, torch.tensor([[1.0, 5.0 - math.sqrt(20.0)]]))
    assert env.positions.tolist() == [[[2, 4, 4], [2, 4, 0]]] and not done
    _, reward, _ = env.step(torch.tensor([[1, 2]]))  # away from the target: negative
    assert reward[0, 0].item() == pytest.approx(-1.0)


def test_moves_are_clipped_at_the_volume_boundary():
    env = _env([[[3.0, 3.0, 3.0]]], steps=(4,))
    env.reset(torch.tensor([[[0, 7, 2]]]))
    _, reward, _ = env.step(torch.tensor([[1]]))  # -d from 0: stays at 0
    assert env.positions.tolist() == [[[0, 7, 2]]] and reward.item() == 0.0
    env.step(torch.tensor([[2]]))  # +h by 4 from 7: clipped to 7
    assert env.positions[0, 0, 1].item() == 7
    env.step(torch.tensor([[4]]))  # +w by 4 from 2: 6
    assert env.positions[0, 0, 2].item() == 6
    env.reset(torch.tensor([[[-3, 12, 4]]]))  # starts are clipped too
    assert env.positions.tolist() == [[[0, 7, 4]]]


def test_step_size_shrinks_over_the_episode_and_the_episode_ends():
    assert step_schedule(4) == (4, 2, 1) and step_schedule(3) == (3, 1)
    env = _env([[[0.0, 0.0, 0.0]]], steps=(4, 2, 1), max_steps=6, size=32)
    env.reset(torch.tensor([[[0, 0, 0]]]))
    sizes, done = [], False
    while not done:
        sizes.append(env.step_size)
        _, _, done = env.step(torch.tensor([[0]]))
    assert sizes == [4, 4, 2, 2, 1, 1] and env.positions[0, 0, 0].item() == 14
    with pytest.raises(ConfigError, match="at least 1 voxel"):
        step_schedule(0)


def test_patches_are_centred_and_zero_outside():
    v = torch.arange(5.0**3).view(1, 5, 5, 5)
    p = extract_patches(v, torch.tensor([[[2, 2, 2], [0, 4, 1]]]), 3)
    assert p.shape == (1, 2, 1, 3, 3, 3)
    assert torch.equal(p[0, 0, 0], v[0, 1:4, 1:4, 1:4])
    assert p[0, 1, 0, 1, 1, 1].item() == v[0, 0, 4, 1].item()
    assert p[0, 1, 0, 0].abs().sum().item() == 0.0 and p[0, 1, 0, :, 2].abs().sum().item() == 0.0
    with pytest.raises(ConfigError, match="positive odd number"):
        extract_patches(v, torch.zeros(1, 1, 3, dtype=torch.long), 4)


def test_a_coarse_patch_samples_every_step_voxels_over_a_wider_field():
    # v[d, h, w] = 100 d + 10 h + w: every sample says where it came from.
    v = (torch.arange(9.0)[:, None, None] * 100 + torch.arange(9.0)[:, None] * 10
         + torch.arange(9.0)).view(1, 9, 9, 9)  # fmt: skip
    p = extract_patches(v, torch.tensor([[[4, 4, 4]]]), 3, spacing=4)
    assert p.shape == (1, 1, 1, 3, 3, 3)
    assert p[0, 0, 0, :, 1, 1].tolist() == [44.0, 444.0, 844.0]  # d = 0, 4, 8
    assert p[0, 0, 0, 0, 0, 0].item() == 0.0 and p[0, 0, 0, 2, 2, 2].item() == 888.0
    # Off-centre, samples beyond the edge are zero, the others still every 4 voxels.
    q = extract_patches(v, torch.tensor([[[1, 4, 4]]]), 3, spacing=4)
    assert q[0, 0, 0, :, 1, 1].tolist() == [0.0, 144.0, 544.0]
    assert torch.equal(extract_patches(v, torch.tensor([[[4, 4, 4]]]), 9, spacing=1)[0, 0, 0],
                       v[0])  # fmt: skip
    with pytest.raises(ConfigError, match="spacing must be at least 1"):
        extract_patches(v, torch.tensor([[[4, 4, 4]]]), 3, spacing=0)


def test_the_coarse_view_covers_the_volume_and_keeps_a_small_landmark_visible():
    # A one-voxel landmark 12 voxels away: outside an 11^3 full-resolution patch, inside
    # the 41-voxel field of the step-4 patch, and not lost between its samples.
    v = torch.zeros(1, 32, 32, 32)
    v[0, 4, 17, 15] = 1.0
    env = LandmarkEnv(v, torch.tensor([[[4.0, 17.0, 15.0]]]), 11, (4, 2, 1), 6)
    patches, states = env.reset(torch.tensor([[[16, 16, 16]]]))
    assert patches.shape == (1, 1, 1, 11, 11, 11) and float(patches.sum()) > 0
    hot = torch.nonzero(patches[0, 0, 0] == patches.max())[0]
    assert hot.tolist()[0] == 2  # 16 + 4 * (2 - 5) = 4: the landmark's row along d
    flat = LandmarkEnv(v, env.targets, 11, (4, 2, 1), 6, multiscale=False)
    assert float(flat.reset(torch.tensor([[[16, 16, 16]]]))[0].sum()) == 0.0
    assert torch.equal(smooth(v, 1), v) and float(smooth(v, 4).sum()) > 0


def test_the_state_holds_the_position_and_the_scale():
    env = _env([[[0.0, 0.0, 0.0]]], steps=(4, 2, 1), max_steps=6, size=9)
    _, states = env.reset(torch.tensor([[[8, 4, 0]]]))
    assert states.shape == (1, 1, STATE_DIM)
    assert states[0, 0].tolist() == [1.0, 0.5, 0.0, 1.0]
    scales, done = [], False
    while not done:
        (_, states), _, done = env.step(torch.tensor([[1]]))
        scales.append(states[0, 0, 3].item())
    assert scales == [1.0, 0.5, 0.5, 0.25, 0.25, 0.25]  # the step of the next action / 4


def test_double_dqn_values_the_online_networks_choice():
    next_q = torch.tensor([[[1.0, 3.0, 2.0]]])
    online = torch.tensor([[[0.0, -1.0, 7.0]]])
    plain = q_targets(torch.zeros(1, 1), next_q, torch.zeros(1), 0.5)
    double = q_targets(torch.zeros(1, 1), next_q, torch.zeros(1), 0.5, next_online=online)
    assert plain.item() == 1.5 and double.item() == 1.0


def test_states_have_the_same_width_in_the_environment_and_the_network():
    from nasbench.models.marl_network import STATE_DIM as NET_STATE_DIM

    assert NET_STATE_DIM == STATE_DIM == 4


def test_bad_shapes_are_one_line_errors():
    env = _env([[[1.0, 1.0, 1.0]]])
    env.reset(torch.zeros(1, 1, 3))
    with pytest.raises(ConfigError, match=r"actions must be \(E, K\) = \(1, 1\)"):
        env.step(torch.tensor([0]))
    with pytest.raises(ConfigError, match="volumes must be"):
        LandmarkEnv(torch.zeros(8, 8, 8), torch.zeros(1, 1, 3))


def test_q_learning_targets_on_a_hand_case():
    rewards = torch.tensor([[1.0, -0.5], [2.0, 0.0]])
    next_q = torch.tensor([[[0.0, 3.0, 1.0], [-1.0, -2.0, -4.0]], [[5.0, 5.0, 5.0], [9, 9, 9]]])
    dones = torch.tensor([0.0, 1.0])
    y = q_targets(rewards, next_q, dones, gamma=0.5)
    assert torch.allclose(y, torch.tensor([[1.0 + 1.5, -0.5 - 0.5], [2.0, 0.0]]))
    q = torch.tensor([[[1.0, 2.5, 0.0], [0.0, 0.0, -1.0]]])
    loss = td_loss(q, (torch.tensor([[1, 0]]), torch.tensor([[2.5, 1.0]])))
    assert loss.item() == pytest.approx((0.0 + 0.5) / 2)  # Huber: |1| -> 0.5


def test_epsilon_schedule_and_replay_ring():
    assert epsilon_at(2, 5, 1.0, 0.0) == pytest.approx(0.5)
    assert epsilon_at(0, 1, 1.0, 0.2) == pytest.approx(0.2)
    buf = ReplayBuffer(3, n_agents=1, patch=1)
    for i in range(4):
        obs = (torch.full((1, 1, 1, 1, 1, 1), float(i)), torch.zeros(1, 1, STATE_DIM))
        buf.add(obs, torch.tensor([[i % 6]]), torch.tensor([[float(i)]]), obs, i == 3)
    assert buf.size == 3 and sorted(buf.rewards[:, 0].tolist()) == [1.0, 2.0, 3.0]
    batch = buf.sample(5, torch.Generator().manual_seed(0))
    assert batch["obs"][0].shape == (5, 1, 1, 1, 1, 1) and batch["actions"].shape == (5, 1)
    with pytest.raises(ConfigError, match="positive capacity"):
        ReplayBuffer(0, 1, 3)


def _loop_add(buf, obs, actions, rewards, next_obs, done):
    """The reference: one slot per environment, in order, round the ring."""
    for e in range(actions.shape[0]):
        i = buf._next
        buf.patches[i], buf.positions[i] = obs[0][e], obs[1][e]
        buf.next_patches[i], buf.next_positions[i] = next_obs[0][e], next_obs[1][e]
        buf.actions[i], buf.rewards[i], buf.dones[i] = actions[e], rewards[e], float(done)
        buf._next = (i + 1) % buf.capacity
        buf.size = min(buf.size + 1, buf.capacity)


@pytest.mark.parametrize("capacity", [1, 5, 7, 64])
def test_batched_replay_add_equals_the_per_environment_loop(capacity):
    g = torch.Generator().manual_seed(capacity)
    fast, slow = ReplayBuffer(capacity, 2, 3), ReplayBuffer(capacity, 2, 3)
    for n in (3, 4, 9, 2, 6):  # batches smaller and larger than the ring, wrapping round
        obs = (torch.rand(n, 2, 1, 3, 3, 3, generator=g), torch.rand(n, 2, STATE_DIM, generator=g))
        nxt = (torch.rand(n, 2, 1, 3, 3, 3, generator=g), torch.rand(n, 2, STATE_DIM, generator=g))
        actions = torch.randint(0, 6, (n, 2), generator=g)
        rewards = torch.rand(n, 2, generator=g)
        done = n % 2 == 0
        fast.add(obs, actions, rewards, nxt, done)
        _loop_add(slow, obs, actions, rewards, nxt, done)
        assert (fast.size, fast._next) == (slow.size, slow._next)
        for name in ("patches", "next_patches", "positions", "next_positions", "actions"):
            assert torch.equal(getattr(fast, name), getattr(slow, name)), name
        assert torch.equal(fast.rewards, slow.rewards) and torch.equal(fast.dones, slow.dones)


def test_the_cached_mode_switch_sets_every_module_as_train_and_eval_do():
    from nasbench.evaluation.dqn import _Modes

    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.BatchNorm1d(2), nn.Dropout()))
    modes = _Modes(net)
    modes.set(False)
    assert not any(m.training for m in net.modules())
    modes.set(True)
    assert all(m.training for m in net.modules())
    net.eval()
    modes.set(True)
    assert all(m.training for m in net.modules())


def test_distance_errors_in_voxels_and_mm():
    p = torch.zeros(2, 2, 3)
    t = torch.tensor([[[3.0, 4.0, 0.0], [0, 0, 1]], [[0.0, 0.0, 0.0], [0, 0, 3]]])
    out = distance_errors(p, t, (2.0, 1.0, 1.0), ("a", "b"))
    assert out["dist_vox_a"] == pytest.approx(2.5) and out["dist_vox_b"] == pytest.approx(2.0)
    assert out["dist_mm_a"] == pytest.approx(math.sqrt(52) / 2)
    assert out["dist_vox"] == pytest.approx(2.25)


def test_plane_errors_angle_offset_and_collinear_estimates():
    t = torch.tensor([[[0.0, 0, 0], [4, 0, 0], [0, 4, 0]]])
    tilted = torch.tensor([[[0.0, 0, 0], [4, 0, 4], [0, 4, 0]]])  # normal (-1, 0, 1)/sqrt2
    out = plane_errors(tilted, t)
    assert out["plane_angle_deg"] == pytest.approx(45.0)
    centre = torch.tensor([4 / 3, 4 / 3, 0.0])
    assert out["plane_offset_vox"] == pytest.approx(abs(float(centre @ torch.tensor([-1.0, 0, 1])))
                                                    / 2**0.5)  # fmt: skip
    line = torch.tensor([[[0.0, 0, 0], [1, 1, 1], [2, 2, 2]]])
    assert plane_errors(line, t)["plane_angle_deg"] == 90.0
    with pytest.raises(ConfigError, match="needs 3 landmarks"):
        plane_errors(t[:, :2], t[:, :2])


def test_distances_in_mm_use_each_volume_own_spacing():
    truth = torch.zeros(2, 1, 3)
    found = torch.tensor([[[0.0, 0.0, 3.0]], [[0.0, 0.0, 3.0]]])  # 3 voxels off in both
    out = distance_errors(found, truth, [(1.0, 1.0, 1.0), (1.0, 1.0, 2.0)], ("a",))
    assert out["dist_vox"] == pytest.approx(3.0) and out["dist_mm"] == pytest.approx(4.5)
    with pytest.raises(ConfigError, match="one such row per volume"):
        distance_errors(found, truth, [(1.0, 1.0, 1.0)] * 3, ("a",))


def test_the_plane_angle_is_measured_in_mm_where_voxels_are_not_cubes():
    truth = torch.tensor([[[0.0, 0, 0], [0, 10, 0], [0, 0, 10]]])  # the plane d = 0
    tilted = truth.clone()
    tilted[0, 1, 0] = 2.0  # one landmark 2 voxels off along d
    in_voxels = plane_errors(tilted, truth)["plane_angle_deg"]
    in_mm = plane_errors(tilted, truth, (1.5, 1.0, 1.0))["plane_angle_deg"]
    assert in_voxels == pytest.approx(math.degrees(math.atan(2 / 10)), abs=1e-6)
    assert in_mm == pytest.approx(math.degrees(math.atan(3 / 10)), abs=1e-6)
    assert plane_errors(tilted, truth, (1.5, 1.0, 1.0))["plane_offset_vox"] == pytest.approx(
        plane_errors(tilted, truth)["plane_offset_vox"]
    )  # the offset stays in voxels


def test_volumes_whose_true_landmarks_are_collinear_have_no_plane_error():
    line = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [2, 0, 0]]])  # e.g. three vertebrae
    plane = torch.tensor([[[0.0, 0, 0], [0, 10, 0], [0, 0, 10]]])
    found = torch.cat([line + 0.5, plane])
    out = plane_errors(found, torch.cat([line, plane]))
    assert out == {"plane_angle_deg": 0.0, "plane_offset_vox": 0.0}  # the plane volume only
    assert plane_errors(line + 0.5, line) == {}  # no plane anywhere: no NaN, no figure


class _Oracle(torch.nn.Module):
    """Q = -distance after each action, from the positions alone (a known-good policy)."""

    def __init__(self, targets):
        super().__init__()
        self.targets = targets
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, obs):
        pos = obs[1][..., :3] * 15  # the state's position part
        moves = torch.tensor([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
        after = pos[:, :, None, :] + moves
        return -self.scale * (after - self.targets[: pos.shape[0], :, None]).norm(dim=-1)


def test_greedy_localisation_reaches_the_target_with_a_good_q_function():
    # No 'stay' action: at its target an agent steps off and back, so the targets are an
    # even number of moves away and the episode an even number of steps long.
    targets = torch.tensor([[[3.0, 12.0, 7.0], [10.0, 2.0, 8.0]]])
    s = DqnSettings(episode_steps=30, coarse_step=1, patch=3)
    found = localise(
        _Oracle(targets),
        torch.zeros(1, 16, 16, 16),
        targets,
        s,
        torch.tensor([[[8, 8, 8], [8, 8, 8]]]),
    )
    # Each agent stops when it oscillates between its landmark and a neighbour; the
    # estimate is the mean of that cycle: half a voxel off along one axis.
    off = (found - targets).abs()
    assert torch.allclose(off.sum(dim=-1), torch.full((1, 2), 0.5))
    assert random_starts(1, 2, 16, torch.Generator().manual_seed(1)).shape == (1, 2, 3)


def test_an_oscillating_agent_stops_and_does_not_drift_away():
    # A Q function that leads to the target and, once there, prefers to walk off in +d
    # for ever would end far off without the stop; the stop keeps it at the cycle.
    class Leaver(nn.Module):
        def __init__(self, oracle):
            super().__init__()
            self.oracle, self.calls = oracle, 0

        def forward(self, obs):
            self.calls += 1
            q = self.oracle(obs)
            if self.calls > 8:
                q[..., 0] += 100.0
            return q

    targets = torch.tensor([[[8.0, 10.0, 8.0]]])
    s = DqnSettings(episode_steps=20, coarse_step=1, patch=3)
    starts = torch.tensor([[[8, 4, 8]]])
    found = localise(Leaver(_Oracle(targets)), torch.zeros(1, 16, 16, 16), targets, s, starts)
    assert float((found - targets).norm()) <= 0.5


def test_dqn_loop_is_deterministic_and_calls_its_hooks():
    volumes = torch.rand(2, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([[[2.0, 2.0, 2.0]], [[5.0, 5.0, 5.0]]])
    s = DqnSettings(rounds=2, updates=2, envs=2, episode_steps=3, patch=3, batch_size=4)

    def run():
        torch.manual_seed(123)  # only the seed below may matter
        net = torch.nn.Sequential(torch.nn.Flatten(2), torch.nn.Linear(27, 6))
        seen = []
        hist = train_dqn(
            lambda_net(net),
            volumes,
            targets,
            s,
            seed=3,
            on_round=lambda r, last: seen.append(r) and False,
            arch_step=lambda batch, loss: {"arch_loss": 1.0},
        )
        return hist, seen, net[1].weight.detach().clone()

    (h1, seen, w1), (h2, _, w2) = run(), run()
    assert seen == [0, 1] and len(h1) == 2 and h1 == h2 and torch.equal(w1, w2)
    assert h1[0]["epsilon"] == 1.0 and h1[0]["arch_loss"] == 1.0


def _tiny_loop(rounds, validate=None):
    volumes = torch.rand(2, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([[[2.0, 2.0, 2.0]], [[5.0, 5.0, 5.0]]])
    s = DqnSettings(rounds=rounds, updates=2, envs=2, episode_steps=3, patch=3, batch_size=4)
    net = torch.nn.Sequential(torch.nn.Flatten(2), torch.nn.Linear(27, 6))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net[1].reset_parameters()
    hist = train_dqn(lambda_net(net), volumes, targets, s, seed=3, validate=validate)
    return hist, net


def test_with_validation_the_loop_ends_with_the_best_rounds_weights():
    scores, seen = iter([3.0, 1.0, 2.0, 1.0]), []

    def validate(net):
        seen.append(net.inner[1].weight.detach().clone())
        return next(scores)

    hist, net = _tiny_loop(4, validate)
    # Round 1 scored best (round 3 ties it later: the earlier one stays).
    assert torch.equal(net[1].weight, seen[1]) and not torch.equal(seen[1], seen[3])
    assert [h["val"] for h in hist] == [3.0, 1.0, 2.0, 1.0]
    assert [h["best"] for h in hist] == [0.0, 1.0, 0.0, 0.0]
    # The same loop without validation keeps the last round's weights (same trajectory).
    last, plain = _tiny_loop(4)
    assert torch.equal(plain[1].weight, seen[3]) and "val" not in last[0]


class _Recorder(nn.Module):
    """Q = a learned bias; every forward records which copy ran it and its bias."""

    def __init__(self, log):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(6))
        self.record = log.append  # a builtin method: the target's deepcopy shares the log

    def forward(self, obs):
        self.record((id(self), float(self.bias.detach().sum())))
        return self.bias.expand(*obs[1].shape[:2], 6) + 0 * obs[0].sum()


@pytest.mark.parametrize(("every", "copies"), [(4, 2), (1, 8), (32, 1)])
def test_the_target_network_is_copied_every_target_every_updates(every, copies):
    volumes = torch.rand(2, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([[[2.0, 2.0, 2.0]], [[5.0, 5.0, 5.0]]])
    s = DqnSettings(rounds=1, updates=8, envs=2, episode_steps=3, patch=3, batch_size=4)
    log = []
    net = _Recorder(log)
    train_dqn(net, volumes, targets, dataclasses.replace(s, target_every=every), seed=0)
    # One target forward per update (Double DQN's online pick is the online net's).
    seen = [b for who, b in log if who != id(net)]
    assert len(seen) == 8 and len(dict.fromkeys(seen)) == copies


def test_the_default_target_period_is_a_benchmark_rounds_updates():
    from nasbench.strategies import create_strategy

    # 10 let the Q-values of some runs diverge (benchmarks/README.md, issue 22).
    assert DqnSettings().target_every == 32
    assert create_strategy("marl-gdas").config.target_every == 32


def test_the_validation_score_is_the_mean_greedy_distance_in_voxels():
    targets = torch.tensor([[[4.0, 8.0, 8.0], [8.0, 4.0, 8.0]]])
    s = DqnSettings(episode_steps=12, coarse_step=1, patch=3)
    starts = torch.tensor([[[8, 8, 8], [8, 8, 8]]])
    score = validation_score(torch.zeros(1, 16, 16, 16), targets, s, starts)
    assert score(_Oracle(targets)) <= 0.5  # walks there (and oscillates round it)

    class Plus(nn.Module):  # always +d: two steps from (4, 4, 4) end at (6, 4, 4)
        def forward(self, obs):
            q = torch.zeros(*obs[1].shape[:2], 6)
            q[..., 0] = 1.0
            return q

    targets = torch.tensor([[[6.0, 4.0, 4.0], [4.0, 4.0, 7.0]]])
    s = DqnSettings(episode_steps=2, coarse_step=1, patch=3)
    starts = torch.tensor([[[4, 4, 4], [4, 4, 4]]])
    score = validation_score(torch.zeros(1, 16, 16, 16), targets, s, starts)
    assert score(Plus()) == pytest.approx((0.0 + 13**0.5) / 2)
    with pytest.raises(ConfigError, match="at least one volume"):
        validation_score(torch.zeros(0, 16, 16, 16), targets[:0], s, starts[:0])


def test_the_start_curriculum_widens_from_the_landmark_to_the_central_box():
    from nasbench.evaluation.landmark_env import curriculum_radius, near_starts

    assert [curriculum_radius(r, 4, 0.75, 32) for r in range(4)] == [2, 4, 6, None]
    assert [curriculum_radius(r, 4, 0.0, 32) for r in range(4)] == [None] * 4
    with pytest.raises(ConfigError, match="fraction of the rounds"):
        curriculum_radius(0, 4, 1.5, 32)
    g = torch.Generator().manual_seed(0)
    near = near_starts(torch.tensor([[[0.4, 7.0, 3.6]]]).repeat(50, 1, 1), 2, 8, g)
    assert int(near.min()) == 0 and int(near.max()) == 7  # clipped to the 8-voxel volume
    assert bool(((near - torch.tensor([0, 7, 4])).abs() <= 2).all())


def test_with_a_curriculum_the_first_episodes_start_next_to_the_landmark():
    volumes = torch.zeros(2, 16, 16, 16)
    targets = torch.tensor([[[3.0, 12.0, 5.0]]]).repeat(2, 1, 1)  # outside the central box
    seen = []

    class Recorder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                self.f = torch.nn.Linear(3, 6)

        def forward(self, obs):
            seen.append(obs[1][..., :3].detach() * 15)  # the positions, in voxels
            return self.f(obs[1][..., :3])

    def run(curriculum):
        seen.clear()
        s = DqnSettings(rounds=3, updates=1, envs=2, episode_steps=2, patch=3, batch_size=2,
                        coarse_step=1, curriculum=curriculum)  # fmt: skip
        history = train_dqn(Recorder(), volumes, targets, s, seed=0)
        return history, seen[0].round()

    history, first = run(1.0)  # round 0: within 1 voxel of the landmark (16 / 4 / 4)
    assert bool(((first - targets).abs() <= 1).all())
    again, _ = run(1.0)
    assert again == history  # deterministic
    _, plain = run(0.0)  # the central box [4, 12]: never within 1 voxel of d = 3
    assert bool((plain[..., 0] >= 4).all())


def lambda_net(inner):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = inner

        def forward(self, obs):
            return self.inner(obs[0][:, :, 0])

    return Net()


class _PositionNet(torch.nn.Module):
    """Q from the agent's position alone: enough when the landmark never moves."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.f = torch.nn.Sequential(
            torch.nn.Linear(3, 64), torch.nn.ReLU(), torch.nn.Linear(64, 6)
        )

    def forward(self, obs):
        return self.f(obs[1][..., :3])


@pytest.mark.slow
def test_q_learning_learns_to_walk_to_a_fixed_landmark():
    volumes = torch.zeros(8, 16, 16, 16)
    targets = torch.tensor([[[4.0, 11.0, 6.0]]]).repeat(8, 1, 1)
    s = DqnSettings(rounds=30, updates=10, envs=4, episode_steps=12, coarse_step=2, patch=3,
                    batch_size=32, lr=3e-3)  # fmt: skip
    net = _PositionNet()
    history = train_dqn(net, volumes, targets, s, seed=0)
    starts = random_starts(8, 1, 16, torch.Generator().manual_seed(1))
    before = distance_errors(starts, targets, (1, 1, 1), ("a",))["dist_vox"]
    after = distance_errors(localise(net, volumes, targets, s, starts), targets, (1, 1, 1),
                            ("a",))["dist_vox"]  # fmt: skip
    assert after < 0.3 * before  # about 5.3 voxels -> under 1
    assert history[-1]["reward"] > 0


def test_the_optimal_action_reduces_the_distance_by_the_reward():
    env = LandmarkEnv(torch.zeros(1, 16, 16, 16), torch.tensor([[[3.0, 9.0, 12.0]]]), patch=3,
                      steps=(4,), max_steps=3)  # fmt: skip
    env.reset(torch.tensor([[[8, 8, 8]]]))
    # (axis, sign) of actions 0..5: +d -d +h -h +w -w, coordinates in (d, h, w) order.
    for action, better in ((1, True), (0, False), (4, True), (5, False)):
        env.reset(torch.tensor([[[8, 8, 8]]]))
        before = float(env.distances())
        _, reward, _ = env.step(torch.tensor([[action]]))
        after = float(env.distances())
        assert math.isclose(float(reward), before - after, abs_tol=1e-5)
        assert (after < before) == better


def _blob_volumes(n, seed, size=16):
    """One bright blob per volume at a random place; the landmark is its centre."""
    g = torch.Generator().manual_seed(seed)
    targets = torch.randint(3, size - 3, (n, 1, 3), generator=g).float()
    grid = torch.stack(torch.meshgrid(*[torch.arange(size).float()] * 3, indexing="ij"), -1)
    dist2 = ((grid[None] - targets[:, 0, None, None, None]) ** 2).sum(-1)
    return torch.exp(-dist2 / (2 * 1.5**2)), targets


@pytest.mark.slow
def test_patch_reading_agents_learn_to_walk_to_a_landmark_that_moves():
    # The landmark is somewhere else in every volume: the agent must read it off its
    # multi-scale patch. 120 updates; about 6 voxels at the start, about 2.4 after.
    from nasbench.models.marl_network import MarlNetwork

    train_v, train_t = _blob_volumes(16, 0)
    test_v, test_t = _blob_volumes(16, 1)
    s = DqnSettings(rounds=8, updates=15, envs=16, episode_steps=12, coarse_step=2, patch=7,
                    batch_size=16, lr=3e-3)  # fmt: skip
    net = MarlNetwork.hand_designed(1, n_nodes=1, channels=2, shared=(1, 1), own=(0, 0),
                                    patch=7, seed=0)  # fmt: skip
    history = train_dqn(net, train_v, train_t, s, seed=0)
    starts = random_starts(16, 1, 16, torch.Generator().manual_seed(1))
    before = distance_errors(starts, test_t, (1, 1, 1), ("a",))["dist_vox"]
    found = localise(net, test_v, test_t, s, starts)
    after = distance_errors(found, test_t, (1, 1, 1), ("a",))["dist_vox"]
    assert after < 0.6 * before
    assert history[-1]["reward"] > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"targets": [[[4.0, 4.0]]]}, r"targets \(E, K, 3\); got .* \(1, 1, 2\)"),
        ({"targets": [[[4.0, 9.0, 4.0]]]}, r"inside the volume \(0 to 7\)"),
        ({"targets": [[[4.0, float("nan"), 4.0]]]}, "finite voxel coordinates"),
        ({"steps": ()}, "steps must be one or more step sizes >= 1"),
        ({"max_steps": 0}, "max_steps must be at least 1 action, got 0"),
    ],
)
def test_an_environment_that_could_not_run_is_one_line(change, message):
    # Lesson 13 builds it directly: these escaped as IndexError / ZeroDivisionError, and a
    # NaN or outside target gave NaN distances.
    settings = {"targets": [[[4.0, 4.0, 4.0]]], **change}
    with pytest.raises(ConfigError, match=message) as err:
        _env(**settings)
    assert "\n" not in str(err.value)


def test_an_action_outside_the_six_moves_is_one_line():
    env = _env([[[4.0, 4.0, 4.0]]])
    env.reset(torch.tensor([[[1, 1, 1]]]))
    for bad in (6, -1):  # -1 moved the agent by -w without a word
        with pytest.raises(ConfigError, match=rf"move indices 0-5 .* got \[{bad}\]"):
            env.step(torch.tensor([[bad]]))
    assert env.positions.tolist() == [[[1, 1, 1]]] and env.t == 0

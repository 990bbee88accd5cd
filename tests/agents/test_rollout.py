"""The batched two-seat rollout: shapes, seeds, episode boundaries, self-play batching."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import socialdilemmas
from agents import CallablePolicy, Policy, as_policy, rollout
from agents.scripted import scripted_policy
from agents.scripted.generic import RandomPolicy


def test_the_package_attribute_rollout_stays_the_function_after_its_module_is_imported():
    """``agents`` imports its re-exports lazily; importing the submodule must not shadow them."""
    code = (
        "import agents.rollout\n"
        "from agents import Trajectory, rollout\n"
        "assert callable(rollout) and rollout is agents.rollout, rollout\n"
        "assert Trajectory.__module__ == 'agents.rollout'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_an_unknown_package_attribute_is_an_attribute_error():
    import agents

    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        agents.no_such_name  # noqa: B018


def scripted(name):
    """A fresh IPD scripted policy."""
    return scripted_policy(name, "ipd_v0")


def ipd(num_envs=8, max_cycles=5):
    return socialdilemmas.make_vec("ipd_v0", num_envs, max_cycles=max_cycles, copy=False)


class Recorder(Policy):
    """Remembers what it was shown, to check episode_starts and batch sizes."""

    def __init__(self):
        self.resets, self.starts, self.batch_sizes = [], [], []

    def reset(self, num_envs, seed=None):
        self.resets.append((num_envs, seed))

    def act(self, observations, episode_starts):
        self.starts.append(episode_starts.copy())
        self.batch_sizes.append(observations.shape[0])
        return np.zeros(observations.shape[0], dtype=np.int64)


def test_shapes_and_dtypes():
    traj = rollout(ipd(), [scripted("always_cooperate"), scripted("always_defect")], seed=0)
    assert traj.observations.shape == (5, 8, 2, 5) and traj.observations.dtype == torch.float32
    assert traj.actions.shape == (5, 8, 2) and traj.actions.dtype == torch.int64
    assert traj.rewards.shape == (5, 8, 2) and traj.log_probs.shape == (5, 8, 2)
    assert traj.dones.shape == traj.episode_starts.shape == (5, 8)
    assert traj.next_observations.shape == (8, 2, 5)
    assert torch.isnan(traj.log_probs).all()
    assert (traj.actions[..., 0] == 0).all() and (traj.actions[..., 1] == 1).all()
    assert (traj.rewards[..., 0] == -3).all() and (traj.rewards[..., 1] == 0).all()


def test_episode_boundaries_and_memory_reset_signal():
    seat0, seat1 = Recorder(), Recorder()
    traj = rollout(ipd(num_envs=3, max_cycles=4), [seat0, seat1], num_steps=10, seed=1)
    expected_starts = np.array([t % 4 == 0 for t in range(10)])
    np.testing.assert_array_equal(traj.episode_starts[:, 0].numpy(), expected_starts)
    np.testing.assert_array_equal(traj.dones[:, 0].numpy(), [t % 4 == 3 for t in range(10)])
    np.testing.assert_array_equal([s[0] for s in seat0.starts], expected_starts)
    # episodes restart at "start"; the last observation of an episode is its final one
    assert (traj.observations[expected_starts][..., 4] == 1).all()
    assert seat0.resets == [(3, seat0.resets[0][1])] and seat0.resets[0][1] is not None
    assert seat0.resets[0][1] != seat1.resets[0][1]


def test_next_observation_is_the_final_observation_when_the_episode_ended():
    env = ipd(num_envs=2, max_cycles=3)
    traj = rollout(env, [scripted("always_defect"), scripted("always_defect")], seed=0)
    assert traj.dones[-1].all()
    assert (traj.next_observations[..., 3] == 1).all()  # DD, not the next episode's start


def test_same_policy_in_both_seats_is_called_once_on_a_double_batch():
    recorder = Recorder()
    rollout(ipd(num_envs=3), [recorder, recorder], seed=0)
    assert recorder.resets == [(6, recorder.resets[0][1])]
    assert set(recorder.batch_sizes) == {6}


def test_tit_for_tat_results():
    tft = scripted("tit_for_tat")
    traj = rollout(ipd(max_cycles=50), [tft, scripted("always_defect")], seed=0)
    np.testing.assert_allclose(traj.rewards.mean((0, 1)).numpy(), [-2.02, -1.96])
    traj = rollout(ipd(max_cycles=50), [tft, tft], seed=0)
    np.testing.assert_allclose(traj.rewards.mean((0, 1)).numpy(), [-1.0, -1.0])


def test_seeded_rollouts_are_reproducible():
    env = ipd(num_envs=16)
    first = rollout(env, [RandomPolicy(env.single_action_space)] * 2, seed=3)
    second = rollout(env, [RandomPolicy(env.single_action_space)] * 2, seed=3)
    other = rollout(env, [RandomPolicy(env.single_action_space)] * 2, seed=4)
    assert torch.equal(first.actions, second.actions)
    assert not torch.equal(first.actions, other.actions)


def test_callable_and_wrong_policy_count():
    policy = as_policy(lambda obs: np.ones(len(obs), dtype=np.int64), name="defector")
    assert isinstance(policy, CallablePolicy) and policy.name == "defector"
    traj = rollout(ipd(), [policy, scripted("always_cooperate")], seed=0)
    assert (traj.actions[..., 0] == 1).all()
    with pytest.raises(ValueError, match="one policy per seat"):
        rollout(ipd(), [policy])
    with pytest.raises(TypeError, match="cannot use int as a policy"):
        as_policy(3)


def test_seat_view_swaps_seats():
    traj = rollout(ipd(), [scripted("always_cooperate"), scripted("always_defect")], seed=0)
    swapped = traj.seat(1)
    assert torch.equal(swapped.rewards[..., 0], traj.rewards[..., 1])
    assert torch.equal(swapped.actions[..., 1], traj.actions[..., 0])

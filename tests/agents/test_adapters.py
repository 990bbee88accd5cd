"""Torch modules and SB3 models as policies: output formats, sampling, seeds, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents import as_policy
from agents.adapters import SB3Policy, TorchModulePolicy
from agents.evaluation import match


class Fixed(torch.nn.Module):
    """Returns the same scores for every observation, whatever it is."""

    def __init__(self, scores):
        super().__init__()
        self.scores = scores

    def forward(self, obs):
        if isinstance(self.scores, (list, tuple)):
            return [s.expand(len(obs), -1) for s in self.scores]
        return self.scores.expand(len(obs), *self.scores.shape[1:])


STARTS = np.zeros(4000, dtype=bool)
OBS = np.zeros((4000, 5), dtype=np.float32)


def test_discrete_logits_are_sampled_with_their_probabilities_or_argmaxed():
    logits = torch.log(torch.tensor([[0.2, 0.8]]))
    policy = as_policy(Fixed(logits))
    assert isinstance(policy, TorchModulePolicy) and policy.name == "Fixed"
    policy.reset(4000, seed=0)
    actions, log_probs = policy.act_with_log_probs(OBS, STARTS)
    assert actions.dtype == np.int64 and actions.shape == (4000,)
    assert abs(actions.mean() - 0.8) < 0.03
    np.testing.assert_allclose(log_probs, np.log(np.where(actions == 1, 0.8, 0.2)), rtol=1e-5)
    policy.reset(4000, seed=0)
    np.testing.assert_array_equal(policy.act(OBS, STARTS), actions)  # same seed, same draws
    greedy = TorchModulePolicy(Fixed(logits), deterministic=True)
    assert (greedy.act(OBS, STARTS) == 1).all()


@pytest.mark.parametrize(
    "output",
    [
        "list",  # one (n, 6) tensor per component
        "flat",  # (n, 18), split by nvec
        "stacked",  # (n, 3, 6)
    ],
)
def test_multidiscrete_per_component_logits(output):
    space = spaces.MultiDiscrete([6, 6, 6])
    favourite = torch.full((3, 6), -30.0)
    favourite[0, 5] = favourite[1, 0] = favourite[2, 3] = 0.0
    scores = {
        "list": [row[None] for row in favourite],
        "flat": favourite.reshape(1, 18),
        "stacked": favourite[None],
    }[output]
    policy = TorchModulePolicy(Fixed(scores), action_space=space)
    policy.reset(10, seed=1)
    actions, log_probs = policy.act_with_log_probs(np.zeros((10, 15), np.float32), STARTS[:10])
    assert actions.shape == (10, 3) and (actions == [5, 0, 3]).all()
    np.testing.assert_allclose(log_probs, 0.0, atol=1e-6)


def test_box_actions_are_clipped_to_the_space():
    space = spaces.Box(0.0, 5.0, (3,))
    policy = as_policy(Fixed(torch.tensor([[-1.0, 2.5, 9.0]])), action_space=space)
    actions = policy.act(np.zeros((2, 15), np.float32), STARTS[:2])
    np.testing.assert_array_equal(actions, [[0.0, 2.5, 5.0]] * 2)


def test_wrong_module_outputs_are_explained():
    space = spaces.MultiDiscrete([6, 6, 6])
    with pytest.raises(ValueError, match=r"returned shape \(3, 7\), expected logits of shape"):
        TorchModulePolicy(Fixed(torch.zeros(1, 7)), spaces.Discrete(2)).act(OBS[:3], STARTS[:3])
    with pytest.raises(ValueError, match="per-component logits"):
        TorchModulePolicy(Fixed(torch.zeros(1, 5)), space).act(OBS[:3], STARTS[:3])
    with pytest.raises(TypeError, match="must return float scores"):
        TorchModulePolicy(Fixed(torch.zeros(1, 2, dtype=torch.int64))).act(OBS[:3], STARTS[:3])
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        TorchModulePolicy(lambda obs: obs)


def test_a_torch_module_plays_a_match_through_as_policy():
    net = torch.nn.Sequential(torch.nn.Linear(5, 2))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.copy_(torch.tensor([0.0, 50.0]))  # always defect
    result = match(net, lambda obs: np.zeros(len(obs), np.int64), "ipd_v0", episodes=2)
    assert result.rewards == (0.0, -3.0)


def test_sb3_model_predict_is_wrapped_with_recurrent_state_and_reproducible_sampling():
    class Recurrent:
        """Stands in for a recurrent SB3 model: counts steps per game in its state."""

        policy = object()

        def __init__(self):
            self.calls = []

        def predict(self, obs, state=None, episode_start=None, deterministic=False):
            state = np.zeros(len(obs)) if state is None else state
            state = np.where(episode_start, 0, state + 1)
            self.calls.append((state.copy(), deterministic))
            return (torch.rand(len(obs)) < 0.5).numpy().astype(np.int64), state

    model = Recurrent()
    policy = as_policy(model, name="rnn")
    assert isinstance(policy, SB3Policy) and policy.name == "rnn"
    starts = [np.ones(3, bool), np.zeros(3, bool)]
    policy.reset(3, seed=0)
    first = [policy.act(OBS[:3], s) for s in starts]
    np.testing.assert_array_equal(model.calls[1][0], [1, 1, 1])
    policy.act(OBS[:3], np.array([False, True, False]))
    np.testing.assert_array_equal(model.calls[2][0], [2, 0, 2])
    torch.manual_seed(123)
    outside = torch.rand(1)
    policy.reset(3, seed=0)
    again = [policy.act(OBS[:3], s) for s in starts]
    torch.manual_seed(123)
    assert torch.equal(torch.rand(1), outside)  # the caller's torch generator is untouched
    np.testing.assert_array_equal(first, again)

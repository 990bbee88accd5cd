"""Returns, TD errors and GAE against hand-computed three-step cases."""

from __future__ import annotations

import pytest
import torch

from agents.algorithms.core.returns import discounted_returns, gae, td_errors

GAMMA, LAM = 0.5, 0.5


def column(*values):
    return torch.tensor(values, dtype=torch.float32).unsqueeze(1)  # (T, B=1)


def test_discounted_returns_hand_computed():
    rewards = column(1.0, 2.0, 4.0)
    dones = column(0, 0, 1).bool()
    # G2 = 4, G1 = 2 + 0.5 * 4 = 4, G0 = 1 + 0.5 * 4 = 3
    assert discounted_returns(rewards, GAMMA, dones).squeeze(1).tolist() == [3.0, 4.0, 4.0]


def test_returns_restart_at_episode_ends():
    rewards = column(1.0, 2.0, 4.0)
    dones = column(1, 0, 0).bool()  # the first step ends an episode, the next one runs on
    # G2 = 4, G1 = 2 + 0.5 * 4 = 4, G0 = 1 (nothing carried across the end)
    assert discounted_returns(rewards, GAMMA, dones).squeeze(1).tolist() == [1.0, 4.0, 4.0]


# one three-step episode: rewards, values before each step, values after each step, ends
REWARDS = column(1.0, 2.0, 4.0)
VALUES = column(1.0, 2.0, 3.0)
NEXT_VALUES = column(2.0, 3.0, 10.0)
DONES = column(0, 0, 1).bool()


def test_td_errors_hand_computed():
    deltas = td_errors(REWARDS, VALUES, NEXT_VALUES, DONES, GAMMA)
    # 1 + 1 - 1 = 1; 2 + 1.5 - 2 = 1.5; 4 + 0 - 3 = 1 (terminal: 10 is not bootstrapped)
    assert deltas.squeeze(1).tolist() == [1.0, 1.5, 1.0]


def test_gae_hand_computed():
    advantages = gae(REWARDS, VALUES, NEXT_VALUES, DONES, GAMMA, LAM)
    # deltas 1, 1.5, 1; A2 = 1, A1 = 1.5 + 0.25 * 1 = 1.75, A0 = 1 + 0.25 * 1.75 = 1.4375
    assert advantages.squeeze(1).tolist() == [1.4375, 1.75, 1.0]


def test_gae_bootstraps_truncated_episodes_when_told():
    not_terminal = torch.zeros_like(DONES)
    advantages = gae(REWARDS, VALUES, NEXT_VALUES, DONES, GAMMA, LAM, terminals=not_terminal)
    # delta2 = 4 + 0.5 * 10 - 3 = 6; A1 = 1.5 + 0.25 * 6 = 3, A0 = 1 + 0.25 * 3 = 1.75
    assert advantages.squeeze(1).tolist() == [1.75, 3.0, 6.0]


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_gae_limits(lam):
    torch.manual_seed(0)
    rewards, values = torch.randn(7, 4), torch.randn(7, 4)
    next_values = torch.cat([values[1:], torch.zeros(1, 4)])
    dones = torch.zeros(7, 4, dtype=torch.bool)
    dones[-1] = True
    dones[2, 1] = True
    next_values[2, 1] = 0.0
    advantages = gae(rewards, values, next_values, dones, 0.9, lam)
    if lam == 0.0:
        expected = td_errors(rewards, values, next_values, dones, 0.9)
    else:
        expected = discounted_returns(rewards, 0.9, dones) - values
    torch.testing.assert_close(advantages, expected)


def test_batched_columns_are_independent():
    rewards = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    dones = torch.tensor([[0, 1], [0, 0], [1, 1]], dtype=torch.bool)
    returns = discounted_returns(rewards, GAMMA, dones)
    assert returns[:, 0].tolist() == [1.25, 0.5, 1.0]
    assert returns[:, 1].tolist() == [0.0, 1.5, 1.0]

"""The torch exact value of memory-one policies: the NumPy value, simulation, hand values.

Hand-derived values (IPD, LOLA convention CC -1, CD -3, DC 0, DD -2; gamma = 0.96; returns are
the normalised ``(1 - gamma) sum_t gamma^t r_t``):

- always-cooperate vs always-cooperate: CC every round, (-1, -1);
- always-defect vs always-defect: DD every round, (-2, -2);
- always-cooperate vs always-defect: CD every round, (-3, 0);
- tit-for-tat vs always-defect: CD in round 0, then DD forever:
  (1 - gamma)(-3) + gamma (-2) = -0.12 - 1.92 = -2.04 for tit-for-tat and
  (1 - gamma) 0 + gamma (-2) = -1.92 for always-defect;
- tit-for-tat vs tit-for-tat (and vs always-cooperate): CC forever, (-1, -1).

Policies are logits of P(action 0) in [CC, CD, DC, DD, start], own view; +-40 makes them
deterministic to 1e-17.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import socialdilemmas
from agents.algorithms.exact import ExactGame, from_meva_layout, to_meva_layout
from socialdilemmas.matrix.exact import average_rewards
from socialdilemmas.matrix.payoffs import PRESETS

torch.set_num_threads(1)
ON, OFF = 40.0, -40.0
ALLC = [ON] * 5
ALLD = [OFF] * 5
TFT = [ON, OFF, ON, OFF, ON]  # cooperate after the other cooperated, and at the start
HAND_VALUES = [
    (ALLC, ALLC, (-1.0, -1.0)),
    (ALLD, ALLD, (-2.0, -2.0)),
    (ALLC, ALLD, (-3.0, 0.0)),
    (ALLD, ALLC, (0.0, -3.0)),
    (TFT, ALLD, (-2.04, -1.92)),
    (ALLD, TFT, (-1.92, -2.04)),
    (TFT, TFT, (-1.0, -1.0)),
    (TFT, ALLC, (-1.0, -1.0)),
]


@pytest.mark.parametrize("x0, x1, expected", HAND_VALUES)
def test_hand_derived_ipd_values(x0, x1, expected):
    values = ExactGame("ipd").values(torch.tensor(x0), torch.tensor(x1))
    np.testing.assert_allclose(values.numpy(), expected, atol=1e-10)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_agrees_with_the_numpy_exact_value(preset):
    generator = torch.Generator().manual_seed(3)
    x0 = 2 * torch.randn(64, 5, generator=generator, dtype=torch.float64)
    x1 = 2 * torch.randn(64, 5, generator=generator, dtype=torch.float64)
    ours = ExactGame(preset, gamma=0.9).values(x0, x1).numpy()
    numpy = average_rewards(torch.sigmoid(x0).numpy(), torch.sigmoid(x1).numpy(), preset, 0.9)
    np.testing.assert_allclose(ours, numpy, rtol=0, atol=1e-10)


def test_batches_broadcast_and_a_custom_table_works():
    game = ExactGame(PRESETS["battle_of_sexes"].table())
    x0 = torch.randn(3, 1, 5, dtype=torch.float64)
    x1 = torch.randn(4, 5, dtype=torch.float64)
    values = game.values(x0, x1)
    assert values.shape == (3, 4, 2)
    np.testing.assert_allclose(values[2, 1].numpy(), game.values(x0[2, 0], x1[1]).numpy())
    assert game.name == "custom" and hash(game)


def test_seat_views_order_values_own_first():
    game = ExactGame("battle_of_sexes")
    x0, x1 = torch.randn(2, 8, 5, dtype=torch.float64)
    both = game.values(x0, x1)
    own, other = game.seat(1).values(x1, x0)
    torch.testing.assert_close(own, both[:, 1])
    torch.testing.assert_close(other, both[:, 0])
    with pytest.raises(ValueError, match="seat"):
        game.seat(2)


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan")])
def test_bad_gamma_is_rejected(bad):
    with pytest.raises(ValueError, match="gamma"):
        ExactGame("ipd", gamma=bad)


def test_unknown_preset_is_rejected():
    with pytest.raises(ValueError, match="unknown payoff preset"):
        ExactGame("ipd_typo")


@pytest.mark.parametrize(
    "env_id, preset", [("ipd_v0", "ipd"), ("matrix_game_v0", "battle_of_sexes")]
)
def test_agrees_with_long_simulated_episodes(env_id, preset):
    """4096 episodes of 300 rounds: the discounted sample mean is within 4 standard errors.

    The truncation at 300 rounds leaves out gamma^300 ~ 5e-6 of the weight; the standard error
    is about 0.01 here.
    """
    gamma, rounds, episodes = 0.96, 300, 4096
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, generator=generator, dtype=torch.float64)
    probabilities = torch.sigmoid(x).numpy()  # (seat, observation entry)
    env = socialdilemmas.make_vec(env_id, episodes, seed=0, max_cycles=rounds, payoffs=preset)
    observations, _ = env.reset()
    rng = np.random.default_rng(1)
    returns = np.zeros((episodes, 2))
    for t in range(rounds):
        entry = observations.argmax(-1)  # (episodes, 2): the observed state, own view
        p_action_0 = probabilities[[0, 1], entry]
        actions = (rng.random((episodes, 2)) >= p_action_0).astype(np.int64)
        observations, rewards, *_ = env.step(actions)
        returns += (1 - gamma) * gamma**t * rewards
    exact = ExactGame(preset, gamma).values(x[0], x[1]).numpy()
    sem = returns.std(0) / np.sqrt(episodes)
    assert np.all(np.abs(returns.mean(0) - exact) < 4 * sem + 1e-4), (returns.mean(0), exact, sem)


def test_gradients_match_finite_differences():
    game = ExactGame("ipd")
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(2, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda z: game.values(z[0], z[1]), (x,), eps=1e-6, atol=1e-7)
    torch.autograd.gradgradcheck(lambda z: game.values(z[0], z[1]), (x,), eps=1e-6, atol=1e-6)


def meva_style_value(pi_meva: np.ndarray, r1: np.ndarray, gamma: float) -> np.ndarray:
    """The MeVa code's convention written out: action 0 = D, states [start, DD, DC, CD, CC].

    ``pi_meva`` ``(2, 5)``: P(C) per state, each player's own view; player 2's DC and CD
    entries are swapped to index the joint state by player 1's view (``pi[1, (0,1,3,2,4)]``).
    ``r1`` is player 1's reward per joint state (DD, DC, CD, CC). Returns player 1's value.
    """
    p1, p2 = pi_meva[0], pi_meva[1, [0, 1, 3, 2, 4]]

    def joint(a, b):  # over (DD, DC, CD, CC), state index 2 * a1 + a2 with C = 1
        return np.stack([(1 - a) * (1 - b), (1 - a) * b, a * (1 - b), a * b], -1)

    start, transition = joint(p1[0], p2[0]), joint(p1[1:], p2[1:])
    per_state = np.linalg.solve(np.eye(4) - gamma * transition, r1)
    return (1 - gamma) * start @ per_state


def test_state_mapping_on_hand_built_policies():
    """Policies defined by what they do, built in each layout, give the same values.

    "Forgiver" cooperates only after it defected on a cooperator (DC), "sucker-avenger" only
    after it was exploited (CD); both defect at the start. These tell CD from DC and the start
    from the others, which tit-for-tat alone would not (it is a palindrome in both layouts).
    """
    forgiver_ours = torch.tensor([OFF, OFF, ON, OFF, OFF])  # [CC, CD, DC, DD, start]
    forgiver_meva = torch.tensor([OFF, OFF, ON, OFF, OFF])  # [start, DD, DC, CD, CC]
    avenger_ours = torch.tensor([OFF, ON, OFF, OFF, OFF])
    avenger_meva = torch.tensor([OFF, OFF, OFF, ON, OFF])
    opener_ours = torch.tensor([OFF, OFF, OFF, OFF, ON])  # cooperates at the start only
    opener_meva = torch.tensor([ON, OFF, OFF, OFF, OFF])
    torch.testing.assert_close(to_meva_layout(forgiver_ours), forgiver_meva)
    torch.testing.assert_close(to_meva_layout(avenger_ours), avenger_meva)
    torch.testing.assert_close(from_meva_layout(opener_meva), opener_ours)
    game = ExactGame("battle_of_sexes")  # asymmetric: a seat mix-up changes the numbers
    table = game.table()
    r1_meva = np.array([table[1, 1, 0], table[1, 0, 0], table[0, 1, 0], table[0, 0, 0]])
    generator = torch.Generator().manual_seed(2)
    pairs = [(opener_ours, avenger_ours), (avenger_ours, forgiver_ours)] + [
        tuple(torch.randn(2, 5, generator=generator, dtype=torch.float64)) for _ in range(5)
    ]
    for x0, x1 in pairs:
        ours = game.values(x0.double(), x1.double())[0].item()
        pi = torch.sigmoid(torch.stack([to_meva_layout(x0), to_meva_layout(x1)])).double()
        assert ours == pytest.approx(meva_style_value(pi.numpy(), r1_meva, 0.96), abs=1e-10)
    # the avenger against always-defect: both play action 1 from the start, (1, 1) forever
    assert game.values(avenger_ours.double(), torch.tensor(ALLD).double())[0].item() == (
        pytest.approx(2.0, abs=1e-10)
    )

"""Scripted strategies of the Negotiation Game and the rewards they earn.

Expected rewards per high-contrast round, by hand. Pool [1,1,1]; each item is worth 5 to one
player and 1 to the other, each way with probability 1/2; rewards are divided by 15.
Always-cooperate (AC) claims 5 of the items it values at 5 and 0 of the others; always-defect
(AD) claims 5 of everything. Per item:

* AC v AC: the high-value player claims 5, the other 0: the high-value player gets the item,
  5/15. Each player is the high-value one with probability 1/2: 2.5/15 per item, 7.5/15 = 0.5
  per round each.
* AD v AD: both claim 5, the item is split in half: 2.5/15 for the high-value player, 0.5/15
  for the other, so 1.5/15 per item on average and 4.5/15 = 0.3 per round each.
* AC v AD: on an item AC values at 5 both claim 5 and split it: AC 2.5/15, AD 0.5/15; on an
  item AD values at 5 only AD claims it: AD 5/15. Per item AC 1.25/15, AD 2.75/15; per round
  AC 3.75/15 = 0.25, AD 8.25/15 = 0.55.
* AD v AC: the mirror image, 0.55 and 0.25.

The best joint reward is 1.0 every round, so the welfare shares are 1.0, 0.6, 0.8, 0.8.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import socialdilemmas
from socialdilemmas import negotiation_v0
from socialdilemmas.negotiation import kernels, strategies

EXPECTED = {
    ("AC", "AC"): (0.5, 0.5),
    ("AC", "AD"): (0.25, 0.55),
    ("AD", "AC"): (0.55, 0.25),
    ("AD", "AD"): (0.3, 0.3),
}


def act(name: str, observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if name == "AC":
        return strategies.always_cooperate(observations, rng)
    return strategies.always_defect(observations, rng)


def observation(u_self, u_other, pool=(1, 1, 1)) -> np.ndarray:
    """An own-first observation at the start of an episode, built from the documented layout."""
    return (np.array([*pool, *u_self, 0, 0, 0, *u_other, 0, 0, 0]) / 10).astype(np.float32)


@pytest.mark.parametrize(("first", "second"), list(EXPECTED))
def test_expected_rewards_by_exact_enumeration(first, second):
    rng = np.random.default_rng(0)
    draws = [np.array(bits) * 4 + 1 for bits in itertools.product([0, 1], repeat=3)]
    assert len(draws) == 8
    env = negotiation_v0.parallel_env()
    total = np.zeros(2)
    for u0 in draws:
        u1 = 6 - u0
        env.reset(seed=0)
        env._state[0, kernels.UTILITY[0] : kernels.UTILITY[0] + 3] = u0
        env._state[0, kernels.UTILITY[1] : kernels.UTILITY[1] + 3] = u1
        actions = {
            "player_0": act(first, observation(u0, u1), rng),
            "player_1": act(second, observation(u1, u0), rng),
        }
        _, rewards, _, _, infos = env.step(actions)
        assert infos["player_0"]["max_welfare"] == pytest.approx(1.0)
        total += [rewards["player_0"], rewards["player_1"]]
    np.testing.assert_allclose(total / 8, EXPECTED[first, second], atol=1e-12)


@pytest.mark.parametrize(("first", "second"), list(EXPECTED))
@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_expected_rewards_by_simulation(first, second, continuous):
    num_envs, rounds = 2048, 50
    vec = socialdilemmas.make_vec(
        "negotiation_v0", num_envs, seed=1, max_cycles=rounds, continuous=continuous
    )
    rng = np.random.default_rng(1)
    observations, _ = vec.reset()
    rewards_sum = np.zeros(2)
    welfare_share = 0.0
    for _ in range(rounds):
        actions = np.stack(
            [act(first, observations[:, 0], rng), act(second, observations[:, 1], rng)], axis=1
        )
        observations, rewards, _, _, info = vec.step(actions)
        rewards_sum += rewards.mean(axis=0)
        welfare_share += (rewards.sum(axis=1) / info["max_welfare"]).mean()
    # standard error of a mean over 102400 rounds is below 0.001
    np.testing.assert_allclose(rewards_sum / rounds, EXPECTED[first, second], atol=0.005)
    assert welfare_share / rounds == pytest.approx(sum(EXPECTED[first, second]), abs=0.005)


def test_always_cooperate_claims():
    rng = np.random.default_rng(0)
    claims = strategies.always_cooperate(observation([5, 1, 5], [1, 5, 1]), rng)
    assert claims.dtype == np.int64
    np.testing.assert_array_equal(claims, [5, 0, 5])
    batch = np.stack([observation([1, 1, 5], [5, 5, 1]), observation([5, 5, 5], [1, 1, 1])])
    np.testing.assert_array_equal(strategies.always_cooperate(batch, rng), [[0, 0, 5], [5, 5, 5]])


def test_always_cooperate_breaks_ties_with_the_given_generator():
    obs = np.repeat(observation([10, 3, 2], [3, 10, 2], pool=(4, 4, 4))[None], 4000, axis=0)
    claims = strategies.always_cooperate(obs, np.random.default_rng(7))
    np.testing.assert_array_equal(claims[:, :2], [[5, 0]] * 4000)
    assert set(np.unique(claims[:, 2])) == {0, 5}
    assert abs((claims[:, 2] == 5).mean() - 0.5) < 0.04
    again = strategies.always_cooperate(obs, np.random.default_rng(7))
    np.testing.assert_array_equal(claims, again)


def test_always_defect_claims():
    np.testing.assert_array_equal(
        strategies.always_defect(np.zeros((2, 15), dtype=np.float32)), [[5, 5, 5]] * 2
    )
    np.testing.assert_array_equal(strategies.always_defect(np.zeros(15)), [5, 5, 5])


def test_observation_shape_is_checked():
    with pytest.raises(ValueError, match="shape"):
        strategies.always_defect(np.zeros((2, 14)))
    with pytest.raises(ValueError, match="shape"):
        strategies.tit_for_tat(np.zeros((2, 15)), np.zeros((3, 15)), np.random.default_rng())


def test_is_cooperative():
    mine, theirs = np.array([[5, 1, 5]]), np.array([[1, 5, 1]])
    assert strategies.is_cooperative([[5, 0, 5]], mine, theirs).tolist() == [True]
    assert strategies.is_cooperative([[0, 0, 0]], mine, theirs).tolist() == [True]
    assert strategies.is_cooperative([[5, 1, 5]], mine, theirs).tolist() == [False]
    assert strategies.is_cooperative([[5, 5, 5]], mine, theirs).tolist() == [False]
    assert strategies.is_cooperative([[5, 0.5, 5]], mine, theirs, tolerance=0.5).tolist() == [True]
    # an item valued equally may be claimed; an item the maker values more, too
    assert strategies.is_cooperative([[5, 5, 5]], [[5, 2, 5]], [[1, 2, 1]]).tolist() == [True]


def test_tit_for_tat_copies_the_last_proposal():
    """TFT against AD: cooperate in round 1, then defect, except right after a round in which
    AD valued every item at 5 (its claim-everything was then also AC's claim, so it counts as
    cooperative)."""
    num_envs, rounds = 512, 20
    vec = socialdilemmas.make_vec("negotiation_v0", num_envs, seed=3, max_cycles=rounds)
    rng = np.random.default_rng(3)
    observations, _ = vec.reset()
    previous = None
    for t in range(rounds):
        tft = strategies.tit_for_tat(
            observations[:, 0], None if previous is None else previous[:, 0], rng
        )
        cooperative = strategies.always_cooperate(observations[:, 0], np.random.default_rng(0))
        if t == 0:
            expected_coop = np.ones(num_envs, dtype=bool)
        else:
            expected_coop = (previous[:, 1, 3:6] > previous[:, 1, 9:12]).all(axis=1)
        np.testing.assert_array_equal(tft[expected_coop], cooperative[expected_coop])
        np.testing.assert_array_equal(tft[~expected_coop], 5)
        actions = np.stack([tft, strategies.always_defect(observations[:, 1])], axis=1)
        previous = observations
        observations, *_ = vec.step(actions)


def test_tit_for_tat_cooperates_with_cooperators_and_after_a_reset():
    vec = socialdilemmas.make_vec("negotiation_v0", 256, seed=4, max_cycles=3)
    rng = np.random.default_rng(4)
    observations, _ = vec.reset()
    previous = None
    for _ in range(7):  # crosses two automatic resets with stale previous observations
        actions = np.stack(
            [
                strategies.tit_for_tat(
                    observations[:, seat], None if previous is None else previous[:, seat], rng
                )
                for seat in range(2)
            ],
            axis=1,
        )
        previous = observations
        observations, rewards, _, _, info = vec.step(actions)
        np.testing.assert_allclose(rewards.sum(axis=1), info["max_welfare"])


def test_single_observation_in_single_claims_out():
    obs = observation([5, 1, 1], [1, 5, 5])
    rng = np.random.default_rng(0)
    assert strategies.tit_for_tat(obs, None, rng).shape == (3,)
    after_defection = obs.copy()
    after_defection[12:15] = 0.5  # the other player claimed 5 of everything
    np.testing.assert_array_equal(strategies.tit_for_tat(after_defection, obs, rng), [5, 5, 5])

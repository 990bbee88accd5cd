"""Scripted strategies do exactly what their definitions say, on hand-built observations.

Definitions: the game packages' ``strategies`` modules (Coin Game: LOQA's AC/AD, POLA's TFT;
Negotiation Game: AA's AC/AD and the TFT analogue); the IPD strategies read the memory-one
one-hot state.
"""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

import socialdilemmas
from agents.scripted import SCRIPTED_NAMES, scripted_policy, strategy_names
from agents.scripted.generic import RandomPolicy

IPD_STATES = np.eye(5, dtype=np.float32)  # CC, CD, DC, DD, start (own action first)
STARTS = np.zeros(5, dtype=bool)


# ---- matrix games -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("always_cooperate", [0, 0, 0, 0, 0]),
        ("always_defect", [1, 1, 1, 1, 1]),
        ("tit_for_tat", [0, 1, 0, 1, 0]),  # copies the opponent: it defected in CD and DD
    ],
)
@pytest.mark.parametrize("env_id", ["ipd_v0", "matrix_game_v0"])
def test_matrix_strategies_on_every_state(name, expected, env_id):
    policy = scripted_policy(name, env_id)
    policy.reset(5, seed=0)
    np.testing.assert_array_equal(policy.act(IPD_STATES, STARTS), expected)


def test_random_is_reproducible_from_the_reset_seed_and_covers_the_space():
    for space in [spaces.Discrete(2), spaces.MultiDiscrete([6, 6, 6]), spaces.Box(0, 5, (3,))]:
        policy = RandomPolicy(space)
        policy.reset(1000, seed=7)
        first = policy.act(np.zeros((1000, 5)), np.zeros(1000, bool))
        policy.reset(1000, seed=7)
        again = policy.act(np.zeros((1000, 5)), np.zeros(1000, bool))
        np.testing.assert_array_equal(first, again)
        assert all(space.contains(a.astype(space.dtype)) for a in first)
        assert len(np.unique(first)) > 1
    assert set(np.unique(first)) and first.min() >= 0 and first.max() <= 5


def test_registry_names_and_errors():
    assert strategy_names("ipd_v0") == list(SCRIPTED_NAMES)
    assert scripted_policy("random", "ipd_v0").action_space == spaces.Discrete(2)
    with pytest.raises(KeyError, match="no scripted strategy 'grim'"):
        scripted_policy("grim", "ipd_v0")
    with pytest.raises(KeyError, match="unknown env"):
        scripted_policy("always_defect", "chess_v0")


# ---- Coin Game ----------------------------------------------------------------------------------
def coin_obs(me, other, my_coin=None, their_coin=None, g=3):
    """One own-perspective observation: planes [me, other, my coin, other's coin]."""
    obs = np.zeros((4, g, g), dtype=np.float32)
    obs[0][me] = 1
    obs[1][other] = 1
    if my_coin is not None:
        obs[2][my_coin] = 1
    if their_coin is not None:
        obs[3][their_coin] = 1
    return obs


@pytest.fixture(scope="module")
def coin():
    return pytest.importorskip("socialdilemmas.coin_game.strategies")


def test_coin_always_defect_and_cooperate_moves(coin):
    # me (1,1), the other's coin right of me (1,2): AD steps right (0, distance 0); AC walks
    # away: down (2) or up (3) lead 2 away, while left leads to (1,0), only 1 away on the torus
    obs = coin_obs((1, 1), (0, 0), their_coin=(1, 2))[None]
    ad = scripted_policy("always_defect", "coin_game_v0")
    ac = scripted_policy("always_cooperate", "coin_game_v0")
    ad.reset(1, seed=0)
    ac.reset(1, seed=0)
    assert ad.act(obs, np.ones(1, bool)).tolist() == [0]
    moves = {int(ac.act(obs, np.zeros(1, bool))[0]) for _ in range(60)}
    assert moves == {2, 3}  # both moves 2 away, each chosen by the random tie-break
    # the same coin, now mine: AC steps onto it like AD
    mine = coin_obs((1, 1), (0, 0), my_coin=(1, 2))[None]
    assert ac.act(mine, np.zeros(1, bool)).tolist() == [0]


def test_coin_tie_breaks_are_reproducible_from_the_seed(coin):
    obs = np.repeat(coin_obs((0, 0), (2, 2), their_coin=(1, 1))[None], 64, axis=0)
    policy = scripted_policy("always_defect", "coin_game_v0")
    runs = []
    for seed in (3, 3, 4):
        policy.reset(64, seed=seed)
        runs.append(policy.act(obs, np.zeros(64, bool)))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    assert set(runs[0].tolist()) == {0, 2}  # right and down both lead 1 step from (1,1)


def test_coin_tit_for_tat_switches_on_the_sign_of_its_last_reward(coin):
    tft = scripted_policy("tit_for_tat", "coin_game_v0")
    tft.reset(2, seed=0)
    start = np.array([True, True])
    # game 0: my coin at (0,1), right of me. game 1: the other's coin at (2,0).
    step0 = np.stack(
        [coin_obs((0, 0), (2, 2), my_coin=(0, 1)), coin_obs((0, 0), (1, 1), their_coin=(2, 0))]
    )
    tft.act(step0, start)
    assert tft.strategy.defecting.tolist() == [False, False]
    # game 0: the other stepped onto my coin (reward -2): defect from now on.
    # game 1: I stepped onto the other's coin (reward +1): stay cooperative.
    step1 = np.stack(
        [coin_obs((1, 0), (0, 1), their_coin=(2, 2)), coin_obs((2, 0), (1, 2), my_coin=(0, 2))]
    )
    np.testing.assert_array_equal(tft.strategy.last_rewards(step0, step1), [-2.0, 1.0])
    actions = tft.act(step1, ~start)
    assert tft.strategy.defecting.tolist() == [True, False]
    # defecting in game 0 means moving toward the other's coin at (2,2) from (1,0): left or down
    assert actions[0] in (1, 2)
    # a step without pickups changes nothing
    step2 = np.stack(
        [coin_obs((2, 0), (0, 2), their_coin=(2, 2)), coin_obs((0, 0), (1, 2), my_coin=(0, 2))]
    )
    tft.act(step2, ~start)
    assert tft.strategy.defecting.tolist() == [True, False]
    # game 0: I take the other's coin (reward +1): back to cooperating
    step3 = np.stack(
        [coin_obs((2, 2), (0, 2), my_coin=(1, 1)), coin_obs((0, 0), (1, 2), my_coin=(0, 2))]
    )
    tft.act(step3, ~start)
    assert tft.strategy.defecting.tolist() == [False, False]
    # both on my coin at once: -2 + 1 < 0 -> defect; a new episode starts cooperating again
    step4 = np.stack(
        [coin_obs((1, 1), (1, 1), their_coin=(0, 0)), coin_obs((0, 0), (1, 2), my_coin=(0, 2))]
    )
    tft.act(step4, ~start)
    assert tft.strategy.defecting.tolist() == [True, False]
    tft.act(step4, np.array([True, False]))
    assert tft.strategy.defecting.tolist() == [False, False]


def test_coin_tit_for_tat_reads_the_true_rewards_off_consecutive_observations(coin):
    """Its reward reconstruction agrees with the env's rewards over random play."""
    env = socialdilemmas.make_vec("coin_game_v0", 64, seed=1)
    tft = scripted_policy("tit_for_tat", "coin_game_v0")
    obs, _ = env.reset()
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(60):
        new_obs, rewards, _, truncated, info = env.step(rng.integers(0, 4, (64, 2)))
        final = np.where(truncated[:, None, None, None, None], info["final_observation"], new_obs)
        for seat in (0, 1):
            np.testing.assert_array_equal(
                tft.strategy.last_rewards(obs[:, seat], final[:, seat]), rewards[:, seat]
            )
        checked += int((rewards != 0).sum())
        obs = new_obs
    assert checked > 100


def test_coin_strategies_need_the_single_coin_rules(coin):
    with pytest.raises(ValueError, match="single-coin rules"):
        scripted_policy("always_defect", "coin_game_v0", rules="pax")
    with pytest.raises(ValueError, match="egocentric=False"):
        scripted_policy("tit_for_tat", "coin_game_v0", egocentric=True)
    assert scripted_policy("random", "coin_game_v0", rules="pax").action_space.n == 5


# ---- Negotiation Game ---------------------------------------------------------------------------
def negotiation_obs(mine, theirs, my_claims=(0, 0, 0), their_claims=(0, 0, 0)):
    """Own-first observation: [pool, my values, my last claims, their values, their claims]/10."""
    return np.array([1, 1, 1, *mine, *my_claims, *theirs, *their_claims], dtype=np.float32) / 10


@pytest.fixture(scope="module")
def negotiation():
    return pytest.importorskip("socialdilemmas.negotiation.strategies")


def test_negotiation_always_cooperate_and_defect(negotiation):
    obs = np.stack([negotiation_obs((5, 1, 5), (1, 5, 1)), negotiation_obs((1, 5, 3), (5, 1, 3))])
    ac = scripted_policy("always_cooperate", "negotiation_v0")
    ad = scripted_policy("always_defect", "negotiation_v0")
    ac.reset(2, seed=0)
    ad.reset(2, seed=0)
    claims = [ac.act(obs, np.zeros(2, bool)) for _ in range(40)]
    for c in claims:
        assert c[0].tolist() == [5, 0, 5]
        assert c[1, :2].tolist() == [0, 5]
    assert {int(c[1, 2]) for c in claims} == {0, 5}  # the tie is a coin flip
    assert ad.act(obs, np.zeros(2, bool)).tolist() == [[5, 5, 5]] * 2


def test_negotiation_tit_for_tat_answers_the_last_proposal(negotiation):
    tft = scripted_policy("tit_for_tat", "negotiation_v0")
    tft.reset(1, seed=0)
    round1 = negotiation_obs((5, 1, 5), (1, 5, 1))[None]
    assert tft.act(round1, np.ones(1, bool)).tolist() == [[5, 0, 5]]
    # the other claimed item 0, which is worth 5 to me and 1 to it: defect
    round2 = negotiation_obs((1, 5, 1), (5, 1, 5), (5, 0, 5), (5, 5, 5))[None]
    assert tft.act(round2, np.zeros(1, bool)).tolist() == [[5, 5, 5]]
    # it claimed only what it values more (under round 2's values): cooperate again
    round3 = negotiation_obs((5, 5, 1), (1, 1, 5), (5, 5, 5), (5, 0, 5))[None]
    assert tft.act(round3, np.zeros(1, bool)).tolist() == [[5, 5, 0]]


def test_negotiation_continuous_game_accepts_the_same_strategies(negotiation):
    ad = scripted_policy("always_defect", "negotiation_v0", continuous=True)
    rnd = scripted_policy("random", "negotiation_v0", continuous=True)
    assert isinstance(rnd.action_space, spaces.Box)
    assert ad.act(negotiation_obs((5, 1, 5), (1, 5, 1))[None], np.ones(1, bool)).tolist() == [
        [5, 5, 5]
    ]

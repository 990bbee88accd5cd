"""LOQA's always-cooperate / always-defect move rules on hand-built and played observations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import socialdilemmas
from socialdilemmas.coin_game.strategies import always_cooperate, always_defect, move_distances

RIGHT, LEFT, DOWN, UP = 0, 1, 2, 3


def observation(g, me, other, coin, own):
    """One own-perspective observation ``(4, g, g)``."""
    obs = np.zeros((4, g, g), dtype=np.float32)
    obs[0][me] = 1
    obs[1][other] = 1
    obs[2 if own else 3][coin] = 1
    return obs


def moves(strategy, obs, n_draws=400, seed=0):
    """The set of moves ``strategy`` picks for one observation over many tie-breaks."""
    batch = np.repeat(obs[None], n_draws, axis=0)
    return set(strategy(batch, np.random.default_rng(seed)).tolist())


# (grid, me, coin, AD's moves, AC's moves when the coin is the other's)
CASES = [
    (3, (1, 1), (1, 2), {RIGHT}, {DOWN, UP}),
    (3, (1, 1), (0, 1), {UP}, {RIGHT, LEFT}),
    (3, (1, 1), (2, 2), {RIGHT, DOWN}, {LEFT, UP}),
    (3, (0, 0), (2, 0), {UP}, {RIGHT, LEFT}),  # wrap-around: up from row 0 reaches row 2
    (5, (2, 2), (2, 4), {RIGHT}, {DOWN, UP}),  # away: a vertical step adds 1 and keeps 2
    (5, (0, 0), (0, 3), {LEFT}, {DOWN, UP}),  # two steps left across the edge beat three right
    (4, (0, 0), (2, 2), {RIGHT, LEFT, DOWN, UP}, {RIGHT, LEFT, DOWN, UP}),  # all equal
]


@pytest.mark.parametrize("g, me, coin, ad_moves, ac_away", CASES)
def test_hand_built_observations(g, me, coin, ad_moves, ac_away):
    for own in (True, False):
        obs = observation(g, me, (g - 1, g - 1), coin, own)
        assert moves(always_defect, obs) == ad_moves
        assert moves(always_cooperate, obs) == (ad_moves if own else ac_away)


def test_distances():
    obs = observation(5, (0, 0), (1, 1), (0, 3), own=False)
    distances, own = move_distances(obs[None])
    # right -> (0,1): 2; left -> (0,4): 1; down -> (1,0): 1 + 2; up -> (4,0): 1 + 2
    assert distances.tolist() == [[2, 1, 3, 3]]
    assert own.tolist() == [False]


def test_ties_are_broken_uniformly():
    obs = observation(3, (1, 1), (0, 0), (2, 2), own=True)  # right and down tie
    n = 8000
    picks = always_defect(np.repeat(obs[None], n, axis=0), np.random.default_rng(3))
    counts = np.bincount(picks, minlength=4)
    assert counts[LEFT] == counts[UP] == 0
    assert abs(counts[RIGHT] - n / 2) < 5 * np.sqrt(n / 4)


def test_reproducible_from_seed_and_from_uniforms():
    rng = np.random.default_rng(11)
    obs = np.stack(
        [
            observation(3, tuple(rng.integers(0, 3, 2)), (0, 0), (1, 1), own=bool(k % 2))
            for k in range(50)
        ]
    )
    obs = obs[[k for k in range(50) if obs[k, 0, 1, 1] == 0]]  # me off the coin's cell
    a = always_cooperate(obs, np.random.default_rng(5))
    b = always_cooperate(obs, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    uniforms = np.random.default_rng(5).random((len(obs), 4))
    np.testing.assert_array_equal(always_cooperate(obs, uniforms), a)
    assert a.dtype == np.int64


def test_egocentric_observations_give_the_same_moves():
    vec = socialdilemmas.make_vec("coin_game_v0", 64, seed=0, grid_size=5)
    ego = socialdilemmas.make_vec("coin_game_v0", 64, seed=0, grid_size=5, egocentric=True)
    obs, _ = vec.reset()
    ego_obs, _ = ego.reset()
    for seat in range(2):
        u = np.random.default_rng(seat).random((64, 4))
        for strategy in (always_defect, always_cooperate):
            np.testing.assert_array_equal(strategy(obs[:, seat], u), strategy(ego_obs[:, seat], u))


def test_ad_against_ad_grabs_every_coin_and_ac_never_steals():
    """Played on the env: AD moves strictly closer each step and AC never takes the other's coin."""
    n, steps = 256, 50
    vec = socialdilemmas.make_vec("coin_game_v0", n, seed=1, max_cycles=steps)
    obs, _ = vec.reset()
    rng = np.random.default_rng(0)
    stolen = np.zeros(2, dtype=np.int64)
    own = np.zeros(2, dtype=np.int64)
    for _ in range(steps):
        actions = np.stack(
            [always_cooperate(obs[:, 0], rng), always_defect(obs[:, 1], rng)], axis=1
        )
        obs, rewards, _, _, info = vec.step(actions)
        stolen += info["pickups"][:, [0, 1], [1, 0]].sum(axis=0)
        own += info["pickups"][:, [0, 1], [0, 1]].sum(axis=0)
    assert stolen[0] == 0, "always-cooperate never collects the other player's coin"
    assert stolen[1] > 0 and own[1] > 0 and own[0] > 0


@pytest.mark.parametrize(
    "obs, match",
    [
        (np.zeros((2, 4, 3)), r"shape \(n, 4, g, g\)"),
        (np.zeros((2, 3, 3, 3)), r"shape \(n, 4, g, g\)"),
        (np.zeros((1, 4, 3, 3)), "exactly one 'me'"),
    ],
)
def test_bad_observations(obs, match):
    with pytest.raises(ValueError, match=match):
        always_defect(obs, np.random.default_rng(0))


def test_two_coin_observations_are_rejected():
    obs = observation(3, (0, 0), (1, 1), (2, 2), own=True)
    obs[3, 2, 1] = 1
    with pytest.raises(ValueError, match="single-coin rules"):
        always_cooperate(obs[None], np.random.default_rng(0))


@pytest.mark.parametrize(
    "uniforms, match",
    [
        (np.zeros((2, 4)), r"shape \(1, 4\)"),
        (np.full((1, 4), 1.0), r"in \[0, 1\)"),
        (np.zeros((1, 4), dtype=np.int64), r"floats in \[0, 1\)"),
    ],
)
def test_bad_uniforms(uniforms, match):
    obs = observation(3, (0, 0), (1, 1), (2, 2), own=True)
    with pytest.raises(ValueError, match=match):
        always_defect(obs[None], uniforms)


def test_every_position_on_a_small_board():
    """Brute force on 3x3: AD's move always reduces the distance; AC's (other's coin) never does."""
    g = 3
    cells = list(itertools.product(range(g), repeat=2))
    for me, coin in itertools.product(cells, cells):
        if me == coin:
            continue
        for own in (True, False):
            obs = observation(g, me, (0, 0), coin, own)[None]
            distances, _ = move_distances(obs)
            d_here = sum(min(abs(a - b), g - abs(a - b)) for a, b in zip(me, coin, strict=True))
            ad = always_defect(obs, np.random.default_rng(0))[0]
            ac = always_cooperate(obs, np.random.default_rng(0))[0]
            assert distances[0, ad] == d_here - 1
            if own:
                assert distances[0, ac] == d_here - 1
            else:
                assert distances[0, ac] == distances[0].max() >= d_here

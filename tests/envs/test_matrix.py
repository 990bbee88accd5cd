"""The iterated 2x2 games: payoff tables (each preset's source paper), observations, episode
ends, exact values and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import socialdilemmas
from socialdilemmas import ipd_v0, matrix_game_v0
from socialdilemmas.matrix.exact import average_rewards, exact_values, from_agent1_view
from socialdilemmas.matrix.payoffs import PRESETS

# (payoffs, action of player_0, action of player_1, expected (r0, r1)); C = 0, D = 1
ONE_STEP_VECTORS = [
    ("ipd", 0, 0, (-1, -1)),
    ("ipd", 0, 1, (-3, 0)),
    ("ipd", 1, 0, (0, -3)),
    ("ipd", 1, 1, (-2, -2)),
    # PAX test table [[2,2],[0,3],[3,0],[1,1]] as a custom table
    ([[[2, 2], [0, 3]], [[3, 0], [1, 1]]], 0, 0, (2, 2)),
    ([[[2, 2], [0, 3]], [[3, 0], [1, 1]]], 1, 0, (3, 0)),
    ([[[2, 2], [0, 3]], [[3, 0], [1, 1]]], 0, 1, (0, 3)),
    ([[[2, 2], [0, 3]], [[3, 0], [1, 1]]], 1, 1, (1, 1)),
    ("stag_hunt", 0, 0, (4, 4)),
    ("stag_hunt", 1, 0, (3, 1)),
    ("stag_hunt", 0, 1, (1, 3)),
    ("stag_hunt", 1, 1, (2, 2)),
    ("chicken", 0, 0, (0, 0)),
    ("chicken", 1, 0, (1, -1)),
    ("chicken", 0, 1, (-1, 1)),
    ("chicken", 1, 1, (-2, -2)),
    ("chicken_meva", 0, 0, (0, 0)),
    ("chicken_meva", 1, 0, (1, -1)),
    ("chicken_meva", 0, 1, (-1, 1)),
    ("chicken_meva", 1, 1, (-100, -100)),
    ("ipd_pola", 0, 0, (0.33, 0.33)),
    ("ipd_pola", 1, 0, (0.665, -0.335)),
    ("ipd_pola", 0, 1, (-0.335, 0.665)),
    ("ipd_pola", 1, 1, (0, 0)),
    ("ipd_3051", 0, 0, (3, 3)),
    ("ipd_3051", 0, 1, (0, 5)),
    ("ipd_3051", 1, 0, (5, 0)),
    ("ipd_3051", 1, 1, (1, 1)),
    ("matching_pennies", 0, 0, (1, -1)),
    ("matching_pennies", 0, 1, (-1, 1)),
    ("matching_pennies", 1, 1, (1, -1)),
    ("battle_of_sexes", 0, 0, (3, 2)),
    ("battle_of_sexes", 1, 1, (2, 3)),
    ("battle_of_sexes", 0, 1, (0, 0)),
]


@pytest.mark.parametrize("payoffs,a0,a1,expected", ONE_STEP_VECTORS)
def test_one_step_rewards(payoffs, a0, a1, expected):
    env = matrix_game_v0.parallel_env(payoffs=payoffs)
    env.reset(seed=0)
    _, rewards, _, _, _ = env.step({"player_0": a0, "player_1": a1})
    assert rewards["player_0"] == pytest.approx(expected[0], abs=1e-12)
    assert rewards["player_1"] == pytest.approx(expected[1], abs=1e-12)
    vec = socialdilemmas.make_vec("matrix_game_v0", 3, seed=0, payoffs=payoffs)
    vec.reset()
    _, vec_rewards, _, _, _ = vec.step(np.tile([a0, a1], (3, 1)))
    np.testing.assert_allclose(vec_rewards, np.tile(expected, (3, 1)), atol=1e-12)


@pytest.mark.parametrize(
    "a0,a1,seen_by_0,seen_by_1",
    [(0, 0, 0, 0), (0, 1, 1, 2), (1, 0, 2, 1), (1, 1, 3, 3)],
)
def test_observation_is_own_perspective_one_hot(a0, a1, seen_by_0, seen_by_1):
    env = ipd_v0.parallel_env()
    observations, _ = env.reset(seed=0)
    for agent in env.agents:
        np.testing.assert_array_equal(observations[agent], [0, 0, 0, 0, 1])
    observations, *_ = env.step({"player_0": a0, "player_1": a1})
    np.testing.assert_array_equal(observations["player_0"], np.eye(5)[seen_by_0])
    np.testing.assert_array_equal(observations["player_1"], np.eye(5)[seen_by_1])
    assert observations["player_0"].dtype == np.float32


def test_truncation_only_at_max_cycles_and_autoreset():
    env = ipd_v0.parallel_env(max_cycles=3)
    env.reset(seed=0)
    for step in range(3):
        _, _, terminations, truncations, _ = env.step({"player_0": 0, "player_1": 0})
        assert not any(terminations.values())
        assert all(truncations.values()) == (step == 2)
    assert env.agents == []
    vec = socialdilemmas.make_vec("ipd_v0", 2, max_cycles=3, seed=0)
    vec.reset()
    for step in range(3):
        obs, _, terms, truncs, info = vec.step(np.ones((2, 2), dtype=np.int64))
        assert not terms.any()
        assert truncs.all() == (step == 2)
    np.testing.assert_array_equal(obs[:, :, 4], 1)  # next episode starts at "start"
    np.testing.assert_array_equal(info["final_observation"][:, :, 3], 1)  # last was DD


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=30),
    st.sampled_from(sorted(PRESETS)),
)
def test_rewards_and_observations_follow_the_table(joint_actions, preset):
    table = PRESETS[preset].table()
    env = matrix_game_v0.parallel_env(payoffs=preset, max_cycles=len(joint_actions))
    env.reset(seed=0)
    for a0, a1 in joint_actions:
        observations, rewards, _, _, _ = env.step({"player_0": a0, "player_1": a1})
        assert (rewards["player_0"], rewards["player_1"]) == tuple(table[a0, a1])
        assert observations["player_0"][2 * a0 + a1] == 1 == observations["player_0"].sum()
        assert observations["player_1"][2 * a1 + a0] == 1 == observations["player_1"].sum()


# ---- exact values (the closed form of LOLA's exact.py, alshedivat/lola@0e8b13e) ----
ALLC, ALLD, HALF = [1.0] * 5, [0.0] * 5, [0.5] * 5
TFT_AGENT1_VIEW_FOR_1 = [1.0, 0.0, 1.0, 0.0, 1.0]
TFT_AGENT1_VIEW_FOR_2 = [1.0, 1.0, 0.0, 0.0, 1.0]
EXACT_TABLE = [  # (p1, p2 in agent-1 indexing, V1, V2)
    (ALLC, ALLC, -25.0, -25.0),
    (ALLD, ALLD, -50.0, -50.0),
    (ALLC, ALLD, -75.0, 0.0),
    (TFT_AGENT1_VIEW_FOR_1, ALLD, -51.0, -48.0),
    (TFT_AGENT1_VIEW_FOR_1, TFT_AGENT1_VIEW_FOR_2, -25.0, -25.0),
    (HALF, HALF, -37.5, -37.5),
]


def test_exact_values_match_the_published_table():
    p1 = np.array([row[0] for row in EXACT_TABLE])
    p2 = from_agent1_view(np.array([row[1] for row in EXACT_TABLE]))
    values = exact_values(p1, p2, "ipd", gamma=0.96)
    expected = np.array([row[2:] for row in EXACT_TABLE])
    np.testing.assert_allclose(values, expected, atol=1e-9)
    np.testing.assert_allclose(average_rewards(p1, p2), 0.04 * expected, atol=1e-9)


def test_exact_values_tit_for_tat_is_the_same_in_both_own_views():
    tft = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(average_rewards(tft, tft), [-1.0, -1.0])
    np.testing.assert_allclose(average_rewards(tft, np.zeros(5)), [-2.04, -1.92])
    np.testing.assert_allclose(average_rewards(np.zeros(5), tft), [-1.92, -2.04])


def test_exact_values_pola_cooperation_benchmark():
    values = exact_values(np.ones(5), np.ones(5), "ipd_pola", gamma=0.96)
    np.testing.assert_allclose(values, [8.25, 8.25])


def test_exact_values_agree_with_simulation():
    """Monte Carlo check on a random memory-one pair, 200-step horizon (0.96^200 ~ 3e-4)."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.1, 0.9, size=(2, 5))
    n, horizon, gamma = 20000, 200, 0.96
    vec = socialdilemmas.make_vec("ipd_v0", n, seed=1, max_cycles=horizon, copy=False)
    obs, _ = vec.reset()
    total = np.zeros((n, 2))
    for t in range(horizon):
        state = obs.argmax(-1)  # (n, 2) own-view state index
        coop = p[[0, 1], state] > rng.random((n, 2))
        obs, rewards, *_ = vec.step((~coop).astype(np.int64))
        total += gamma**t * rewards
    expected = exact_values(p[0], p[1], "ipd", gamma)
    np.testing.assert_allclose(total.mean(0), expected, rtol=0.01)


def test_exact_values_vectorised_and_differentiable_in_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    p0 = rng.uniform(0.05, 0.95, size=(7, 5))
    p1 = rng.uniform(0.05, 0.95, size=(7, 5))
    expected = exact_values(p0, p1)
    theta = torch.tensor(p0, requires_grad=True)
    values = exact_values(theta, torch.tensor(p1))
    np.testing.assert_allclose(values.detach().numpy(), expected, rtol=1e-12)
    values[:, 0].sum().backward()
    step = 1e-6
    bumped = p0.copy()
    bumped[:, 2] += step
    numeric = (exact_values(bumped, p1)[:, 0] - expected[:, 0]) / step
    np.testing.assert_allclose(theta.grad[:, 2].numpy(), numeric, rtol=1e-4)


def test_exact_values_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        exact_values(np.ones(5), np.ones(5), gamma=1.0)
    with pytest.raises(ValueError, match="5 entries"):
        exact_values(np.ones(4), np.ones(4))


# ---- bad constructor arguments ----------------------------------------------------------------
@pytest.mark.parametrize(
    "payoffs,error,message",
    [
        ("prisoners", ValueError, "unknown payoff preset"),
        (np.zeros((2, 2)), ValueError, "shape \\(2, 2, 2\\)"),
        (np.zeros((4, 2)), ValueError, "shape \\(2, 2, 2\\)"),
        ([[[0, 0], [0, np.nan]], [[0, 0], [0, 0]]], ValueError, "finite"),
        ([[[0, 0], [0, np.inf]], [[0, 0], [0, 0]]], ValueError, "finite"),
        ([[["a", 0], [0, 0]], [[0, 0], [0, 0]]], ValueError, "preset name or a"),
    ],
)
def test_bad_payoffs(payoffs, error, message):
    with pytest.raises(error, match=message):
        matrix_game_v0.parallel_env(payoffs=payoffs)


def test_ipd_rejects_games_that_are_not_prisoners_dilemmas():
    with pytest.raises(ValueError, match="matrix_game_v0"):
        ipd_v0.parallel_env(payoffs="stag_hunt")


def test_ansi_render_names_the_actions():
    env = matrix_game_v0.parallel_env(payoffs="stag_hunt", render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "step 0: start"
    env.step({"player_0": 0, "player_1": 1})
    assert env.render() == "step 1: player_0 stag, player_1 hare -> rewards (1, 3)"

"""Rules of the Negotiation Game: hand-computed rounds of the Advantage Alignment rules
(``jduquevan/advantage-alignment@e99df9c``, branch ``eg``), observations, info, episode
boundaries and rendering.

Episode boundaries: every step is one complete round. ``round_done`` is True in every step's
info, terminations are never True, and truncation comes only after ``max_cycles`` rounds. The
vector env then starts the next episode in the same step: ``observations`` is the new episode's
first observation, ``info["final_observation"]`` the last one of the episode that ended, and the
other info arrays still describe the round just played.
"""

from __future__ import annotations

import numpy as np
import pettingzoo
import pytest

import socialdilemmas
from socialdilemmas import negotiation_v0
from socialdilemmas.negotiation import kernels
from socialdilemmas.registration import PETTINGZOO_HAS_REGISTRY

U_FIRST = kernels.UTILITY[0]
U_SECOND = kernels.UTILITY[1]
NUM_ITEMS = kernels.NUM_ITEMS


def set_round(state: np.ndarray, env: int, pool, u0, u1) -> None:
    """Overwrite the upcoming round of game ``env`` in a state array."""
    state[env, kernels.POOL : kernels.POOL + NUM_ITEMS] = pool
    state[env, U_FIRST : U_FIRST + NUM_ITEMS] = u0
    state[env, U_SECOND : U_SECOND + NUM_ITEMS] = u1


# pool [1,1,1], u0 = [5,1,5], u1 = [1,5,1], computed by hand from the rules. Under "proportion"
# the first three rows are unchanged (every contested item has claims summing to at least 5)
# and the [2,0,0]/[1,0,0] row becomes 2/3 * 5/15 and 1/3 * 1/15 (0.2222, 0.02222).
SPEC_VECTORS = [
    ([5, 0, 5], [0, 5, 0], "divide_when_above", 10 / 15, 5 / 15),
    ([5, 5, 5], [5, 5, 5], "divide_when_above", 5.5 / 15, 3.5 / 15),
    ([5, 5, 5], [0, 5, 0], "divide_when_above", 10.5 / 15, 2.5 / 15),
    ([2, 0, 0], [1, 0, 0], "divide_when_above", 2 / 15, 0.2 / 15),
    ([0, 0, 0], [0, 0, 0], "divide_when_above", 0.0, 0.0),
    ([5, 0, 5], [0, 5, 0], "proportion", 10 / 15, 5 / 15),
    ([5, 5, 5], [5, 5, 5], "proportion", 5.5 / 15, 3.5 / 15),
    ([5, 5, 5], [0, 5, 0], "proportion", 10.5 / 15, 2.5 / 15),
    ([2, 0, 0], [1, 0, 0], "proportion", 2 / 3 * 5 / 15, 1 / 3 * 1 / 15),
    ([0, 0, 0], [0, 0, 0], "proportion", 0.0, 0.0),
]


@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
@pytest.mark.parametrize(("p0", "p1", "prop_mode", "r0", "r1"), SPEC_VECTORS)
def test_spec_vectors(p0, p1, prop_mode, r0, r1, continuous):
    env = negotiation_v0.parallel_env(prop_mode=prop_mode, continuous=continuous)
    env.reset(seed=0)
    set_round(env._state, 0, [1, 1, 1], [5, 1, 5], [1, 5, 1])
    dtype = np.float32 if continuous else np.int64
    _, rewards, _, _, infos = env.step(
        {"player_0": np.array(p0, dtype=dtype), "player_1": np.array(p1, dtype=dtype)}
    )
    assert rewards["player_0"] == pytest.approx(r0, abs=1e-12)
    assert rewards["player_1"] == pytest.approx(r1, abs=1e-12)
    assert infos["player_0"]["max_welfare"] == pytest.approx(1.0)
    np.testing.assert_array_equal(infos["player_0"]["proposal"], p0)
    np.testing.assert_array_equal(infos["player_1"]["proposal"], p1)


def test_proportion_row_matches_the_spec_digits():
    env = negotiation_v0.parallel_env(prop_mode="proportion")
    env.reset(seed=0)
    set_round(env._state, 0, [1, 1, 1], [5, 1, 5], [1, 5, 1])
    _, rewards, _, _, infos = env.step(
        {"player_0": np.array([2, 0, 0]), "player_1": np.array([1, 0, 0])}
    )
    assert rewards["player_0"] == pytest.approx(0.2222, abs=5e-5)
    assert rewards["player_1"] == pytest.approx(0.02222, abs=5e-6)
    np.testing.assert_allclose(infos["player_0"]["share"], [2 / 3, 0, 0])
    np.testing.assert_allclose(infos["player_1"]["share"], [1 / 3, 0, 0])


def test_divide_when_above_wastes_what_is_not_claimed():
    env = negotiation_v0.parallel_env()
    env.reset(seed=0)
    set_round(env._state, 0, [1, 1, 1], [5, 1, 5], [1, 5, 1])
    _, _, _, _, infos = env.step({"player_0": np.array([2, 0, 0]), "player_1": np.array([1, 0, 0])})
    np.testing.assert_allclose(infos["player_0"]["share"], [0.4, 0, 0])
    np.testing.assert_allclose(infos["player_1"]["share"], [0.2, 0, 0])


def test_observation_after_the_first_vector():
    """Spec: after [5,0,5] / [0,5,0], with u0' = [1,5,5] drawn for the next round,
    obs_0 = [1,1,1, 1,5,5, 5,0,5, 5,1,1, 0,5,0] / 10 (and obs_1 its mirror)."""
    for seed in range(200):  # find a seed whose second draw is u0' = [1, 5, 5]
        env = negotiation_v0.parallel_env()
        env.reset(seed=seed)
        set_round(env._state, 0, [1, 1, 1], [5, 1, 5], [1, 5, 1])
        observations, *_ = env.step(
            {"player_0": np.array([5, 0, 5]), "player_1": np.array([0, 5, 0])}
        )
        if env._state[0, U_FIRST : U_FIRST + NUM_ITEMS].tolist() == [1, 5, 5]:
            break
    else:
        pytest.fail("no seed below 200 draws [1, 5, 5] second")
    expected_0 = np.array([1, 1, 1, 1, 5, 5, 5, 0, 5, 5, 1, 1, 0, 5, 0]) / 10
    expected_1 = np.array([1, 1, 1, 5, 1, 1, 0, 5, 0, 1, 5, 5, 5, 0, 5]) / 10
    np.testing.assert_array_equal(observations["player_0"], expected_0.astype(np.float32))
    np.testing.assert_array_equal(observations["player_1"], expected_1.astype(np.float32))


def test_first_observation_shows_the_round_and_no_claims():
    env = negotiation_v0.parallel_env()
    observations, infos = env.reset(seed=3)
    state = env._state[0]
    for seat, agent in enumerate(env.possible_agents):
        obs = observations[agent] * 10
        np.testing.assert_allclose(obs[0:3], [1, 1, 1], rtol=1e-6)
        np.testing.assert_allclose(obs[3:6], state[kernels.UTILITY[seat] :][:3], rtol=1e-6)
        np.testing.assert_allclose(obs[9:12], state[kernels.UTILITY[1 - seat] :][:3], rtol=1e-6)
        assert not obs[6:9].any() and not obs[12:15].any()
    assert infos == {"player_0": {}, "player_1": {}}


@pytest.mark.parametrize(
    ("sampling", "pool", "u0", "u1"),
    [
        ("no_sampling", [4, 4, 4], [10, 3, 2], [3, 10, 2]),
        ("high_contrast_no_sampling", [1, 1, 1], [5, 5, 1], [1, 1, 5]),
    ],
)
def test_fixed_sampling_modes(sampling, pool, u0, u1):
    env = negotiation_v0.parallel_env(sampling=sampling, max_cycles=3)
    observations, _ = env.reset(seed=0)
    expected = np.array(pool + u0 + [0, 0, 0] + u1 + [0, 0, 0]) / 10
    np.testing.assert_array_equal(observations["player_0"], expected.astype(np.float32))
    for _ in range(3):
        _, rewards, _, _, infos = env.step(
            {"player_0": np.array([5, 0, 0]), "player_1": np.array([0, 5, 0])}
        )
        np.testing.assert_array_equal(infos["player_0"]["pool"], pool)
        np.testing.assert_array_equal(infos["player_0"]["utilities"], u0)
        np.testing.assert_array_equal(infos["player_1"]["utilities"], u1)
        assert rewards["player_0"] == pytest.approx(pool[0] * u0[0] / 15)
        assert rewards["player_1"] == pytest.approx(pool[1] * u1[1] / 15)
        welfare = sum(p * max(a, b) for p, a, b in zip(pool, u0, u1, strict=True)) / 15
        assert infos["player_0"]["max_welfare"] == pytest.approx(welfare)


def test_high_contrast_draws_are_fair_and_complementary():
    vec = socialdilemmas.make_vec("negotiation_v0", 4096, seed=11)
    vec.reset()
    actions = np.zeros((4096, 2, 3), dtype=np.int64)
    high = []
    for _ in range(5):
        _, _, _, _, info = vec.step(actions)
        utilities = info["utilities"]
        assert set(np.unique(utilities)) == {1, 5}
        np.testing.assert_array_equal(utilities[:, 0] + utilities[:, 1], 6)
        np.testing.assert_array_equal(info["pool"], 1)
        np.testing.assert_allclose(info["max_welfare"], 1.0)
        high.append(utilities[:, 0] == 5)
    high = np.concatenate(high)
    # each item and each of the 8 joint patterns about equally often (5 * 4096 draws)
    assert np.all(np.abs(high.mean(axis=0) - 0.5) < 0.02)
    patterns = np.bincount(high @ np.array([1, 2, 4]), minlength=8) / len(high)
    assert np.all(np.abs(patterns - 1 / 8) < 0.015)


def test_uniform_sampling_ranges():
    vec = socialdilemmas.make_vec("negotiation_v0", 2048, seed=5, sampling="uniform")
    observations, _ = vec.reset()
    _, rewards, _, _, info = vec.step(np.full((2048, 2, 3), 5))
    assert set(np.unique(info["pool"])) == {1, 2, 3, 4, 5}
    assert set(np.unique(info["utilities"])) == {1, 2, 3, 4, 5}
    # both players' values are drawn independently, so they sometimes tie
    assert (info["utilities"][:, 0] == info["utilities"][:, 1]).any()
    expected = (info["pool"] * info["utilities"].max(axis=1)).sum(axis=1) / 15
    np.testing.assert_allclose(info["max_welfare"], expected)
    # both claim 5 of everything: each gets half of every item
    np.testing.assert_allclose(
        rewards, 0.5 * (info["pool"][:, None, :] * info["utilities"]).sum(axis=2) / 15
    )


def test_per_agent_info_is_own_first_and_matches_the_vector_info():
    env = negotiation_v0.parallel_env(max_cycles=4)
    vec = socialdilemmas.make_vec("negotiation_v0", 1, seed=9, max_cycles=4)
    env.reset(seed=9)
    vec.reset()
    rng = np.random.default_rng(0)
    for step in range(1, 5):
        a = rng.integers(0, 6, (2, 3))
        _, rewards, terminations, truncations, infos = env.step(
            {"player_0": a[0], "player_1": a[1]}
        )
        _, _, _, _, info = vec.step(a[None])
        for seat, agent in enumerate(env.possible_agents):
            other = 1 - seat
            mine = infos[agent]
            assert mine["round"] == step and mine["round_done"] is True
            np.testing.assert_array_equal(mine["utilities"], info["utilities"][0, seat])
            np.testing.assert_array_equal(mine["other_utilities"], info["utilities"][0, other])
            np.testing.assert_array_equal(mine["proposal"], a[seat])
            np.testing.assert_array_equal(mine["other_proposal"], a[other])
            np.testing.assert_array_equal(mine["share"], info["shares"][0, seat])
            np.testing.assert_array_equal(mine["other_share"], info["shares"][0, other])
            np.testing.assert_array_equal(mine["pool"], info["pool"][0])
            assert mine["max_welfare"] == info["max_welfare"][0]
        assert info["round"][0] == step
        assert terminations == {"player_0": False, "player_1": False}
        assert all(value is (step == 4) for value in truncations.values())
    assert env.agents == []


def test_vector_episode_boundary():
    vec = socialdilemmas.make_vec("negotiation_v0", 3, seed=2, max_cycles=2)
    vec.reset()
    actions = np.full((3, 2, 3), 5)
    first = vec.step(actions)
    assert not first[3].any() and not first[2].any()
    observations, _, terminations, truncations, info = vec.step(actions)
    assert truncations.all() and not terminations.any()
    np.testing.assert_array_equal(info["round"], 2)
    # the final observation shows the claims of the last round, the new one shows none
    np.testing.assert_allclose(info["final_observation"][:, :, 6:9] * 10, 5, rtol=1e-6)
    assert not observations[:, :, 6:9].any() and not observations[:, :, 12:15].any()
    _, _, _, truncations, info = vec.step(actions)
    assert not truncations.any()
    np.testing.assert_array_equal(info["round"], 1)


def test_render_ansi_shows_the_round():
    env = negotiation_v0.parallel_env(render_mode="ansi", sampling="high_contrast_no_sampling")
    with pytest.raises(RuntimeError):
        env.render()
    env.reset(seed=0)
    start = env.render()
    assert "no round played yet" in start
    assert "values p0 [5, 5, 1] p1 [1, 1, 5]" in start
    env.step({"player_0": np.array([5, 5, 0]), "player_1": np.array([0, 2, 5])})
    text = env.render()
    lines = text.splitlines()
    assert lines[0] == "round 1"
    rows = {line[:10].strip(): line[10:].split() for line in lines[2:9]}
    assert rows["claim p0"] == ["5", "5", "0"]
    assert rows["claim p1"] == ["0", "2", "5"]
    assert rows["value p0"] == ["5", "5", "1"]
    assert rows["share p0"] == ["1.00", "0.71", "0.00"]
    # p0: 5 + 5/7 * 5 = 8.571 -> 0.5714; p1: 2/7 * 1 + 5 = 5.286 -> 0.3524
    assert "p0 0.5714" in text and "p1 0.3524" in text


def test_render_human_prints(capsys):
    env = negotiation_v0.parallel_env(render_mode="human", continuous=True)
    env.reset(seed=0)
    env.step({"player_0": np.array([0.5, 1.25, 5.0]), "player_1": np.zeros(3)})
    out = capsys.readouterr().out
    assert "round 1" in out and "1.25" in out


def test_vector_render():
    vec = socialdilemmas.make_vec("negotiation_v0", 2, seed=0, render_mode="ansi")
    vec.reset()
    vec.step(np.full((2, 2, 3), 5))
    assert vec.render(1).startswith("round 1")


@pytest.mark.skipif(not PETTINGZOO_HAS_REGISTRY, reason="PettingZoo < 1.27 has no registry")
def test_registered_with_pettingzoo():
    par = pettingzoo.make("parallel", "socialdilemmas/negotiation-v0", continuous=True)
    assert par.metadata["name"] == "negotiation_v0"
    assert par.game.continuous
    aec = pettingzoo.make("aec", "socialdilemmas/negotiation-v0")
    aec.reset(seed=0)
    assert aec.agent_selection == "player_0"


def test_made_by_make_vec_from_any_id_spelling():
    assert "negotiation_v0" in socialdilemmas.env_ids()
    vec = socialdilemmas.make_vec("socialdilemmas/negotiation-v0", 2, max_cycles=3)
    assert vec.max_cycles == 3 and vec.single_observation_space.shape == (15,)


def test_spaces():
    discrete = negotiation_v0.parallel_env()
    continuous = negotiation_v0.parallel_env(continuous=True)
    assert discrete.action_space("player_0").nvec.tolist() == [6, 6, 6]
    box = continuous.action_space("player_1")
    assert box.dtype == np.float32 and box.shape == (3,)
    assert box.low.tolist() == [0, 0, 0] and box.high.tolist() == [5, 5, 5]
    for env in (discrete, continuous):
        space = env.observation_space("player_0")
        assert space is env.observation_space("player_0")
        assert space.shape == (15,) and space.dtype == np.float32

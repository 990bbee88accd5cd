"""Properties of the Negotiation Game over random configurations and proposals (hypothesis),
and the equivalence of a single env and sub-env i of the vector env."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import socialdilemmas
from socialdilemmas import negotiation_v0

SAMPLINGS = ["high_contrast", "uniform", "no_sampling", "high_contrast_no_sampling"]
PROP_MODES = ["divide_when_above", "proportion"]
TOLERANCE = 1e-12

configs = st.fixed_dictionaries(
    {
        "sampling": st.sampled_from(SAMPLINGS),
        "prop_mode": st.sampled_from(PROP_MODES),
        "continuous": st.booleans(),
    }
)


def random_actions(rng: np.random.Generator, continuous: bool, shape) -> np.ndarray:
    """Proposals over the whole range, corners included (0 and 5 are where the rules bend)."""
    if continuous:
        actions = rng.uniform(0.0, 5.0, shape)
        corners = rng.random(shape) < 0.3
        actions[corners] = rng.choice([0.0, 5.0], size=int(corners.sum()))
        return actions.astype(np.float32)
    return rng.integers(0, 6, shape)


@settings(max_examples=60, deadline=None)
@given(config=configs, seed=st.integers(0, 2**32), steps=st.integers(1, 12))
def test_rewards_shares_and_observations_are_well_formed(config, seed, steps):
    num_envs = 64
    vec = socialdilemmas.make_vec("negotiation_v0", num_envs, seed=seed, max_cycles=5, **config)
    space = vec.single_observation_space
    observations, _ = vec.reset()
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        assert all(space.contains(obs) for obs in observations.reshape(-1, 15))
        actions = random_actions(rng, config["continuous"], (num_envs, 2, 3))
        observations, rewards, terminations, truncations, info = vec.step(actions)
        # the claims just made, divided by 10 (the final observation where an episode ended)
        shown = np.where(truncations[:, None, None], info["final_observation"], observations)
        claims = (actions.astype(np.float64) / 10).astype(np.float32)
        np.testing.assert_array_equal(shown[:, 0, 6:9], claims[:, 0])
        np.testing.assert_array_equal(shown[:, 0, 12:15], claims[:, 1])
        np.testing.assert_array_equal(shown[:, 1, 6:9], claims[:, 1])
        assert (rewards >= 0).all()
        shares = info["shares"]
        assert (shares >= 0).all()
        assert (shares.sum(axis=1) <= 1 + TOLERANCE).all()  # no item over-allocated
        assert (rewards.sum(axis=1) <= info["max_welfare"] + TOLERANCE).all()
        np.testing.assert_array_equal(info["proposals"], actions.astype(np.float64))
        # the rewards are the shares of what each player values
        values = (shares * info["pool"][:, None, :] * info["utilities"]).sum(axis=2) / 15
        np.testing.assert_allclose(rewards, values, rtol=1e-12, atol=1e-15)
        assert not terminations.any()
    assert all(space.contains(obs) for obs in info["final_observation"].reshape(-1, 15))


@settings(max_examples=30, deadline=None)
@given(
    config=configs,
    seed=st.integers(0, 2**40),
    max_cycles=st.integers(1, 4),
    num_envs=st.integers(1, 5),
)
def test_single_env_equals_vector_sub_env(config, seed, max_cycles, num_envs):
    """Vector seed s: sub-env i behaves like a single env reset with seed s + i, across
    automatic resets (the single env is then reset without a seed, continuing its stream)."""
    steps = 2 * max_cycles + 1
    rng = np.random.default_rng(seed)
    actions = random_actions(rng, config["continuous"], (steps, num_envs, 2, 3))
    vec = socialdilemmas.make_vec("negotiation_v0", num_envs, max_cycles=max_cycles, **config)
    vec_obs, _ = vec.reset(seed=seed)
    vec_run = []
    for t in range(steps):
        vec_run.append(vec.step(actions[t]))
    for i in range(num_envs):
        env = negotiation_v0.parallel_env(max_cycles=max_cycles, **config)
        obs, _ = env.reset(seed=seed + i)
        for seat, agent in enumerate(env.possible_agents):
            np.testing.assert_array_equal(obs[agent], vec_obs[i, seat])
        for t in range(steps):
            v_obs, v_rewards, v_terms, v_truncs, v_info = vec_run[t]
            obs, rewards, terms, truncs, infos = env.step(
                {agent: actions[t, i, seat] for seat, agent in enumerate(env.possible_agents)}
            )
            for seat, agent in enumerate(env.possible_agents):
                assert rewards[agent] == v_rewards[i, seat]
                assert truncs[agent] == bool(v_truncs[i]) and terms[agent] is False
                np.testing.assert_array_equal(
                    infos[agent]["utilities"], v_info["utilities"][i, seat]
                )
                assert infos[agent]["max_welfare"] == v_info["max_welfare"][i]
                if truncs[agent]:
                    np.testing.assert_array_equal(obs[agent], v_info["final_observation"][i, seat])
                else:
                    np.testing.assert_array_equal(obs[agent], v_obs[i, seat])
            if truncs["player_0"]:
                obs, _ = env.reset()
                for seat, agent in enumerate(env.possible_agents):
                    np.testing.assert_array_equal(obs[agent], v_obs[i, seat])


def test_batch_composition_does_not_change_a_sub_env():
    seeds = [10, 99, 12345]
    actions = np.random.default_rng(0).integers(0, 6, (6, 3, 2, 3))
    together = socialdilemmas.make_vec("negotiation_v0", 3, max_cycles=4)
    together.reset(seed=seeds)
    alone = socialdilemmas.make_vec("negotiation_v0", 1, max_cycles=4)
    alone.reset(seed=seeds[1])
    for t in range(6):
        obs_all, rewards_all, *_ = together.step(actions[t])
        obs_one, rewards_one, *_ = alone.step(actions[t, 1:2])
        np.testing.assert_array_equal(obs_all[1:2], obs_one)
        np.testing.assert_array_equal(rewards_all[1:2], rewards_one)

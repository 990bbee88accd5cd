"""Bad input to the environments: rejected with a message naming it, and the env left usable.

Reproducers of issue 20 (items 6 and 8): a ``None`` action for a live AEC agent used to be
stored and wedge the env until reset; a non-None action for a truncated agent raised an empty
AssertionError and then broke the documented ``step(None)``; huge ints, odd payoff tables,
out-of-range render indices and negative seeds got through to fail later or obscurely.
"""

from __future__ import annotations

import numpy as np
import pytest

import socialdilemmas
from socialdilemmas.registration import env_ids, env_module


def first_action(env, agent):
    space = env.action_space(agent)
    return 0 if space.shape == () else np.zeros(space.shape, dtype=space.dtype)


@pytest.mark.parametrize("env_id", env_ids())
def test_aec_rejects_none_for_a_live_agent_and_stays_usable(env_id):
    env = env_module(env_id).env(max_cycles=3)
    env.reset(seed=0)
    agent = env.agent_selection
    with pytest.raises(ValueError, match=f"action of {agent} is None, but {agent} is still"):
        env.step(None)
    assert env.agent_selection == agent  # nothing was stored
    reference = env_module(env_id).env(max_cycles=3)
    reference.reset(seed=0)
    for _ in range(6):  # the whole episode plays as if the bad step never happened
        action = first_action(env, env.agent_selection)
        env.step(action)
        reference.step(action)
        np.testing.assert_array_equal(env.last()[0], reference.last()[0])
        assert env.last()[1:4] == reference.last()[1:4]


@pytest.mark.parametrize("env_id", env_ids())
def test_aec_dead_agent_takes_only_none(env_id):
    env = env_module(env_id).env(max_cycles=1)
    env.reset(seed=0)
    for agent in list(env.agents):
        env.step(first_action(env, agent))
    agent = env.agent_selection
    assert env.truncations[agent]
    with pytest.raises(ValueError, match=f"{agent} is truncated: the only valid action is None"):
        env.step(first_action(env, agent))
    for _ in range(2):  # the documented dead steps still work after the rejected one
        env.step(None)
    assert env.agents == []


def test_huge_max_cycles_is_rejected_up_front():
    for make in (
        lambda: socialdilemmas.make_vec("ipd_v0", 2, max_cycles=10**30),
        lambda: env_module("coin_game_v0").parallel_env(max_cycles=10**30),
    ):
        with pytest.raises(ValueError, match="max_cycles must be at most"):
            make()


@pytest.mark.parametrize("action", [2**63, 2**70, np.uint64(2**63)])
def test_action_ints_beyond_int64_name_the_agent(action):
    env = env_module("ipd_v0").parallel_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action of player_1 is out of range"):
        env.step({"player_0": 0, "player_1": action})
    env.step({"player_0": 0, "player_1": 1})  # still usable
    aec = env_module("ipd_v0").env()
    aec.reset(seed=0)
    with pytest.raises(ValueError, match="action of player_0 is out of range"):
        aec.step(action)
    vec = socialdilemmas.make_vec("negotiation_v0", 2)
    vec.reset(seed=0)
    actions = np.zeros((2, 2, 3), dtype=np.uint64)
    actions[1, 0, 2] = 2**63
    with pytest.raises(ValueError, match="action of player_0 in env 1 is out of range"):
        vec.step(actions)


@pytest.mark.parametrize(
    "payoffs",
    [
        np.zeros((2, 2, 2), dtype=complex),
        np.zeros((2, 2, 2), dtype=bool),
        np.full((2, 2, 2), "1"),
        [[[True, 0], [0, 0]], [[0, 0], [0, 0]]],
    ],
)
def test_payoff_tables_must_hold_real_numbers(payoffs):
    with pytest.raises(ValueError, match="table of real numbers"):
        socialdilemmas.make_vec("matrix_game_v0", 1, payoffs=payoffs)


def test_payoff_tables_of_ints_and_floats_still_work():
    table = [[[3, 3], [0, 5.0]], [[5, 0], [1, 1]]]
    vec = socialdilemmas.make_vec("matrix_game_v0", 1, payoffs=table)
    vec.reset(seed=0)
    _, rewards, *_ = vec.step(np.array([[0, 1]]))
    assert rewards.tolist() == [[0.0, 5.0]]


@pytest.mark.parametrize("index", [-1, 2, 5, True, 1.0])
def test_vector_render_index_must_name_a_sub_env(index):
    vec = socialdilemmas.make_vec("ipd_v0", 2, render_mode="ansi")
    vec.reset(seed=0)
    with pytest.raises(IndexError, match=r"env must be a sub-env index in \[0, 2\)"):
        vec.render(env=index)
    assert isinstance(vec.render(env=1), str)


@pytest.mark.parametrize("seed", [-5, 2**64, "7"])
def test_make_vec_rejects_a_bad_seed_at_once(seed):
    with pytest.raises((ValueError, TypeError), match="seed"):
        socialdilemmas.make_vec("ipd_v0", 2, seed=seed)

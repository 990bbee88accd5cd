"""The test battery every registered env gets by being registered.

Parametrised over ``socialdilemmas.registration.env_variants()``: every env id and each of its
named variants (paper presets, action modes). PettingZoo's own tests run on the AEC env, on the
``parallel_to_aec`` conversion and on the parallel env; our own tests add what PettingZoo 1.27
does not check (multi-step determinism, pickling, vector/PettingZoo equivalence).
"""

from __future__ import annotations

import functools
import pickle
import types

import numpy as np
import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)
from pettingzoo.utils import parallel_to_aec

import socialdilemmas
from socialdilemmas.registration import (
    PETTINGZOO_HAS_REGISTRY,
    env_module,
    env_variants,
    pettingzoo_id,
)

VARIANTS = env_variants()
IDS = [f"{env_id}-{variant}" for env_id, variant, _ in VARIANTS]


@pytest.fixture(params=VARIANTS, ids=IDS)
def variant(request) -> tuple[types.ModuleType, dict, str]:
    env_id, _, kwargs = request.param
    return env_module(env_id), kwargs, env_id


def random_joint_actions(space, rng: np.random.Generator, count: int) -> list[list]:
    """``count`` joint actions (one per seat) drawn from ``space`` with a seeded generator."""
    space.seed(int(rng.integers(2**31)))
    return [[space.sample(), space.sample()] for _ in range(count)]


# ---- PettingZoo's own tests ------------------------------------------------------------------
#: Warnings PettingZoo's tests give for choices we make on purpose; any other warning fails.
#: api_test warns for every action space that is not Box or Discrete, but MultiDiscrete (the
#: Negotiation Game's three claims) is a standard Gymnasium space that it handles fine.
EXPECTED_API_WARNINGS = pytest.mark.filterwarnings(
    "ignore:Action space for each agent probably should be:UserWarning"
)


@EXPECTED_API_WARNINGS
def test_api_aec(variant):
    module, kwargs, _ = variant
    api_test(module.env(**kwargs), num_cycles=120)


@EXPECTED_API_WARNINGS
def test_api_parallel_converted_to_aec(variant):
    module, kwargs, _ = variant
    api_test(parallel_to_aec(module.parallel_env(**kwargs)), num_cycles=120)


def test_parallel_api(variant):
    module, kwargs, _ = variant
    parallel_api_test(module.parallel_env(**kwargs), num_cycles=120)


def test_seed(variant):
    module, kwargs, _ = variant
    seed_test(functools.partial(module.env, **kwargs), num_cycles=120)
    parallel_seed_test(functools.partial(module.parallel_env, **kwargs), num_cycles=120)


def test_max_cycles(variant):
    module, kwargs, _ = variant
    bound = types.SimpleNamespace(
        env=functools.partial(module.env, **kwargs),
        parallel_env=functools.partial(module.parallel_env, **kwargs),
    )
    max_cycles_test(bound)


def test_render(variant, capsys):
    module, kwargs, _ = variant
    render_test(functools.partial(module.env, **kwargs))
    env = module.parallel_env(render_mode="ansi", **kwargs)
    env.reset(seed=0)
    assert isinstance(env.render(), str) and env.render()


def test_state(variant):
    module, kwargs, _ = variant
    state_test(module.env(**kwargs), module.parallel_env(**kwargs), num_cycles=20)


@pytest.mark.skipif(not PETTINGZOO_HAS_REGISTRY, reason="PettingZoo < 1.27 has no registry")
def test_registry_make(variant):
    import pettingzoo

    _, kwargs, env_id = variant
    parallel = pettingzoo.make("parallel", pettingzoo_id(env_id), max_cycles=3, **kwargs)
    aec = pettingzoo.make("aec", pettingzoo_id(env_id), **kwargs)
    assert parallel.metadata["name"] == env_id
    assert aec.unwrapped.metadata["name"] == env_id
    parallel.reset(seed=0)
    steps = 0
    while parallel.agents:
        parallel.step({a: parallel.action_space(a).sample() for a in parallel.agents})
        steps += 1
    assert steps == 3


# ---- our own: determinism over several episodes, pickling, equivalence ----------------------
def play(env, joint_actions, seed):
    """Run ``env`` through ``joint_actions``, resetting (unseeded) when an episode ends."""
    trace = []
    observations, _ = env.reset(seed=seed)
    trace.append(observations)
    for a0, a1 in joint_actions:
        if not env.agents:
            observations, _ = env.reset()
            trace.append(observations)
        trace.append(env.step({"player_0": a0, "player_1": a1}))
    return trace


def assert_traces_equal(first, second):
    assert len(first) == len(second)
    for x, y in zip(first, second, strict=False):
        np.testing.assert_equal(x, y)


def test_multi_step_determinism(variant):
    """Same seed and actions give identical results over several episodes (PettingZoo 1.27's
    parallel_seed_test checks one step only)."""
    module, kwargs, _ = variant
    kwargs = {**kwargs, "max_cycles": 7}
    probe = module.parallel_env(**kwargs)
    actions = random_joint_actions(probe.action_space("player_0"), np.random.default_rng(1), 30)
    first = play(module.parallel_env(**kwargs), actions, seed=123)
    second = play(module.parallel_env(**kwargs), actions, seed=123)
    assert_traces_equal(first, second)
    other_seed = play(module.parallel_env(**kwargs), actions, seed=124)
    assert len(first) == len(other_seed)


def test_pickle_round_trip_mid_episode(variant):
    module, kwargs, _ = variant
    env = module.parallel_env(max_cycles=9, **kwargs)
    space = env.action_space("player_0")
    actions = random_joint_actions(space, np.random.default_rng(2), 20)
    env.reset(seed=5)
    for a0, a1 in actions[:4]:
        env.step({"player_0": a0, "player_1": a1})
    clone = pickle.loads(pickle.dumps(env))
    assert clone.agents == env.agents
    for a0, a1 in actions[4:]:
        if not env.agents:
            assert not clone.agents
            np.testing.assert_equal(env.reset(), clone.reset())
        step = {"player_0": a0, "player_1": a1}
        np.testing.assert_equal(env.step(step), clone.step(step))


def test_vector_matches_pettingzoo(variant):
    """Sub-env i of a vector env seeded s equals a PettingZoo env seeded s + i, step by step,
    across an auto-reset, in observations, rewards, ends and infos."""
    module, kwargs, env_id = variant
    num_envs, max_cycles, steps, seed = 4, 5, 12, 77
    vec = socialdilemmas.make_vec(env_id, num_envs, seed=seed, max_cycles=max_cycles, **kwargs)
    singles = [module.parallel_env(max_cycles=max_cycles, **kwargs) for _ in range(num_envs)]
    rng = np.random.default_rng(3)
    space = singles[0].action_space("player_0")
    joint = [random_joint_actions(space, rng, num_envs) for _ in range(steps)]

    vec_obs, _ = vec.reset()
    for i, env in enumerate(singles):
        observations, _ = env.reset(seed=seed + i)
        for seat, agent in enumerate(env.possible_agents):
            np.testing.assert_array_equal(observations[agent], vec_obs[i, seat])
    for step in range(steps):
        actions = np.array(joint[step])
        vec_obs, vec_rewards, vec_terms, vec_truncs, vec_info = vec.step(actions)
        for i, env in enumerate(singles):
            if not env.agents:
                env.reset()
            obs, rewards, terms, truncs, infos = env.step(
                {"player_0": joint[step][i][0], "player_1": joint[step][i][1]}
            )
            expected_obs = vec_info["final_observation"] if vec_truncs[i] else vec_obs
            vector_infos = vec.game.agent_infos(vec._buffers, i)
            for seat, agent in enumerate(env.possible_agents):
                np.testing.assert_array_equal(obs[agent], expected_obs[i, seat])
                assert rewards[agent] == vec_rewards[i, seat]
                assert terms[agent] == bool(vec_terms[i])
                assert truncs[agent] == bool(vec_truncs[i])
                np.testing.assert_equal(infos[agent], vector_infos[seat])
            if vec_truncs[i]:
                fresh, _ = env.reset()
                for seat, agent in enumerate(env.possible_agents):
                    np.testing.assert_array_equal(fresh[agent], vec_obs[i, seat])
    assert vec_truncs.dtype == np.bool_


def test_sub_env_does_not_depend_on_batch_size(variant):
    _, kwargs, env_id = variant
    big = socialdilemmas.make_vec(env_id, 6, seed=10, max_cycles=4, **kwargs)
    small = socialdilemmas.make_vec(env_id, 1, seed=13, max_cycles=4, **kwargs)
    big.action_space.seed(0)
    big_obs, _ = big.reset()
    small_obs, _ = small.reset()
    np.testing.assert_array_equal(big_obs[3], small_obs[0])
    for _ in range(9):
        actions = big.action_space.sample()
        big_out = big.step(actions)
        small_out = small.step(actions[3:4])
        for b, s in zip(big_out[:4], small_out[:4], strict=False):
            np.testing.assert_array_equal(b[3], s[0])


def test_observations_in_space_with_space_dtype(variant):
    _, kwargs, env_id = variant
    vec = socialdilemmas.make_vec(env_id, 16, seed=0, max_cycles=6, **kwargs)
    vec.action_space.seed(1)
    obs, _ = vec.reset()
    for _ in range(15):
        assert obs.dtype == vec.single_observation_space.dtype
        assert vec.observation_space.contains(obs)
        obs, rewards, _, _, _ = vec.step(vec.action_space.sample())
        assert np.all(np.isfinite(rewards))


# ---- bad input --------------------------------------------------------------------------------
def test_step_before_reset_and_after_end(variant):
    module, kwargs, env_id = variant
    env = module.parallel_env(max_cycles=1, **kwargs)
    action = env.action_space("player_0").sample()
    with pytest.raises(RuntimeError, match="before reset"):
        env.step({"player_0": action, "player_1": action})
    env.reset(seed=0)
    env.step({"player_0": action, "player_1": action})
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step({"player_0": action, "player_1": action})
    vec = socialdilemmas.make_vec(env_id, 2, **kwargs)
    with pytest.raises(RuntimeError, match="before reset"):
        vec.step(vec.action_space.sample())


def test_missing_and_unknown_agent_keys(variant):
    module, kwargs, _ = variant
    env = module.parallel_env(**kwargs)
    env.reset(seed=0)
    action = env.action_space("player_0").sample()
    with pytest.raises(KeyError, match="missing actions for \\['player_1'\\]"):
        env.step({"player_0": action})
    with pytest.raises(KeyError, match="unknown agents \\['player_2'\\]"):
        env.step({"player_0": action, "player_1": action, "player_2": action})
    with pytest.raises(TypeError, match="dict"):
        env.step([action, action])
    with pytest.raises(KeyError, match="unknown agent"):
        env.action_space("player_9")


def test_wrong_action_type_and_shape(variant):
    module, kwargs, env_id = variant
    env = module.parallel_env(**kwargs)
    env.reset(seed=0)
    good = env.action_space("player_0").sample()
    with pytest.raises((TypeError, ValueError), match="player_1"):
        env.step({"player_0": good, "player_1": "defect"})
    with pytest.raises((TypeError, ValueError), match="player_0"):
        env.step({"player_0": np.stack([good, good]), "player_1": good})
    vec = socialdilemmas.make_vec(env_id, 3, seed=0, **kwargs)
    vec.reset()
    actions = vec.action_space.sample()
    with pytest.raises(ValueError, match="shape"):
        vec.step(actions[:2])
    with pytest.raises(ValueError, match="shape"):
        vec.step(actions[..., None])


def test_out_of_range_action_changes_nothing(variant):
    module, kwargs, env_id = variant
    env = module.parallel_env(**kwargs)
    space = env.action_space("player_0")
    bad = _out_of_range(space)
    env.reset(seed=0)
    good = space.sample()
    before = [env._state.copy(), env._rng.copy(), env._buffers.observations.copy()]
    with pytest.raises(ValueError, match="player_1.*out of range"):
        env.step({"player_0": good, "player_1": bad})
    after = [env._state, env._rng, env._buffers.observations]
    for old, new in zip(before, after, strict=False):
        np.testing.assert_array_equal(old, new)
    assert env.agents == env.possible_agents
    aec = module.env(**kwargs)
    aec.reset(seed=0)
    with pytest.raises(ValueError, match="player_0.*out of range"):
        aec.step(bad)
    vec = socialdilemmas.make_vec(env_id, 3, seed=0, **kwargs)
    vec.reset()
    actions = vec.action_space.sample()
    actions[2, 0] = bad
    with pytest.raises(ValueError, match="player_0 in env 2 is out of range"):
        vec.step(actions)


def _out_of_range(space):
    if hasattr(space, "n"):
        return int(space.n)
    if hasattr(space, "nvec"):
        bad = np.zeros(space.shape, dtype=np.int64)
        bad[-1] = space.nvec[-1]
        return bad
    bad = np.asarray(space.low, dtype=np.float32).copy()
    bad[0] = np.float32(space.high.flat[0]) + np.float32(1.0)
    return bad


@pytest.mark.parametrize("max_cycles", [0, -3])
def test_non_positive_max_cycles(variant, max_cycles):
    module, kwargs, env_id = variant
    with pytest.raises(ValueError, match="max_cycles must be at least 1"):
        module.parallel_env(max_cycles=max_cycles, **kwargs)
    with pytest.raises(ValueError, match="num_envs must be at least 1"):
        socialdilemmas.make_vec(env_id, 0, **kwargs)
    with pytest.raises(TypeError, match="max_cycles must be an integer"):
        module.parallel_env(max_cycles=2.5, **kwargs)


def test_bad_render_mode(variant):
    module, kwargs, _ = variant
    with pytest.raises(ValueError, match="render_mode"):
        module.parallel_env(render_mode="video", **kwargs)


def test_copy_true_returns_fresh_arrays_and_final_observations_only_at_episode_ends(variant):
    _, kwargs, env_id = variant
    vec = socialdilemmas.make_vec(env_id, 3, seed=0, max_cycles=2, **kwargs)
    vec.action_space.seed(0)
    observations, _ = vec.reset()
    first = vec.step(vec.action_space.sample())
    assert not first[3].any()
    assert not first[4]["final_observation"].any()
    assert not first[4]["final_observation"].flags.writeable
    second = vec.step(vec.action_space.sample())
    assert second[3].all()
    final = second[4]["final_observation"]
    assert final.flags.writeable and final.any()
    snapshot = [x.copy() for x in second[:4]]
    vec.step(vec.action_space.sample())
    for before, after in zip(snapshot, second[:4], strict=False):
        np.testing.assert_array_equal(before, after)  # not overwritten by the next step


def test_the_game_names_its_metrics_and_scripted_strategies(variant):
    """A registered game says what is measured in it and whom it is measured against."""
    _, kwargs, env_id = variant
    vec = socialdilemmas.make_vec(env_id, 4, seed=0, **kwargs)
    game = vec.game
    observations, _ = vec.reset()
    frames = {"observations": [], "actions": [], "rewards": []}
    info_frames: dict[str, list] = {}
    vec.action_space.seed(0)
    for _ in range(3):
        actions = vec.action_space.sample()
        frames["observations"].append(observations)
        observations, rewards, _, _, info = vec.step(actions)
        frames["actions"].append(actions)
        frames["rewards"].append(rewards)
        for name in game.info_fields:
            info_frames.setdefault(name, []).append(info[name])
    counts = game.metric_counts(
        *(np.stack(frames[k]) for k in ("observations", "actions", "rewards")),
        {name: np.stack(values) for name, values in info_frames.items()},
    )
    assert game.headline_metric in counts
    for numerator, denominator in counts.values():
        assert numerator.shape == denominator.shape == (2,)
    strategies = game.strategies()
    if kwargs.get("rules") == "pax":  # the Coin Game's strategies need the single-coin rules
        return
    assert {"always_cooperate", "always_defect"} <= set(strategies)
    for factory in strategies.values():
        strategy = factory()
        strategy.reset(4, seed=0)
        actions = strategy.act(observations[:, 0], np.ones(4, dtype=bool))
        assert len(actions) == 4

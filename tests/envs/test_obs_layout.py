"""Observation layouts (``obs_layout``): planes, flat and channel-last views of one observation.

Every registered env and each layout it supports: the spaces match the observations, the values
are the planes reshaped or transposed (nothing else changes), PettingZoo's API tests pass, the
vector env agrees with the PettingZoo env, and a bad value is a clear ``ValueError``.
"""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import api_test, parallel_api_test, state_test
from pettingzoo.utils import parallel_to_aec

import socialdilemmas
from socialdilemmas.core.layout import OBS_LAYOUTS, layout_space, supported_layouts
from socialdilemmas.registration import (
    PETTINGZOO_HAS_REGISTRY,
    env_ids,
    env_module,
    env_variants,
    pettingzoo_id,
)


def native_space(env_id: str) -> spaces.Box:
    return env_module(env_id).parallel_env().game.observation_space


ENV_LAYOUTS = [
    (env_id, layout) for env_id in env_ids() for layout in supported_layouts(native_space(env_id))
]
VARIANT_LAYOUTS = [
    (env_id, kwargs, layout)
    for env_id, _, kwargs in env_variants()
    for layout in supported_layouts(native_space(env_id))
]
VARIANT_LAYOUT_IDS = [
    f"{env_id}-{variant}-{layout}"
    for env_id, variant, _ in env_variants()
    for layout in supported_layouts(native_space(env_id))
]
IMAGE_ENVS = [env_id for env_id in env_ids() if len(native_space(env_id).shape) == 3]
VECTOR_ENVS = [env_id for env_id in env_ids() if len(native_space(env_id).shape) == 1]


def reorder(planes: np.ndarray, layout: str) -> np.ndarray:
    """What an observation in ``layout`` must equal, written independently of the package."""
    if layout == "flat":
        return planes.reshape(-1)
    if layout == "hwc":
        return planes.transpose(1, 2, 0)
    return planes


def expected_shape(native: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "flat":
        return (int(np.prod(native)),)
    if layout == "hwc":
        channels, height, width = native
        return (height, width, channels)
    return native


def test_the_coin_game_offers_every_layout_and_the_vector_games_two():
    assert IMAGE_ENVS == ["coin_game_v0"]
    assert set(VECTOR_ENVS) == {"ipd_v0", "matrix_game_v0", "negotiation_v0"}
    assert supported_layouts(native_space("coin_game_v0")) == OBS_LAYOUTS
    assert supported_layouts(native_space("ipd_v0")) == ("planes", "flat")


# ---- spaces and values -----------------------------------------------------------------------
@pytest.mark.parametrize(("env_id", "layout"), ENV_LAYOUTS)
def test_spaces_and_shapes(env_id, layout):
    module = env_module(env_id)
    env = module.parallel_env(obs_layout=layout)
    native = native_space(env_id).shape
    shape = expected_shape(native, layout)
    observations, _ = env.reset(seed=0)
    assert env.obs_layout == layout
    for agent in env.possible_agents:
        space = env.observation_space(agent)
        assert space is env.observation_space(agent)  # PettingZoo requires the same object
        assert isinstance(space, spaces.Box) and space.dtype == np.float32
        assert space.shape == shape
        assert observations[agent].shape == shape and observations[agent].flags.c_contiguous
        assert space.contains(observations[agent])
    assert env.state_space.shape == shape and env.state().shape == shape
    aec = module.env(obs_layout=layout)
    aec.reset(seed=0)
    assert aec.observe("player_1").shape == shape
    assert aec.observation_space("player_1").shape == shape


@pytest.mark.parametrize(("env_id", "kwargs", "layout"), VARIANT_LAYOUTS, ids=VARIANT_LAYOUT_IDS)
def test_values_are_the_planes_reordered(env_id, kwargs, layout):
    """Same seed and actions: each observation is the planes observation reshaped/transposed,
    and everything else (rewards, ends, infos, the state) is unchanged, across an episode end."""
    module = env_module(env_id)
    planes_env = module.parallel_env(max_cycles=4, **kwargs)
    layout_env = module.parallel_env(max_cycles=4, obs_layout=layout, **kwargs)
    space = planes_env.action_space("player_0")
    space.seed(5)
    planes_obs, _ = planes_env.reset(seed=11)
    layout_obs, _ = layout_env.reset(seed=11)
    for _ in range(10):
        for agent in planes_env.possible_agents:
            np.testing.assert_array_equal(layout_obs[agent], reorder(planes_obs[agent], layout))
        np.testing.assert_array_equal(layout_env.state(), reorder(planes_env.state(), layout))
        if not planes_env.agents:
            planes_obs, _ = planes_env.reset()
            layout_obs, _ = layout_env.reset()
            continue
        actions = {agent: space.sample() for agent in planes_env.agents}
        planes_obs, *planes_rest = planes_env.step(actions)
        layout_obs, *layout_rest = layout_env.step(actions)
        np.testing.assert_equal(layout_rest, planes_rest)


def test_hwc_indexes_row_column_plane():
    """``hwc[row, column, plane] == planes[plane, row, column]``, element by element."""
    from socialdilemmas import coin_game_v0

    planes = coin_game_v0.parallel_env(grid_size=5).reset(seed=3)[0]["player_0"]
    hwc = coin_game_v0.parallel_env(grid_size=5, obs_layout="hwc").reset(seed=3)[0]["player_0"]
    assert planes.any()
    for plane, row, column in np.ndindex(planes.shape):
        assert hwc[row, column, plane] == planes[plane, row, column]


def test_layout_space_reorders_the_bounds():
    """Bounds that differ per element move with their element (the games' are all [0, 1])."""
    low = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    space = spaces.Box(low=low, high=low + 100, dtype=np.float32)
    flat = layout_space(space, "flat")
    hwc = layout_space(space, "hwc")
    np.testing.assert_array_equal(flat.low, low.reshape(-1))
    np.testing.assert_array_equal(hwc.low, low.transpose(1, 2, 0))
    np.testing.assert_array_equal(hwc.high, low.transpose(1, 2, 0) + 100)
    assert layout_space(space, "planes") is space


# ---- PettingZoo's own tests, per layout ------------------------------------------------------
#: api_test warns for MultiDiscrete action spaces (the Negotiation Game); see test_battery.py
EXPECTED_API_WARNINGS = pytest.mark.filterwarnings(
    "ignore:Action space for each agent probably should be:UserWarning"
)


@EXPECTED_API_WARNINGS
@pytest.mark.parametrize(("env_id", "layout"), ENV_LAYOUTS)
def test_pettingzoo_api_tests(env_id, layout):
    module = env_module(env_id)
    api_test(module.env(obs_layout=layout), num_cycles=60)
    api_test(parallel_to_aec(module.parallel_env(obs_layout=layout)), num_cycles=60)
    parallel_api_test(module.parallel_env(obs_layout=layout), num_cycles=60)
    state_test(module.env(obs_layout=layout), module.parallel_env(obs_layout=layout), 20)


@pytest.mark.skipif(not PETTINGZOO_HAS_REGISTRY, reason="PettingZoo < 1.27 has no registry")
def test_registry_passes_the_layout_on():
    import pettingzoo

    env = pettingzoo.make("parallel", pettingzoo_id("coin_game_v0"), obs_layout="hwc")
    assert env.observation_space("player_0").shape == (3, 3, 4)


# ---- the vector env ---------------------------------------------------------------------------
@pytest.mark.parametrize(("env_id", "layout"), ENV_LAYOUTS)
def test_vector_env_matches_pettingzoo_in_every_layout(env_id, layout):
    """Sub-env i of make_vec(seed=s, obs_layout=...) equals a PettingZoo env seeded s + i in
    the same layout, final observations included."""
    num_envs, seed = 3, 40
    vec = socialdilemmas.make_vec(env_id, num_envs, seed=seed, max_cycles=3, obs_layout=layout)
    singles = [env_module(env_id).parallel_env(max_cycles=3, obs_layout=layout) for _ in range(3)]
    shape = expected_shape(native_space(env_id).shape, layout)
    assert vec.obs_layout == layout
    assert vec.single_observation_space.shape == shape
    assert vec.observation_space.shape == (num_envs, 2, *shape)
    vec_obs, _ = vec.reset()
    for i, env in enumerate(singles):
        first, _ = env.reset(seed=seed + i)
        np.testing.assert_array_equal(vec_obs[i], np.stack([first["player_0"], first["player_1"]]))
    vec.action_space.seed(2)
    for _ in range(7):
        assert vec.observation_space.contains(vec_obs)
        actions = vec.action_space.sample()
        vec_obs, _, _, vec_truncs, info = vec.step(actions)
        assert info["final_observation"].shape == vec_obs.shape
        for i, env in enumerate(singles):
            if not env.agents:
                env.reset()
            obs = env.step({"player_0": actions[i, 0], "player_1": actions[i, 1]})[0]
            expected = info["final_observation"] if vec_truncs[i] else vec_obs
            np.testing.assert_array_equal(expected[i, 0], obs["player_0"])
            np.testing.assert_array_equal(expected[i, 1], obs["player_1"])
            if vec_truncs[i]:
                fresh, _ = env.reset()
                np.testing.assert_array_equal(vec_obs[i, 1], fresh["player_1"])


def test_vector_env_copy_false_flat_is_a_view_of_the_buffers():
    vec = socialdilemmas.make_vec("coin_game_v0", 2, seed=0, copy=False, obs_layout="flat")
    observations, _ = vec.reset()
    assert observations.shape == (2, 2, 36)
    assert np.shares_memory(observations, vec._buffers.observations)
    copied = socialdilemmas.make_vec("coin_game_v0", 2, seed=0, obs_layout="flat")
    fresh, _ = copied.reset()
    assert not np.shares_memory(fresh, copied._buffers.observations)
    np.testing.assert_array_equal(fresh, observations)


# ---- bad values -------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", env_ids())
@pytest.mark.parametrize("bad", ["HWC", "chw", "", None, 3, ("flat",)])
def test_unknown_layout_is_a_value_error(env_id, bad):
    module = env_module(env_id)
    message = r"obs_layout must be one of \['planes', 'flat', 'hwc'\], got "
    for make in (module.parallel_env, module.env, module.raw_env):
        with pytest.raises(ValueError, match=message):
            make(obs_layout=bad)
    with pytest.raises(ValueError, match=message):
        socialdilemmas.make_vec(env_id, 2, obs_layout=bad)


@pytest.mark.parametrize("env_id", VECTOR_ENVS)
def test_hwc_on_a_vector_game_names_the_env_and_its_layouts(env_id):
    message = (
        rf"{env_id} observations have shape \(\d+,\), not \(channels, height, width\), so "
        rf"obs_layout='hwc' \(channel-last\) does not apply; {env_id} supports obs_layout in "
        r"\['planes', 'flat'\]"
    )
    with pytest.raises(ValueError, match=message):
        env_module(env_id).parallel_env(obs_layout="hwc")
    with pytest.raises(ValueError, match=message):
        socialdilemmas.make_vec(env_id, 2, obs_layout="hwc")


@pytest.mark.parametrize("env_id", VECTOR_ENVS)
def test_flat_on_a_vector_game_is_the_identity(env_id):
    planes_env = env_module(env_id).parallel_env()
    flat_env = env_module(env_id).parallel_env(obs_layout="flat")
    assert flat_env.observation_space("player_0") == planes_env.observation_space("player_0")
    np.testing.assert_equal(flat_env.reset(seed=4), planes_env.reset(seed=4))

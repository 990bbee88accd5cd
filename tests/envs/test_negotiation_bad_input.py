"""Bad input to the Negotiation Game: clear exceptions, and nothing changed by a rejected step.

The battery (test_battery.py) covers what every env shares: steps outside an episode, missing
or unknown agents, non-positive max_cycles, unknown render modes.
"""

from __future__ import annotations

import numpy as np
import pytest

import socialdilemmas
from socialdilemmas import negotiation_v0

GOOD = np.array([1, 2, 3])


@pytest.mark.parametrize(
    "bad",
    [[5.5, 0, 0], [-0.1, 0, 0], [np.nan, 0, 0], [0, np.inf, 0], [0, 0, -np.inf], [0, 0, 5.0001]],
)
def test_continuous_claims_out_of_range_or_nan_raise(bad):
    env = negotiation_v0.parallel_env(continuous=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="player_1.*out of range"):
        env.step({"player_0": GOOD.astype(np.float32), "player_1": np.array(bad)})


@pytest.mark.parametrize("bad", [[6, 0, 0], [-1, 0, 0], [0, 0, 100]])
def test_discrete_claims_out_of_range_raise(bad):
    env = negotiation_v0.parallel_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="player_0.*out of range"):
        env.step({"player_0": np.array(bad), "player_1": GOOD})


@pytest.mark.parametrize("continuous", [False, True])
@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (np.array([1, 2]), ValueError),
        (np.array([[1, 2, 3]]), ValueError),
        (3, ValueError),
        ("abc", TypeError),
        (None, TypeError),
        (np.array([True, False, True]), TypeError),
    ],
)
def test_wrong_shape_or_type_raise(continuous, bad, error):
    env = negotiation_v0.parallel_env(continuous=continuous)
    env.reset(seed=0)
    with pytest.raises(error):
        env.step({"player_0": GOOD, "player_1": bad})


def test_discrete_env_rejects_float_claims():
    env = negotiation_v0.parallel_env()
    env.reset(seed=0)
    with pytest.raises(TypeError, match="player_0"):
        env.step({"player_0": np.array([1.0, 2.0, 3.0]), "player_1": GOOD})


def test_continuous_env_accepts_integer_claims():
    env = negotiation_v0.parallel_env(continuous=True)
    env.reset(seed=0)
    _, _, _, _, infos = env.step({"player_0": [5, 0, 5], "player_1": GOOD})
    np.testing.assert_array_equal(infos["player_0"]["proposal"], [5.0, 0.0, 5.0])


@pytest.mark.parametrize("continuous", [False, True])
def test_rejected_vector_step_changes_nothing(continuous):
    vec = socialdilemmas.make_vec("negotiation_v0", 4, seed=0, continuous=continuous)
    vec.reset()
    state, rng = vec._state.copy(), vec._rng.copy()
    observations = vec._buffers.observations.copy()
    actions = np.full((4, 2, 3), 2.0 if continuous else 2)
    actions[2, 1, 0] = np.nan if continuous else 7
    with pytest.raises(ValueError, match="player_1 in env 2"):
        vec.step(actions)
    np.testing.assert_array_equal(vec._state, state)
    np.testing.assert_array_equal(vec._rng, rng)
    np.testing.assert_array_equal(vec._buffers.observations, observations)
    with pytest.raises(ValueError, match="shape"):
        vec.step(np.zeros((4, 2, 2)))
    if not continuous:
        with pytest.raises(TypeError):
            vec.step(np.zeros((4, 2, 3)))


def test_aec_env_checks_each_action_when_given():
    env = negotiation_v0.env(continuous=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="player_0"):
        env.step(np.array([np.nan, 0, 0], dtype=np.float32))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"sampling": "cooperative"}, ValueError),
        ({"sampling": None}, ValueError),
        ({"prop_mode": "split"}, ValueError),
        ({"continuous": "yes"}, TypeError),
    ],
)
def test_bad_constructor_arguments(kwargs, error):
    with pytest.raises(error):
        negotiation_v0.parallel_env(**kwargs)
    with pytest.raises(error):
        socialdilemmas.make_vec("negotiation_v0", 2, **kwargs)


def test_clipping_is_opt_in_through_pettingzoos_wrapper():
    from pettingzoo.utils.wrappers import ClipOutOfBoundsWrapper

    env = ClipOutOfBoundsWrapper(negotiation_v0.env(continuous=True))
    env.reset(seed=0)
    env.step(np.array([7.0, -1.0, 2.0], dtype=np.float32))
    env.step(np.array([1.0, 1.0, 2.0], dtype=np.float32))
    np.testing.assert_array_equal(env.infos["player_0"]["proposal"], [5.0, 0.0, 2.0])

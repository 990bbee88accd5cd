"""Observation layouts: the same observation as the game's planes, a flat vector or channel-last.

The kernels write every observation in the game's native layout ("planes": channel-first
``(C, H, W)`` for the Coin Game, a vector for the matrix and negotiation games). Learning
libraries disagree on what they accept: RLlib's default CNN reads height x width x channels,
neither RLlib's nor AgileRL's default CNN takes the Coin Game's ``(4, 3, 3)`` planes, and their
default MLPs take a 1-D vector. An ``obs_layout`` argument of the PettingZoo envs and of
``make_vec`` picks one of

* ``"planes"``: the native layout (the default, and the layout the kernels write);
* ``"flat"``: ``observation.reshape(-1)``, channel-major, a 1-D vector;
* ``"hwc"``: ``np.moveaxis(observation, 0, -1)``, channel-last; only for games whose
  observation is ``(C, H, W)``.

For a game whose observation is already a vector, "flat" is that vector and "hwc" is rejected:
a client that asks for an image should learn at once that there is none, rather than receive a
vector it would feed to a CNN. The values never change, only their order; the spaces' bounds
are reordered the same way.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

#: every layout name, the default first
OBS_LAYOUTS: tuple[str, ...] = ("planes", "flat", "hwc")


def supported_layouts(space: spaces.Space) -> tuple[str, ...]:
    """Layouts that apply to observations in ``space`` (native layout): "hwc" needs (C, H, W)."""
    if len(space.shape or ()) == 3:
        return OBS_LAYOUTS
    return ("planes", "flat")


def check_obs_layout(obs_layout: object, space: spaces.Space, env_name: str) -> str:
    """Return ``obs_layout`` if it applies to ``space``; raise ``ValueError`` naming the problem.

    Args:
        obs_layout: the value given for the ``obs_layout`` argument.
        space: the game's observation space in its native layout.
        env_name: the env's name, for the message (e.g. ``"ipd_v0"``).
    """
    if not isinstance(obs_layout, str) or obs_layout not in OBS_LAYOUTS:
        raise ValueError(f"obs_layout must be one of {list(OBS_LAYOUTS)}, got {obs_layout!r}")
    supported = supported_layouts(space)
    if obs_layout not in supported:
        raise ValueError(
            f"{env_name} observations have shape {space.shape}, not (channels, height, width), "
            f"so obs_layout={obs_layout!r} (channel-last) does not apply; {env_name} supports "
            f"obs_layout in {list(supported)}"
        )
    if obs_layout != "planes" and not isinstance(space, spaces.Box):
        raise ValueError(
            f"obs_layout={obs_layout!r} needs a Box observation space, {env_name} has {space}"
        )
    return obs_layout


def to_layout(observations: np.ndarray, obs_layout: str, batch_ndim: int) -> np.ndarray:
    """View of native-layout ``observations`` in ``obs_layout`` (a view: copy it to keep it).

    Args:
        observations: ``(*batch, *native_shape)`` array.
        obs_layout: one of :data:`OBS_LAYOUTS`, already checked against the game.
        batch_ndim: how many leading axes are batch axes (0 for a single observation, 2 for the
            vector env's ``(num_envs, agents, ...)``).
    """
    if obs_layout == "planes":
        return observations
    if obs_layout == "flat":
        return observations.reshape(*observations.shape[:batch_ndim], -1)
    if obs_layout == "hwc":
        channel, height, width = batch_ndim, batch_ndim + 1, batch_ndim + 2
        return observations.transpose(*range(batch_ndim), height, width, channel)
    raise ValueError(f"obs_layout must be one of {list(OBS_LAYOUTS)}, got {obs_layout!r}")


def layout_space(space: spaces.Space, obs_layout: str) -> spaces.Space:
    """Observation space of one observation in ``obs_layout`` (``space`` itself for "planes")."""
    if obs_layout == "planes":
        return space
    low = np.ascontiguousarray(to_layout(space.low, obs_layout, 0))
    high = np.ascontiguousarray(to_layout(space.high, obs_layout, 0))
    return spaces.Box(low=low, high=high, dtype=space.dtype)


def copy_planes(observation: np.ndarray) -> np.ndarray:
    """A fresh copy of one native-layout observation."""
    return observation.copy()


def copy_flat(observation: np.ndarray) -> np.ndarray:
    """A fresh 1-D copy of one observation (channel-major)."""
    return observation.flatten()


def copy_hwc(observation: np.ndarray) -> np.ndarray:
    """A fresh C-contiguous channel-last copy of one ``(C, H, W)`` observation."""
    # transpose with explicit axes, not np.moveaxis: this runs twice per PettingZoo step, and
    # moveaxis's argument normalisation costs several times the copy of a small board
    return observation.transpose(1, 2, 0).copy()


#: layout -> copier of one observation (module functions, so that envs holding one pickle)
SINGLE_COPIERS = {"planes": copy_planes, "flat": copy_flat, "hwc": copy_hwc}

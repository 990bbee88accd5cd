"""The vector env: ``num_envs`` independent games stepped by one kernel call, NumPy in and out."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from socialdilemmas._rng import seed_streams, seeds_for_batch
from socialdilemmas.core.game import BatchedGame
from socialdilemmas.core.layout import check_obs_layout, layout_space, to_layout
from socialdilemmas.core.validation import MAX_INT64, check_positive_int


class VectorEnv:
    """A batch of ``num_envs`` independent two-player games with automatic reset.

    Arrays are indexed ``[env, seat, ...]``; seat 0 is ``player_0``. Each seat's observation is
    from its own side, so one policy can play either seat.

    * ``reset(seed)`` -> ``(observations, info)``
    * ``step(actions)`` -> ``(observations, rewards, terminations, truncations, info)``

    with ``observations`` ``(num_envs, 2, *obs_shape)`` float32 (``obs_shape`` in
    ``obs_layout``: the game's planes, flattened or channel-last), ``actions``
    ``(num_envs, 2, *action_shape)``, ``rewards`` ``(num_envs, 2)`` float64 and
    ``terminations`` / ``truncations`` ``(num_envs,)`` bool (both seats end together; these games
    never terminate, they are truncated after ``max_cycles`` steps).

    When an episode ends, the same ``step`` call starts the next one (same-step auto-reset):
    ``observations`` holds the new episode's first observation and
    ``info["final_observation"]`` the last observation of the episode that ended (valid where
    ``truncations`` is True; with ``copy=True`` it is a read-only array of zeros on steps where
    no episode ended). The other ``info`` entries describe the step just played.

    Seeding: ``reset(seed=s)`` gives sub-env ``i`` the seed ``s + i``, and sub-env ``i`` then
    behaves exactly like a single PettingZoo env reset with ``seed=s + i``, whatever the batch
    size. A list of ``num_envs`` seeds may be given instead.

    Args:
        game: the game's rules and parameters.
        num_envs: number of games in the batch.
        max_cycles: steps per episode.
        copy: return fresh arrays (True, the default) or the env's own buffers, which the next
            call overwrites (False: faster, for rollouts that copy what they keep).
        render_mode: None, "ansi" or "rgb_array" (renders sub-env 0 unless told otherwise).
        env_id: registered name, for ``repr`` and saved configs.
        seed: seed used by the first ``reset()`` if that call gives none.
        obs_layout: "planes" (the game's own layout, the default), "flat" (one vector per seat)
            or "hwc" (channel-last, games with ``(C, H, W)`` planes only); see
            :mod:`socialdilemmas.core.layout`. With ``copy=False`` a non-default layout is a
            view of the env's buffers ("hwc": a strided one).
    """

    def __init__(
        self,
        game: BatchedGame,
        num_envs: int,
        max_cycles: int,
        copy: bool = True,
        render_mode: str | None = None,
        env_id: str | None = None,
        seed: int | list[int] | np.ndarray | None = None,
        obs_layout: str = "planes",
    ) -> None:
        self.game = game
        self.obs_layout = check_obs_layout(
            obs_layout, game.observation_space, env_id or type(game).__name__
        )
        self.num_envs = check_positive_int(num_envs, "num_envs")
        self.max_cycles = check_positive_int(max_cycles, "max_cycles")
        self.copy = bool(copy)
        if render_mode not in (None, "ansi", "rgb_array"):
            raise ValueError(
                f"render_mode must be None, 'ansi' or 'rgb_array', got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.env_id = env_id
        self.possible_agents = list(game.agents)
        self.num_agents = len(self.possible_agents)
        self.single_observation_space = layout_space(game.observation_space, self.obs_layout)
        self.single_action_space = game.action_space
        self.observation_space = _batched(
            self.single_observation_space, (self.num_envs, self.num_agents)
        )
        self.action_space = _batched(game.action_space, (self.num_envs, self.num_agents))
        self._state, self._rng, self._buffers = game.allocate(self.num_envs)
        self._actions = np.zeros(
            (self.num_envs, self.num_agents, *game.action_shape), dtype=game.action_dtype()
        )
        self._all_envs = np.arange(self.num_envs, dtype=np.int64)
        self._terminations = np.zeros(self.num_envs, dtype=np.bool_)
        self._needs_reset = True
        if seed is not None:
            seeds_for_batch(seed, self.num_envs)  # a bad seed is reported now, not at reset()
        self._first_seed = seed
        self._no_final_observations: np.ndarray | None = None

    def __repr__(self) -> str:
        name = self.env_id or type(self.game).__name__
        return f"VectorEnv({name}, num_envs={self.num_envs}, max_cycles={self.max_cycles})"

    # ---- API ----------------------------------------------------------------------------------
    def reset(
        self, seed: int | list[int] | np.ndarray | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Start a new episode in every sub-env; returns ``(observations, info)``."""
        if options:
            raise ValueError(f"reset() takes no options, got {options!r}")
        if seed is None and self._needs_reset:
            seed, self._first_seed = self._first_seed, None
        if seed is not None or self._needs_reset:
            seed_streams(self._rng, self._all_envs, seeds_for_batch(seed, self.num_envs))
        self.game.reset_envs(self._state, self._rng, self._all_envs, self._buffers)
        self._buffers.truncated[:] = False
        self._needs_reset = False
        return self._out_observations(self._buffers.observations), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Play one step in every sub-env; see the class docstring for the arrays returned."""
        if self._needs_reset:
            raise RuntimeError("step() called before reset(); call reset(seed=...) first")
        self._load_actions(actions)
        bad = self.game.step_envs(
            self._state, self._rng, self._actions, self.max_cycles, True, self._buffers
        )
        if bad >= 0:
            raise ValueError(self.game.describe_bad_action(self._actions, bad))
        buffers = self._buffers
        info = {name: self._out(array) for name, array in buffers.info.items()}
        info["final_observation"] = self._final_observations()
        return (
            self._out_observations(buffers.observations),
            self._out(buffers.rewards),
            self._out(self._terminations),
            self._out(buffers.truncated),
            info,
        )

    def render(self, env: int = 0) -> str | np.ndarray | None:
        """Render sub-env ``env`` in ``render_mode`` (None renders nothing)."""
        if self.render_mode is None:
            return None
        if (
            isinstance(env, (bool, np.bool_))
            or not isinstance(env, (int, np.integer))
            or not (0 <= env < self.num_envs)
        ):
            raise IndexError(f"env must be a sub-env index in [0, {self.num_envs}), got {env!r}")
        if self._needs_reset:
            raise RuntimeError("render() called before reset()")
        if self.render_mode == "ansi":
            return self.game.render_ansi(self._state, self._buffers, env)
        return self.game.render_rgb(self._state, self._buffers, env)

    def close(self) -> None:
        """Release nothing: the env holds only NumPy arrays (kept for API symmetry)."""

    # ---- internals ----------------------------------------------------------------------------
    def _out(self, array: np.ndarray) -> np.ndarray:
        return array.copy() if self.copy else array

    def _out_observations(self, array: np.ndarray) -> np.ndarray:
        if self.obs_layout == "planes":
            return self._out(array)
        view = to_layout(array, self.obs_layout, batch_ndim=2)
        return view.copy() if self.copy else view

    def _final_observations(self) -> np.ndarray:
        # Episodes end together every max_cycles steps, so most steps have no final observation:
        # copying the buffer then would double the cost of a copy=True step for nothing.
        buffers = self._buffers
        if not self.copy or buffers.truncated.any():
            return self._out_observations(buffers.final_observations)
        if self._no_final_observations is None:
            self._no_final_observations = np.zeros(
                self.observation_space.shape, dtype=buffers.final_observations.dtype
            )
            self._no_final_observations.flags.writeable = False
        return self._no_final_observations

    def _load_actions(self, actions: Any) -> None:
        expected = self._actions.shape
        array = np.asarray(actions)
        if array.shape != expected:
            raise ValueError(
                f"actions must have shape {expected} (num_envs, num_agents"
                f"{', *action_shape' if self.game.action_shape else ''}), got {array.shape}"
            )
        if self.game.discrete_actions and not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"actions must be an integer array, got dtype {array.dtype}")
        if array.dtype.kind == "u" and array.size and array.max() > MAX_INT64:
            # the cast to the int64 buffer would wrap these round to negative numbers
            env, seat = np.unravel_index(int(np.argmax(array > MAX_INT64)), array.shape)[:2]
            raise ValueError(
                f"action of {self.possible_agents[seat]} in env {env} is out of range: got "
                f"{array[env, seat].tolist()!r}, expected {self.game.describe_action_range()}"
            )
        if not self.game.discrete_actions and not (
            np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
        ):
            raise TypeError(f"actions must be a float array, got dtype {array.dtype}")
        self._actions[...] = array


def _batched(space: spaces.Space, batch: tuple[int, ...]) -> spaces.Space:
    """The space of a ``batch``-shaped array of elements of ``space``."""
    if isinstance(space, spaces.Discrete):
        return spaces.MultiDiscrete(np.full(batch, space.n, dtype=np.int64))
    if isinstance(space, spaces.MultiDiscrete):
        return spaces.MultiDiscrete(np.broadcast_to(space.nvec, (*batch, *space.shape)).copy())
    if isinstance(space, spaces.Box):
        low = np.broadcast_to(space.low, (*batch, *space.shape))
        high = np.broadcast_to(space.high, (*batch, *space.shape))
        return spaces.Box(low=low.copy(), high=high.copy(), dtype=space.dtype)
    raise TypeError(f"cannot batch space {space!r}")

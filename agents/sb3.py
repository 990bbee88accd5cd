"""Stable-Baselines3 on our games: parameter-sharing self-play through our own ``VecEnv``.

SB3 is single-agent, so :class:`SB3VecEnv` presents a vector env of ``num_envs`` two-player
games as ``2 * num_envs`` single-agent envs: copy ``2 * i + seat`` is seat ``seat`` of game
``i`` (the env-major order :func:`agents.rollout.rollout` uses for self-play). One SB3 model then
plays both seats of every game, which is the parameter-sharing self-play of the PettingZoo SB3
tutorials, without SuperSuit: SuperSuit's ``ConcatVecEnv`` has no ``seed`` method, so
``PPO(..., seed=0)`` crashes on it (ECOSYSTEM.md 2.1), and its copies start from one pickled
state. Here the batch is stepped by one kernel call and seeded per game.

>>> from stable_baselines3 import PPO
>>> from agents.sb3 import SB3VecEnv
>>> model = PPO("MlpPolicy", SB3VecEnv("ipd_v0", num_envs=4), n_steps=16, batch_size=32,
...             seed=0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

import socialdilemmas
from socialdilemmas.core.vector import VectorEnv


class SB3VecEnv(VecEnv):
    """A :class:`~socialdilemmas.core.vector.VectorEnv` as an SB3 ``VecEnv`` of both seats.

    Observation and action spaces are the game's single-agent spaces. Each step returns
    ``(2 * num_envs,)`` rewards and dones; when a game's episode ends, both of its copies are
    done, their info holds ``terminal_observation`` (the last observation of the episode) and
    ``TimeLimit.truncated`` (True: these games end by time limit only, so SB3 bootstraps the
    value of the cut-off state), and the returned observation is the next episode's first.

    Seeding: :meth:`seed` (called by ``PPO(..., seed=s)``) gives copy ``k`` the seed ``s + k``,
    as SB3's ``DummyVecEnv`` does; game ``i`` is reset with the seed of its seat-0 copy
    ``s + 2 * i``. The seeds are used at the next :meth:`reset` only.

    Args:
        env: an env id (``"ipd_v0"``, ...) or a ready :class:`VectorEnv`.
        num_envs: number of two-player games when ``env`` is an id (SB3 sees twice as many).
        seed: seed of the first reset (game ``i`` gets ``seed + 2 * i``) when none is set.
        render_mode: ``None``, ``"ansi"`` or ``"rgb_array"`` for the games (an id only).
        **env_kwargs: the env's arguments (``max_cycles``, ``grid_size``, ...) for an id.

    """

    def __init__(
        self,
        env: str | VectorEnv,
        num_envs: int = 8,
        seed: int | None = None,
        render_mode: str | None = None,
        **env_kwargs: Any,
    ) -> None:
        if isinstance(env, VectorEnv):
            if env_kwargs or render_mode is not None:
                raise ValueError("env_kwargs and render_mode apply only when env is an env id")
            self.vector_env = env
        else:
            self.vector_env = socialdilemmas.make_vec(
                env, num_envs, render_mode=render_mode, **env_kwargs
            )
        vec = self.vector_env
        self.num_games = vec.num_envs
        self.render_mode = vec.render_mode
        super().__init__(2 * vec.num_envs, vec.single_observation_space, vec.single_action_space)
        if seed is not None:
            self.seed(seed)
        self._actions: np.ndarray | None = None

    # ---- the VecEnv protocol ------------------------------------------------------------------
    def reset(self) -> np.ndarray:
        """Reset every game (seeded from :meth:`seed` if it was called since the last reset)."""
        seeds = self._seeds[::2]
        if any(s is None for s in seeds):
            seeds = None if all(s is None for s in seeds) else _fill_missing(seeds)
        observations, _ = self.vector_env.reset(seed=seeds)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._flat(observations)

    def step_async(self, actions: np.ndarray) -> None:
        """Remember ``(2 * num_envs, *action_shape)`` actions for :meth:`step_wait`."""
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Step every game; see the class docstring for episode ends."""
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        vec = self.vector_env
        actions = self._actions.reshape(self.num_games, 2, *vec.game.action_shape)
        self._actions = None
        if vec.game.discrete_actions:
            actions = actions.astype(np.int64, copy=False)
        observations, rewards, terminations, truncations, info = vec.step(actions)
        done = np.logical_or(terminations, truncations)
        dones = np.repeat(done, 2)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done.any():
            final = self._flat(info["final_observation"])
            time_limit = np.repeat(truncations & ~terminations, 2)
            for k in np.flatnonzero(dones):  # only at episode ends, so not per step and game
                infos[k]["terminal_observation"] = final[k]
                infos[k]["TimeLimit.truncated"] = bool(time_limit[k])
        return (
            self._flat(observations),
            rewards.reshape(-1).astype(np.float32),
            dones,
            infos,
        )

    def close(self) -> None:
        """Close the vector env."""
        self.vector_env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        """RGB picture of each copy (both seats of a game show the same board)."""
        if self.render_mode != "rgb_array":
            return [None] * self.num_envs
        return [self.vector_env.render(env=k // 2) for k in range(self.num_envs)]

    def render(self, mode: str | None = None) -> Any:
        """Render game 0 in the env's ``render_mode`` (``"ansi"`` text or an RGB array)."""
        return self.vector_env.render(env=0)

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """Attribute of the underlying vector env, once per selected copy."""
        value = getattr(self, attr_name) if attr_name == "render_mode" else getattr(
            self.vector_env, attr_name
        )
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Set an attribute on the underlying vector env (shared by every copy)."""
        setattr(self.vector_env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of the underlying vector env once per selected copy."""
        method = getattr(self.vector_env, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        """Return False for every copy: the games are not gymnasium envs and have no wrappers."""
        return [False for _ in self._get_indices(indices)]

    # ---- internals ----------------------------------------------------------------------------
    def _flat(self, per_game: np.ndarray) -> np.ndarray:
        return per_game.reshape(self.num_envs, *per_game.shape[2:])


def _fill_missing(seeds: list[int | None]) -> list[int]:
    """Complete a partly seeded list so that every game gets a seed (SB3 seeds all or none)."""
    base = next(s for s in seeds if s is not None)
    return [base + 2 * i if s is None else s for i, s in enumerate(seeds)]


def train_ppo_self_play(
    env_id: str,
    total_timesteps: int,
    num_envs: int = 8,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    **ppo_kwargs: Any,
) -> Any:
    """Train SB3 PPO in parameter-sharing self-play on ``env_id`` and return the model.

    One ``MlpPolicy`` PPO model plays both seats of ``num_envs`` games through
    :class:`SB3VecEnv`; evaluate it with :func:`agents.evaluation.match` or
    :func:`agents.evaluation.league` like any other agent (``as_policy(model)``).

    Args:
        env_id: the game.
        total_timesteps: SB3 steps to train for (each game step counts twice, once per seat).
        num_envs: games played side by side.
        seed: seeds PPO (network, sampling) and the games.
        env_kwargs: the env's arguments.
        **ppo_kwargs: passed to ``PPO`` (``n_steps``, ``batch_size``, ``learning_rate``, ...);
            ``n_steps`` defaults to the episode length, ``batch_size`` to ``2 * n_steps``.

    """
    from stable_baselines3 import PPO

    env = SB3VecEnv(env_id, num_envs=num_envs, **(env_kwargs or {}))
    ppo_kwargs.setdefault("n_steps", env.vector_env.max_cycles)
    # a minibatch size that divides the rollout buffer (n_steps * 2 * num_envs), else SB3 warns
    ppo_kwargs.setdefault("batch_size", 2 * ppo_kwargs["n_steps"])
    ppo_kwargs.setdefault("verbose", 0)
    model = PPO("MlpPolicy", env, seed=seed, **ppo_kwargs)
    model.learn(total_timesteps=total_timesteps)
    return model

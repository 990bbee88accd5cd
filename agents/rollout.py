"""The batched two-seat rollout: two policies play ``num_envs`` games on the vector env.

One Python loop over time steps, none over games: each step is one call per seat (or one call
for both seats when the same policy object plays itself) and one kernel call. Results are torch
tensors indexed ``[t, env, seat, ...]``; observations are copied from the env's buffer straight
into preallocated storage with ``torch.from_numpy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from agents.policy import Policy
from socialdilemmas.core.vector import VectorEnv

#: the :class:`Trajectory` tensors that hold one entry per game, with the axis that indexes the
#: games (``info`` entries are all ``(T, B, ...)``)
GAME_AXES = {
    "observations": 1,
    "actions": 1,
    "log_probs": 1,
    "rewards": 1,
    "episode_starts": 1,
    "dones": 1,
    "next_observations": 0,
}


@dataclass
class Trajectory:
    """What happened in a rollout of ``T`` steps over ``B`` games.

    Attributes:
        observations: ``(T, B, 2, *obs_shape)`` float32, what each seat saw before acting.
        actions: ``(T, B, 2, *action_shape)`` (int64 for discrete games, float32 otherwise).
        log_probs: ``(T, B, 2)`` float32 log-probability of each action under the policy that
            chose it (summed over action components); NaN where that policy gives none.
        rewards: ``(T, B, 2)`` float32.
        episode_starts: ``(T, B)`` bool, True where ``observations[t]`` opens an episode.
        dones: ``(T, B)`` bool, True where step ``t`` ended the episode (always truncation in
            these games).
        next_observations: ``(B, 2, *obs_shape)`` what each seat saw after the last step (the
            episode's final observation where it ended there).
        info: the env's per-step info arrays as ``(T, B, ...)`` tensors (e.g. coin pickups).

    """

    observations: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    rewards: torch.Tensor
    episode_starts: torch.Tensor
    dones: torch.Tensor
    next_observations: torch.Tensor
    info: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        """Number of time steps ``T``."""
        return self.rewards.shape[0]

    @property
    def num_envs(self) -> int:
        """Number of games ``B``."""
        return self.rewards.shape[1]

    @property
    def device(self) -> torch.device:
        """Where the tensors are (the rollout makes them on the CPU)."""
        return self.rewards.device

    def to(self, device: torch.device | str) -> Trajectory:
        """The same trajectory on ``device`` (itself when it is there already)."""
        device = torch.device(device)
        if self.device == device:
            return self
        return Trajectory(
            **{name: getattr(self, name).to(device) for name in GAME_AXES},
            info={name: value.to(device) for name, value in self.info.items()},
        )

    def games(self, index: torch.Tensor) -> Trajectory:
        """Return the games ``index`` (a 1-D index or boolean mask over the ``B`` games)."""
        index = torch.as_tensor(index, device=self.device)
        return Trajectory(
            **{
                name: getattr(self, name)[(slice(None),) * axis + (index,)]
                for name, axis in GAME_AXES.items()
            },
            info={name: value[:, index] for name, value in self.info.items()},
        )

    def seat(self, seat: int) -> Trajectory:
        """Return the trajectory seen from ``seat``: seat axis reordered so ``seat`` comes first."""
        order = [seat, 1 - seat]
        return Trajectory(
            observations=self.observations[:, :, order],
            actions=self.actions[:, :, order],
            log_probs=self.log_probs[:, :, order],
            rewards=self.rewards[:, :, order],
            episode_starts=self.episode_starts,
            dones=self.dones,
            next_observations=self.next_observations[:, order],
            info=self.info,
        )


def concat_games(trajectories: Sequence[Trajectory]) -> Trajectory:
    """Put the games of several trajectories of the same length side by side (in order).

    ``info`` keeps the entries every trajectory has.
    """
    if not trajectories:
        raise ValueError("concat_games needs at least one trajectory")
    lengths = {t.num_steps for t in trajectories}
    if len(lengths) > 1:
        raise ValueError(f"trajectories of different lengths cannot be joined: {sorted(lengths)}")
    shared = set.intersection(*(set(t.info) for t in trajectories))
    return Trajectory(
        **{
            name: torch.cat([getattr(t, name) for t in trajectories], axis)
            for name, axis in GAME_AXES.items()
        },
        info={name: torch.cat([t.info[name] for t in trajectories], 1) for name in sorted(shared)},
    )


def _seat_seeds(seed: int | None) -> list[int | None]:
    if seed is None:
        return [None, None]
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(2)]


def rollout(
    env: VectorEnv,
    policies: Sequence[Policy],
    num_steps: int | None = None,
    seed: int | None = None,
) -> Trajectory:
    """Reset ``env`` and both policies, then play ``num_steps`` steps (default: one episode).

    Args:
        env: the vector env (``copy=False`` is fastest: the rollout copies what it keeps).
        policies: the policy of seat 0 and of seat 1. Passing the same object twice plays it
            against itself with one call per step on a ``2 * num_envs`` batch (both seats'
            observations stacked env-major), so its memory covers both seats.
        num_steps: steps to play; episodes that end are restarted automatically.
        seed: seeds the env (sub-env ``i`` gets ``seed + i``) and the policies' randomness.

    """
    if len(policies) != 2:
        raise ValueError(f"expected one policy per seat (2), got {len(policies)}")
    steps = env.max_cycles if num_steps is None else int(num_steps)
    if steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    num_envs = env.num_envs
    self_play = policies[0] is policies[1]
    game = env.game
    obs_shape = tuple(game.observation_space.shape)
    action_shape = game.action_shape
    action_dtype = game.action_dtype()

    observations, _ = env.reset(seed=seed)
    seat_seeds = _seat_seeds(seed)
    if self_play:
        policies[0].reset(2 * num_envs, seed=seat_seeds[0])
    else:
        for policy, policy_seed in zip(policies, seat_seeds, strict=True):
            policy.reset(num_envs, seed=policy_seed)

    torch_action_dtype = torch.int64 if game.discrete_actions else torch.float32
    out_observations = torch.empty((steps, num_envs, 2, *obs_shape), dtype=torch.float32)
    out_actions = torch.empty((steps, num_envs, 2, *action_shape), dtype=torch_action_dtype)
    out_log_probs = torch.full((steps, num_envs, 2), float("nan"), dtype=torch.float32)
    out_rewards = torch.empty((steps, num_envs, 2), dtype=torch.float32)
    out_starts = torch.empty((steps, num_envs), dtype=torch.bool)
    out_dones = torch.empty((steps, num_envs), dtype=torch.bool)
    out_info: dict[str, torch.Tensor] = {}
    actions = np.empty((num_envs, 2, *action_shape), dtype=action_dtype)
    episode_starts = np.ones(num_envs, dtype=np.bool_)
    done = np.zeros(num_envs, dtype=np.bool_)
    info: dict[str, np.ndarray] = {}

    for t in range(steps):
        out_observations[t] = torch.from_numpy(observations)
        out_starts[t] = torch.from_numpy(episode_starts)
        if self_play:
            flat_obs = observations.reshape(num_envs * 2, *obs_shape)
            chosen, log_probs = policies[0].act_with_log_probs(
                flat_obs, np.repeat(episode_starts, 2)
            )
            actions[...] = _checked_actions(
                policies[0], chosen, (2 * num_envs, *action_shape), game.discrete_actions
            ).reshape(actions.shape)
            if log_probs is not None:
                out_log_probs[t] = torch.as_tensor(log_probs).reshape(num_envs, 2)
        else:
            for seat, policy in enumerate(policies):
                chosen, log_probs = policy.act_with_log_probs(observations[:, seat], episode_starts)
                actions[:, seat] = _checked_actions(
                    policy, chosen, (num_envs, *action_shape), game.discrete_actions
                )
                if log_probs is not None:
                    out_log_probs[t, :, seat] = torch.as_tensor(log_probs).reshape(num_envs)
        out_actions[t] = torch.from_numpy(actions)
        observations, rewards, terminations, truncations, info = env.step(actions)
        out_rewards[t] = torch.from_numpy(rewards)
        np.logical_or(terminations, truncations, out=done)
        out_dones[t] = torch.from_numpy(done)
        for name, array in info.items():
            if name == "final_observation":
                continue
            if name not in out_info:
                out_info[name] = torch.empty((steps, *array.shape), dtype=_torch_dtype(array))
            out_info[name][t] = torch.from_numpy(array)
        episode_starts = done.copy()

    final = info["final_observation"]
    next_observations = np.where(
        done.reshape(-1, *([1] * (observations.ndim - 1))), final, observations
    )
    return Trajectory(
        observations=out_observations,
        actions=out_actions,
        log_probs=out_log_probs,
        rewards=out_rewards,
        episode_starts=out_starts,
        dones=out_dones,
        next_observations=torch.from_numpy(np.ascontiguousarray(next_observations)),
        info=out_info,
    )


def _checked_actions(policy: Policy, chosen, shape: tuple[int, ...], discrete: bool) -> np.ndarray:
    """Return the policy's actions as an array of ``shape``, or raise naming the policy.

    Checked here, not left to the env, because writing into the preallocated action buffer
    would silently truncate float actions and broadcast wrongly shaped ones.
    """
    array = _to_numpy(chosen)
    if array.shape == (*shape, 1):  # a column of scalar actions
        array = array[..., 0]
    if array.shape != shape:
        raise ValueError(
            f"policy {policy.name!r} returned actions of shape {array.shape}, expected {shape} "
            "(batch size, *action_shape)"
        )
    if discrete and not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise TypeError(
            f"policy {policy.name!r} returned {array.dtype} actions; this game's actions are "
            "integers"
        )
    return array


def _to_numpy(actions) -> np.ndarray:
    if isinstance(actions, torch.Tensor):
        return actions.detach().cpu().numpy()
    return np.asarray(actions)


def _torch_dtype(array: np.ndarray) -> torch.dtype:
    return torch.from_numpy(array[:0]).dtype

"""The policy interface: anything that plays one seat over a batch of games.

A policy sees a batch of own-perspective observations ``(num_envs, *obs_shape)`` and returns
one action per game. It keeps whatever per-game memory it needs (a recurrent state, the
opponent's last move) and forgets it for the games whose episode just started, which the caller
marks with ``episode_starts``. Scripted strategies, our learners, checkpoints, SB3 models and
plain callables all satisfy it (see :func:`as_policy`), so any of them can sit in either seat.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agents.seeding import derive_seed


class Policy(ABC):
    """Plays one seat of a batch of games.

    Subclasses implement :meth:`act`; those with memory or randomness also override
    :meth:`reset`. Learners override :meth:`act_with_log_probs` so rollouts can record the
    log-probability of each sampled action.
    """

    #: short name used in league tables and plots
    name: str = "policy"

    def reset(self, num_envs: int, seed: int | None = None) -> None:  # noqa: B027 - optional hook
        """Prepare to play ``num_envs`` games; ``seed`` makes any randomness reproducible."""

    @abstractmethod
    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Actions for a batch of observations.

        Args:
            observations: ``(num_envs, *obs_shape)`` float32, this seat's own view.
            episode_starts: ``(num_envs,)`` bool, True where ``observations`` is the first of an
                episode (forget that game's memory first).

        Returns:
            ``(num_envs, *action_shape)`` actions (NumPy; integer for discrete games).

        """

    def act_with_log_probs(
        self, observations: np.ndarray, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        """Actions and their log-probabilities (None for policies that do not have them)."""
        return self.act(observations, episode_starts), None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class CallablePolicy(Policy):
    """A plain function ``fn(observations) -> actions`` over a batch, as a policy (no memory).

    Args:
        fn: maps ``(num_envs, *obs_shape)`` observations to ``(num_envs, *action_shape)``
            actions (anything ``np.asarray`` accepts).
        name: label in tables; defaults to the function's name.

    """

    def __init__(self, fn: Callable[[np.ndarray], Any], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"expected a callable, got {fn!r}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Call the function on the batch."""
        return np.asarray(self.fn(observations))


class RoutingPolicy(Policy):
    """Plays one seat of a batch whose games are split between several policies.

    Game ``i`` is played by ``policies[groups[i]]``; each sub-policy sees only its games (its
    memory and its randomness are its own). Used for LOQA's self-play against a buffer of past
    selves, where each game of a batch faces its own snapshot, and for Advantage Alignment's
    agent replay buffer.

    Args:
        policies: the sub-policies.
        groups: ``(num_envs,)`` int, the sub-policy of each game.
        name: label in tables.

    """

    def __init__(
        self, policies: Sequence[Policy], groups: np.ndarray, name: str = "routed"
    ) -> None:
        self.policies = list(policies)
        self.groups = np.asarray(groups, dtype=np.int64)
        if self.groups.ndim != 1 or (
            len(self.groups) and not 0 <= self.groups.min() <= self.groups.max() < len(policies)
        ):
            raise ValueError(f"groups must index the {len(policies)} policies, got {groups!r}")
        self.name = name
        self._members = [np.flatnonzero(self.groups == g) for g in range(len(self.policies))]

    @classmethod
    def from_routes(
        cls, routes: Sequence[tuple[Policy, np.ndarray]], name: str = "routed"
    ) -> RoutingPolicy:
        """Build from ``(policy, game indices)`` pairs whose indices partition the batch."""
        indices = [np.asarray(index, dtype=np.int64) for _, index in routes]
        num_envs = sum(len(index) for index in indices)
        covered = np.sort(np.concatenate(indices)) if indices else np.zeros(0, np.int64)
        if not np.array_equal(covered, np.arange(num_envs)):
            raise ValueError("the routes' game indices must partition range(num_envs)")
        groups = np.empty(num_envs, dtype=np.int64)
        for group, index in enumerate(indices):
            groups[index] = group
        return cls([policy for policy, _ in routes], groups, name=name)

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Reset each sub-policy for its own games, from seeds derived from ``seed``."""
        if num_envs != len(self.groups):
            raise ValueError(f"routing covers {len(self.groups)} games, asked for {num_envs}")
        for index, (policy, members) in enumerate(zip(self.policies, self._members, strict=True)):
            if len(members):
                policy.reset(len(members), seed=None if seed is None else derive_seed(seed, index))

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Each sub-policy's actions on its games."""
        return self.act_with_log_probs(observations, episode_starts)[0]

    def act_with_log_probs(
        self, observations: np.ndarray, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        """Actions and log-probabilities (NaN where a sub-policy gives none)."""
        actions: np.ndarray | None = None
        log_probs = np.full(len(self.groups), np.nan, dtype=np.float32)
        for policy, members in zip(self.policies, self._members, strict=True):
            if not len(members):
                continue
            chosen, lp = policy.act_with_log_probs(observations[members], episode_starts[members])
            chosen = np.asarray(chosen)
            if actions is None:
                actions = np.empty((len(self.groups), *chosen.shape[1:]), dtype=chosen.dtype)
            actions[members] = chosen
            if lp is not None:
                log_probs[members] = np.asarray(lp, dtype=np.float32).reshape(-1)
        assert actions is not None
        return actions, log_probs


class EpsilonGreedyPolicy(Policy):
    """With probability ``epsilon`` per game and step, a uniform random action instead.

    LOQA's reference IPD rollouts (``play_episode_scan``, ``epsilon_greedy = 0.2``) explore
    this way; the learner then re-evaluates ``log pi`` of whatever action was played. Discrete
    action spaces only.

    Args:
        policy: the wrapped policy.
        epsilon: replacement probability.
        num_actions: ``n`` of the ``Discrete`` space.

    """

    def __init__(self, policy: Policy, epsilon: float, num_actions: int) -> None:
        self.policy = policy
        self.epsilon = float(epsilon)
        self.num_actions = int(num_actions)
        self.name = f"{policy.name}+eps{epsilon:g}"
        self._rng = np.random.default_rng()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        """Reset the wrapped policy and the exploration stream."""
        sub_seed = None if seed is None else derive_seed(seed, 1)
        self.policy.reset(num_envs, seed=sub_seed)
        self._rng = np.random.default_rng(seed)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        """Actions of the wrapped policy, some replaced by random ones."""
        return self.act_with_log_probs(observations, episode_starts)[0]

    def act_with_log_probs(
        self, observations: np.ndarray, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        """Actions; log-probabilities are those of the wrapped policy (not of the mixture)."""
        actions, log_probs = self.policy.act_with_log_probs(observations, episode_starts)
        actions = np.asarray(actions).copy()
        if self.epsilon > 0:
            explore = self._rng.random(actions.shape[0]) < self.epsilon
            actions[explore] = self._rng.integers(0, self.num_actions, int(explore.sum()))
        return actions, log_probs


def as_policy(obj: Any, name: str | None = None, action_space: Any = None) -> Policy:
    """Wrap ``obj`` in the policy interface.

    Accepts a :class:`Policy` (returned as is), a stable-baselines3 model (anything with a
    ``predict`` method), a torch module mapping observations to logits (discrete) or actions
    (continuous) and a plain callable over a batch of observations.

    ``action_space`` (the game's single-agent space) tells a torch module's output apart (logits
    or actions); a policy that has an ``action_space`` attribute still unset receives it.
    """
    if isinstance(obj, Policy):
        if name:
            obj.name = name
        if action_space is not None and getattr(obj, "action_space", False) is None:
            obj.action_space = action_space
        return obj
    if hasattr(obj, "predict") and hasattr(obj, "policy"):
        from agents.adapters import SB3Policy

        return SB3Policy(obj, name=name)
    try:
        import torch

        if isinstance(obj, torch.nn.Module):
            from agents.adapters import TorchModulePolicy

            return TorchModulePolicy(obj, action_space=action_space, name=name)
    except ImportError:  # pragma: no cover
        pass
    if callable(obj):
        return CallablePolicy(obj, name=name)
    raise TypeError(
        f"cannot use {type(obj).__name__} as a policy: expected a Policy, an SB3 model, a torch "
        "module or a callable mapping a batch of observations to actions"
    )

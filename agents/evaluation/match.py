"""Head-to-head matches: two policies, N episodes, one seed -> rewards per step and metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import socialdilemmas
from agents.evaluation.metrics import add_counts, metric_counts, ratios, swap_seats
from agents.policy import Policy, as_policy
from agents.rollout import rollout
from socialdilemmas.registration import canonical_id


@dataclass
class MatchResult:
    """The outcome of :func:`match`, from the side of each policy (not of each seat).

    Attributes:
        env_id: the game played.
        names: names of policy ``a`` and policy ``b``.
        rewards: mean reward per step of ``a`` and of ``b``.
        metrics: the game's metrics (see :mod:`agents.evaluation.metrics`) as ``[a, b]``.
        episodes: episodes played per seat order.
        steps_per_episode: the game's ``max_cycles``.
        seed: the seed the match was played from.
        both_seats: whether ``a`` and ``b`` also played with seats exchanged (results pooled).
        env_kwargs: the env's arguments.

    """

    env_id: str
    names: tuple[str, str]
    rewards: tuple[float, float]
    metrics: dict[str, list[float]]
    episodes: int
    steps_per_episode: int
    seed: int | None
    both_seats: bool
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (NaN becomes None)."""
        return _json_ready(asdict(self))

    def table(self) -> str:
        """Format rewards and metrics as a two-column text table, one row per quantity."""
        width = max(12, *(len(n) for n in self.names))
        rows = [("reward_per_step", list(self.rewards)), *self.metrics.items()]
        label = max(len(r[0]) for r in rows)
        lines = [
            f"{self.env_id}: {self.episodes} episodes x {self.steps_per_episode} steps, "
            f"seed {self.seed}" + (", both seat orders" if self.both_seats else ""),
            " " * label + "".join(f"  {n:>{width}}" for n in self.names),
        ]
        lines += [
            f"{name:<{label}}" + "".join(f"  {v:>{width}.4f}" for v in values)
            for name, values in rows
        ]
        return "\n".join(lines)


def match(
    policy_a: Any,
    policy_b: Any,
    env_id: str,
    episodes: int = 32,
    num_envs: int | None = None,
    seed: int | None = 0,
    both_seats: bool = False,
    **env_kwargs: Any,
) -> MatchResult:
    """Play ``policy_a`` (seat 0) against ``policy_b`` (seat 1) for ``episodes`` episodes.

    Args:
        policy_a: anything :func:`agents.policy.as_policy` accepts (a policy, a callable, a torch
            module, an SB3 model). Passing the same object twice is self-play: one call per step
            on a doubled batch.
        policy_b: the opponent.
        env_id: the game, e.g. ``"ipd_v0"``.
        episodes: episodes per seat order.
        num_envs: games played side by side (default: all ``episodes`` at once); must divide
            ``episodes``. Later episodes follow in the same games after the automatic reset.
        seed: seeds the games (game ``i`` gets ``seed + i``) and the policies' randomness
            (scripted tie-breaks, sampling). The same seed gives the same result.
        both_seats: also play with seats exchanged, from the same seed, and pool both orders;
            removes any first-mover or seat asymmetry of the game from the comparison.
        **env_kwargs: the env's arguments (``max_cycles``, ``grid_size``, ``payoffs``, ...).

    Returns:
        a :class:`MatchResult` from the side of ``policy_a`` and ``policy_b``.

    """
    name = canonical_id(env_id)
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    num_envs = episodes if num_envs is None else num_envs
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
    if episodes % num_envs:
        raise ValueError(f"num_envs ({num_envs}) must divide episodes ({episodes})")
    env = socialdilemmas.make_vec(name, num_envs, copy=False, **env_kwargs)
    space = env.single_action_space
    a = as_policy(policy_a, action_space=space)
    b = a if policy_b is policy_a else as_policy(policy_b, action_space=space)
    steps = env.max_cycles * (episodes // num_envs)
    counts = _play(env, a, b, steps, seed)
    if both_seats and b is not a:
        counts = add_counts(counts, swap_seats(_play(env, b, a, steps, seed)))
    values = ratios(counts)
    rewards = values.pop("reward_per_step")
    return MatchResult(
        env_id=name,
        names=(a.name, b.name),
        rewards=(rewards[0], rewards[1]),
        metrics=values,
        episodes=episodes,
        steps_per_episode=env.max_cycles,
        seed=seed,
        both_seats=bool(both_seats),
        env_kwargs=dict(env_kwargs),
    )


def _play(env, seat0: Policy, seat1: Policy, steps: int, seed: int | None):
    return metric_counts(rollout(env, [seat0, seat1], num_steps=steps, seed=seed), env.game)


def _json_ready(value: Any) -> Any:
    """Replace NaN by None and tuples by lists, recursively (JSON has no NaN)."""
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars (e.g. a payoff table)
        return _json_ready(value.tolist())
    return value

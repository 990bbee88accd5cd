"""One headline number per game, read off a training batch, for progress bars and logs.

:data:`GAME_METRICS` maps a registered env id to a function of a :class:`~agents.Trajectory`
returning ``{name: value}``; games without an entry report none.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from agents.rollout import Trajectory


def cooperation_rate(trajectory: Trajectory) -> dict[str, float]:
    """Share of moves that are action 0 (cooperate), both seats together."""
    return {"cooperation": float((trajectory.actions == 0).float().mean())}


def own_coin_fraction(trajectory: Trajectory) -> dict[str, float]:
    """Share of collected coins that were the collector's own (NaN if none was collected).

    Reads ``info["pickups"][t, env, picker, owner]``.
    """
    pickups = trajectory.info["pickups"].sum((0, 1)).to(torch.float64)
    total = float(pickups.sum())
    own = float(pickups.diagonal().sum())
    return {"own_coin_fraction": own / total if total else float("nan")}


def welfare_ratio(trajectory: Trajectory) -> dict[str, float]:
    """Compute both players' summed rewards over the best possible sum of the rounds."""
    best = float(trajectory.info["max_welfare"].sum())
    got = float(trajectory.rewards.sum())
    return {"welfare_ratio": got / best if best else float("nan")}


#: env id -> function of a trajectory returning its headline metrics
GAME_METRICS: dict[str, Callable[[Trajectory], dict[str, float]]] = {
    "ipd_v0": cooperation_rate,
    "matrix_game_v0": cooperation_rate,
    "coin_game_v0": own_coin_fraction,
    "negotiation_v0": welfare_ratio,
}


def game_metrics(env_id: str | None, trajectory: Trajectory) -> dict[str, float]:
    """Compute the headline metrics of ``env_id`` for ``trajectory`` (empty for unknown games)."""
    function = GAME_METRICS.get(env_id or "")
    return function(trajectory) if function else {}

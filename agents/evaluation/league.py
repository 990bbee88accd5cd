"""Round-robin leagues: every pair of policies, self-play included, as the papers tabulate them.

Cell ``[i, j]`` of a league table is what the *row* agent ``i`` got (mean reward per step, or a
metric from its side) when playing against the *column* agent ``j``; the column agent's own
number is cell ``[j, i]``. This is the layout of the LOQA and AA league figures.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.evaluation.match import _json_ready, match
from agents.policy import as_policy
from socialdilemmas.registration import canonical_id


@dataclass
class LeagueResult:
    """The tables of a :func:`league`.

    Attributes:
        env_id: the game played.
        names: the agents, in row/column order.
        rewards: ``(k, k)`` mean reward per step of the row agent against the column agent.
        metrics: the game's metrics, each a ``(k, k)`` table from the row agent's side.
        episodes: episodes per match and seat order.
        seed: the seed every match was played from.
        both_seats: whether each pair played both seat orders.
        env_kwargs: the env's arguments.

    """

    env_id: str
    names: list[str]
    rewards: np.ndarray
    metrics: dict[str, np.ndarray]
    episodes: int
    seed: int | None
    both_seats: bool
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def table(self, metric: str = "reward_per_step") -> np.ndarray:
        """Return the ``(k, k)`` table of ``metric`` (``"reward_per_step"`` or a game metric)."""
        if metric == "reward_per_step":
            return self.rewards
        if metric not in self.metrics:
            raise KeyError(
                f"no metric {metric!r} for {self.env_id}; have {['reward_per_step', *self.metrics]}"
            )
        return self.metrics[metric]

    def format(self, metric: str = "reward_per_step", digits: int = 3) -> str:
        """Format the table of ``metric`` as aligned text (rows: agent, columns: opponent)."""
        values = self.table(metric)
        width = max(digits + 4, *(len(n) for n in self.names))
        corner = "agent \\ opponent"
        label = max(len(corner), *(len(n) for n in self.names))
        lines = [
            f"{metric} of the row agent against the column agent ({self.env_id})",
            f"{corner:<{label}}" + "".join(f"  {n:>{width}}" for n in self.names),
        ]
        for name, row in zip(self.names, values, strict=True):
            lines.append(f"{name:<{label}}" + "".join(f"  {v:>{width}.{digits}f}" for v in row))
        return "\n".join(lines)

    def to_csv(self, path: str | Path, metric: str = "reward_per_step") -> Path:
        """Write the table of ``metric`` as CSV: header ``agent,<names>``, one row per agent."""
        path = Path(path)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["agent", *self.names])
            for name, row in zip(self.names, self.table(metric), strict=True):
                writer.writerow([name, *(repr(float(v)) for v in row)])
        return path

    def to_dict(self) -> dict[str, Any]:
        """Everything as a JSON-ready dict (tables as nested lists, NaN as None)."""
        return _json_ready(
            {
                "env_id": self.env_id,
                "names": list(self.names),
                "episodes": self.episodes,
                "seed": self.seed,
                "both_seats": self.both_seats,
                "env_kwargs": self.env_kwargs,
                "layout": "table[row][column] = row agent's value against the column agent",
                "rewards": self.rewards.tolist(),
                "metrics": {name: table.tolist() for name, table in self.metrics.items()},
            }
        )

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` to ``path``."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def heatmap_png(self, path: str | Path, metric: str = "reward_per_step") -> Path:
        """Draw the table of ``metric`` as an annotated heatmap PNG (needs matplotlib)."""
        from agents.evaluation.plots import heatmap_png

        return heatmap_png(
            self.table(metric),
            self.names,
            path,
            title=f"{self.env_id}: {metric} of row agent vs column agent",
        )

    def save(self, folder: str | Path, metric: str = "reward_per_step") -> list[Path]:
        """Write ``league.csv`` (table of ``metric``), ``league.json`` and ``league.png``.

        Returns the paths written; ``folder`` is created if needed.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return [
            self.to_csv(folder / "league.csv", metric=metric),
            self.to_json(folder / "league.json"),
            self.heatmap_png(folder / "league.png", metric=metric),
        ]


def league(
    policies: Mapping[str, Any] | Sequence[Any],
    env_id: str,
    episodes: int = 32,
    num_envs: int | None = None,
    seed: int | None = 0,
    both_seats: bool = True,
    progress: bool = False,
    **env_kwargs: Any,
) -> LeagueResult:
    """Round robin of every pair of ``policies``, self-play included.

    Each unordered pair plays one :func:`match` (both seat orders by default), from the same
    ``seed``, so every pairing faces the same game randomness; a policy against itself plays
    self-play (the same object in both seats, one call per step).

    Args:
        policies: ``{name: policy}`` or a sequence of policies (named by their ``name``); each
            value is anything :func:`agents.policy.as_policy` accepts.
        env_id: the game.
        episodes: episodes per match and seat order.
        num_envs: games side by side (default: all episodes at once).
        seed: seed of every match.
        both_seats: play each pair in both seat orders and pool them.
        progress: show a progress bar over matches (needs tqdm).
        **env_kwargs: the env's arguments.

    """
    named = name_policies(policies)
    names = list(named)
    k = len(names)
    rewards = np.full((k, k), np.nan)
    metrics: dict[str, np.ndarray] = {}
    pairs = [(i, j) for i in range(k) for j in range(i, k)]
    if progress:
        from tqdm import tqdm

        pairs = tqdm(pairs, desc="league", unit="match")
    for i, j in pairs:
        result = match(
            named[names[i]],
            named[names[j]],
            env_id,
            episodes=episodes,
            num_envs=num_envs,
            seed=seed,
            both_seats=both_seats,
            **env_kwargs,
        )
        for (row, col), seat in (((i, j), 0), ((j, i), 1)):
            rewards[row, col] = result.rewards[seat]
            for metric, values in result.metrics.items():
                metrics.setdefault(metric, np.full((k, k), np.nan))[row, col] = values[seat]
        if i == j:  # self-play: both seats are the row agent; report their mean
            rewards[i, i] = _mean_of_seats(result.rewards)
            for metric, values in result.metrics.items():
                metrics[metric][i, i] = _mean_of_seats(values)
    return LeagueResult(
        env_id=canonical_id(env_id),
        names=names,
        rewards=rewards,
        metrics=metrics,
        episodes=episodes,
        seed=seed,
        both_seats=bool(both_seats),
        env_kwargs=dict(env_kwargs),
    )


def _mean_of_seats(values: Sequence[float]) -> float:
    """Mean of the two seats' values, ignoring a NaN seat (e.g. a state one seat never saw)."""
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def name_policies(policies: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    """Return ``{unique name: policy}``, every value passed through ``as_policy``.

    A mapping's keys become the policies' names; a sequence's policies keep their own names,
    with ``_2``, ``_3``, ... added to repeats (and set on the policy, so tables agree).
    """
    if isinstance(policies, Mapping):
        named = {str(name): as_policy(p, name=str(name)) for name, p in policies.items()}
    else:
        named = {}
        for policy in policies:
            wrapped = as_policy(policy)
            name, n = wrapped.name, 2
            while name in named:
                name, n = f"{wrapped.name}_{n}", n + 1
            wrapped.name = name
            named[name] = wrapped
    if not named:
        raise ValueError("a league needs at least one policy")
    return named

"""Leagues between algorithms, each represented by several trained seeds: the papers' protocol.

The LOQA and Advantage Alignment papers print their Coin Game league with one row and column
per *algorithm*: every agent of every seed plays every other agent (the LOQA repository's
``league/run_league.py``, ``get_combinations`` in mode ``all``: pairs ``j >= i`` over all
agents, ``MiladInk/loqa@32f50c9``), and a cell averages the pairs between the two groups. A
group's self-play cell is therefore mostly *cross-seed* (seed 1 against seed 3), not each seed
against itself. :func:`seed_league` plays that protocol and reports, for each group's diagonal,
the cross-seed and the same-seed pairs apart as well as together.

Each pair plays one :func:`~agents.evaluation.match` (32 episodes per seat order by default, the
reference's batch; both seat orders pooled). The value of a pair for cell ``[A, B]`` is what
the member of ``A`` got against the member of ``B``; a pair within one group (a seed against
itself or against another seed of its group) counts once, as the mean of its two players. Each
cell is the mean over its pairs, with the standard deviation over pairs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.evaluation.league import _mean_of_seats
from agents.evaluation.match import _json_ready, match
from agents.policy import Policy, as_policy
from socialdilemmas.registration import canonical_id

#: the kinds of pairs a group's diagonal cell pools
PAIR_KINDS = ("all", "cross_seed", "same_seed")


@dataclass
class CellStats:
    """Mean, standard deviation (over pairs; 0 for one pair) and number of pairs of a cell."""

    mean: float
    std: float
    pairs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> CellStats:
        """The statistics of ``values`` (NaN entries, a metric a pair never saw, ignored)."""
        finite = np.asarray([v for v in values if not np.isnan(v)], dtype=np.float64)
        if not len(finite):
            return cls(float("nan"), float("nan"), 0)
        return cls(float(finite.mean()), float(finite.std()), len(finite))


@dataclass
class SeedLeagueResult:
    """The tables of a :func:`seed_league`.

    Attributes:
        env_id: the game played.
        groups: the algorithms, in row/column order.
        members: the agents' names in each group.
        cells: ``cells[metric][(row group, column group)]`` -> :class:`CellStats`; metric
            ``reward_per_step`` and the game's metrics.
        diagonal: ``diagonal[metric][group][kind]`` for ``kind`` in :data:`PAIR_KINDS`.
        episodes: episodes per match and seat order.
        seed: the seed every match was played from.
        env_kwargs: the env's arguments.

    """

    env_id: str
    groups: list[str]
    members: dict[str, list[str]]
    cells: dict[str, dict[tuple[str, str], CellStats]]
    diagonal: dict[str, dict[str, dict[str, CellStats]]]
    episodes: int
    seed: int | None
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> list[str]:
        """The metrics the tables hold."""
        return list(self.cells)

    def mean_table(self, metric: str = "reward_per_step") -> np.ndarray:
        """``(k, k)`` means of ``metric``: the row group's value against the column group."""
        if metric not in self.cells:
            raise KeyError(f"no metric {metric!r} for {self.env_id}; have {self.metrics()}")
        k = len(self.groups)
        table = np.full((k, k), np.nan)
        for (row, col), stats in self.cells[metric].items():
            table[self.groups.index(row), self.groups.index(col)] = stats.mean
        return table

    def format(self, metric: str = "reward_per_step", digits: int = 3) -> str:
        """Text tables: mean +- std over pairs per cell, then each group's self-play by kind."""
        self.mean_table(metric)  # checks the name
        cells = self.cells[metric]
        width = max(2 * digits + 10, *(len(g) for g in self.groups))
        corner = "group \\ opponent"
        label = max(len(corner), *(len(g) for g in self.groups))
        lines = [
            f"{metric} of the row group against the column group ({self.env_id}; mean +- std "
            f"over seed pairs, {self.episodes} episodes per pair and seat order)",
            f"{corner:<{label}}" + "".join(f"  {g:>{width}}" for g in self.groups),
        ]
        for row in self.groups:
            texts = [_format_stats(cells[(row, col)], digits) for col in self.groups]
            lines.append(f"{row:<{label}}" + "".join(f"  {t:>{width}}" for t in texts))
        lines.append("")
        lines.append("self-play cells by kind of pair (mean +- std, number of pairs):")
        for group in self.groups:
            kinds = self.diagonal[metric][group]
            parts = [
                f"{kind} {_format_stats(kinds[kind], digits)} ({kinds[kind].pairs})"
                for kind in PAIR_KINDS
            ]
            lines.append(f"  {group}: " + "; ".join(parts))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Everything as a JSON-ready dict."""
        return _json_ready(
            {
                "env_id": self.env_id,
                "groups": self.groups,
                "members": self.members,
                "episodes": self.episodes,
                "seed": self.seed,
                "env_kwargs": self.env_kwargs,
                "protocol": "cells average every pair of seeds between two groups, pairs j >= i "
                "within a group (the LOQA repository's league); mean and std over pairs",
                "cells": {
                    metric: {f"{row} vs {col}": vars(stats) for (row, col), stats in cells.items()}
                    for metric, cells in self.cells.items()
                },
                "self_play": {
                    metric: {
                        group: {kind: vars(stats) for kind, stats in kinds.items()}
                        for group, kinds in groups.items()
                    }
                    for metric, groups in self.diagonal.items()
                },
            }
        )

    def save(self, folder: str | Path, metric: str = "reward_per_step") -> list[Path]:
        """Write ``seed_league.csv`` (means and stds of ``metric``), ``.json`` and ``.png``."""
        from agents.evaluation.plots import heatmap_png

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / "seed_league.csv"
        with csv_path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["group", "opponent", "mean", "std", "pairs"])
            for (row, col), stats in self.cells[metric].items():
                writer.writerow([row, col, repr(stats.mean), repr(stats.std), stats.pairs])
        json_path = folder / "seed_league.json"
        json_path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        png_path = heatmap_png(
            self.mean_table(metric),
            self.groups,
            folder / "seed_league.png",
            title=f"{self.env_id}: {metric}, mean over seed pairs",
        )
        return [csv_path, json_path, png_path]


def _format_stats(stats: CellStats, digits: int) -> str:
    return f"{stats.mean:.{digits}f} +- {stats.std:.{digits}f}"


def seed_league(
    groups: Mapping[str, Sequence[Any]],
    env_id: str,
    episodes: int = 32,
    num_envs: int | None = None,
    seed: int | None = 0,
    both_seats: bool = True,
    progress: bool = False,
    **env_kwargs: Any,
) -> SeedLeagueResult:
    """Play every pair of agents across ``groups`` and tabulate by group (see the module doc).

    Args:
        groups: ``{algorithm: [agent of each seed, ...]}``; a scripted strategy is a group of
            one. Each agent is anything :func:`agents.policy.as_policy` accepts.
        env_id: the game.
        episodes: episodes per match and seat order (32 as the reference league).
        num_envs: games side by side (default: all episodes at once).
        seed: seed of every match.
        both_seats: play each pair in both seat orders and pool them.
        progress: show a progress bar over matches (needs tqdm).
        **env_kwargs: the env's arguments.

    """
    if not groups:
        raise ValueError("a seed league needs at least one group")
    names = [str(name) for name in groups]
    members: dict[str, list[Policy]] = {}
    for name, agents in zip(names, groups.values(), strict=True):
        agents = list(agents)
        if not agents:
            raise ValueError(f"group {name!r} has no agents")
        members[name] = [
            as_policy(agent, name=f"{name}[{index}]") for index, agent in enumerate(agents)
        ]
    flat = [
        (group, index, policy) for group in names for index, policy in enumerate(members[group])
    ]
    pairs = [(flat[i], flat[j]) for i in range(len(flat)) for j in range(i, len(flat))]
    if progress:
        from tqdm import tqdm

        pairs = tqdm(pairs, desc="seed league", unit="match")
    values: dict[str, dict[tuple[str, str], list[float]]] = {}
    kinds: dict[str, dict[str, dict[str, list[float]]]] = {}
    for (group_a, index_a, agent_a), (group_b, index_b, agent_b) in pairs:
        result = match(
            agent_a,
            agent_b,
            env_id,
            episodes=episodes,
            num_envs=num_envs,
            seed=seed,
            both_seats=both_seats,
            **env_kwargs,
        )
        quantities = {"reward_per_step": list(result.rewards), **result.metrics}
        for metric, (value_a, value_b) in quantities.items():
            cells = values.setdefault(metric, {})
            if group_a == group_b:
                pooled = _mean_of_seats([value_a, value_b])
                cells.setdefault((group_a, group_a), []).append(pooled)
                kind = "same_seed" if index_a == index_b else "cross_seed"
                by_kind = kinds.setdefault(metric, {}).setdefault(group_a, {})
                by_kind.setdefault(kind, []).append(pooled)
            else:
                cells.setdefault((group_a, group_b), []).append(value_a)
                cells.setdefault((group_b, group_a), []).append(value_b)
    cells = {
        metric: {(row, col): CellStats.of(by_cell[(row, col)]) for row in names for col in names}
        for metric, by_cell in values.items()
    }
    diagonal = {
        metric: {
            group: {
                "all": cells[metric][(group, group)],
                **{
                    kind: CellStats.of(kinds.get(metric, {}).get(group, {}).get(kind, []))
                    for kind in ("cross_seed", "same_seed")
                },
            }
            for group in names
        }
        for metric in values
    }
    return SeedLeagueResult(
        env_id=canonical_id(env_id),
        groups=names,
        members={group: [policy.name for policy in members[group]] for group in names},
        cells=cells,
        diagonal=diagonal,
        episodes=episodes,
        seed=seed,
        env_kwargs=dict(env_kwargs),
    )


__all__ = ["PAIR_KINDS", "CellStats", "SeedLeagueResult", "seed_league"]

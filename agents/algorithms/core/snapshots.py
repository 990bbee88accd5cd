"""Seat 1 played by past snapshots of the agent: which games each snapshot plays, and how.

Self-play against a buffer of past selves (LOQA's agent buffer, Advantage Alignment's agent
replay buffer) splits a batch's games between the current network and a few snapshots drawn
from an :class:`~agents.algorithms.core.replay.AgentReplayBuffer`. A :class:`SnapshotPool`
draws the snapshots of one batch into scratch networks and returns a :class:`SnapshotRouting`:
each game's seat-1 network, a :class:`~agents.policy.RoutingPolicy` that plays them, and the
games of each snapshot (whose data the learner must treat as the snapshot's, not its own).

The references draw one snapshot per game (vmapped in JAX); here a batch draws at most
``max_snapshots`` (uniformly, with replacement) and splits its games between them, so a CPU
rollout makes a few calls per step instead of one per game.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from agents.algorithms.core.replay import AgentReplayBuffer
from agents.nn import NetworkPolicy
from agents.policy import Policy, RoutingPolicy

#: how a batch's snapshot games are split between the drawn snapshots
LAYOUTS = ("blocks", "interleaved")


@dataclass
class SnapshotRouting:
    """Which network plays seat 1 in each game of one batch.

    ``networks[0]`` is the current agent's network; ``groups[b]`` indexes ``networks`` for game
    ``b``; ``picks[k]`` is the buffer index of ``networks[k + 1]``.
    """

    groups: np.ndarray
    networks: list[nn.Module]
    picks: list[int]

    @classmethod
    def current_only(cls, network: nn.Module, num_envs: int) -> SnapshotRouting:
        """Every game against the current network."""
        return cls(np.zeros(num_envs, dtype=np.int64), [network], [])

    def games(self, group: int) -> np.ndarray:
        """Indices of the games whose seat 1 is ``networks[group]``."""
        return np.flatnonzero(self.groups == group)

    def snapshots(self) -> Iterator[tuple[nn.Module, np.ndarray]]:
        """``(snapshot network, its games)`` for every drawn snapshot that plays a game."""
        for group in range(1, len(self.networks)):
            games = self.games(group)
            if len(games):
                yield self.networks[group], games

    def seat_policy(self, name: str = "current+snapshots") -> Policy:
        """A policy that plays each game with its network (fresh memory for the current one)."""
        labels = ["current", *(f"snapshot_{pick}" for pick in self.picks)]
        subs = [
            NetworkPolicy(network, name=label)
            for network, label in zip(self.networks, labels, strict=True)
        ]
        return RoutingPolicy(subs, self.groups, name=name)


class SnapshotPool:
    """Draws the snapshots of a batch from ``buffer`` into reusable scratch networks.

    Args:
        buffer: the agent replay buffer holding the snapshots.
        make_network: builds a network the snapshots' weights fit.

    """

    def __init__(self, buffer: AgentReplayBuffer, make_network: Callable[[], nn.Module]) -> None:
        self.buffer = buffer
        self.make_network = make_network
        self._scratch: list[nn.Module] = []

    def route(
        self,
        current: nn.Module,
        num_envs: int,
        num_current: int,
        max_snapshots: int,
        generator: torch.Generator,
        layout: str,
    ) -> SnapshotRouting:
        """Seat 1 of games ``[0, num_current)`` to ``current``, the rest to drawn snapshots.

        ``min(max_snapshots, num_envs - num_current)`` snapshots are drawn uniformly with
        replacement (``generator``); ``layout`` ``"blocks"`` gives each a contiguous block of
        the remaining games (sizes differing by at most one), ``"interleaved"`` deals the games
        out in turn.
        """
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        count = min(max_snapshots, num_envs - num_current)
        picks = self.buffer.sample_indices(count, generator).tolist()
        groups = np.zeros(num_envs, dtype=np.int64)
        snapshot_games = np.arange(num_current, num_envs, dtype=np.int64)
        if count and layout == "blocks":
            for index, block in enumerate(np.array_split(snapshot_games, count)):
                groups[block] = 1 + index
        elif count:
            groups[num_current:] = 1 + np.arange(len(snapshot_games)) % count
        while len(self._scratch) < count:
            # the scratch weights are overwritten below: keep the caller's random stream intact
            with torch.random.fork_rng(devices=[]):
                self._scratch.append(self.make_network().requires_grad_(False))
        networks = [current]
        for network, pick in zip(self._scratch, picks, strict=False):
            network.load_state_dict(self.buffer.get(pick))
            networks.append(network)
        return SnapshotRouting(groups, networks, picks)


__all__ = ["LAYOUTS", "SnapshotPool", "SnapshotRouting"]

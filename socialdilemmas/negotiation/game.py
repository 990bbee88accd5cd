"""The Negotiation Game as a :class:`BatchedGame` over the kernels in ``kernels.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

from socialdilemmas.core.compile_notice import announce_cold_compile
from socialdilemmas.core.game import BatchedGame, MetricCounts, StepBuffers
from socialdilemmas.core.strategy import Strategy
from socialdilemmas.core.validation import check_choice
from socialdilemmas.negotiation import kernels, strategies

#: sampling_type -> kernel code
SAMPLING_TYPES: dict[str, int] = {
    "high_contrast": kernels.HIGH_CONTRAST,
    "uniform": kernels.UNIFORM,
    "no_sampling": kernels.FIXED,
    "high_contrast_no_sampling": kernels.FIXED,
}

#: the fixed rounds of the two debug modes: rows pool, player_0's and player_1's utilities
FIXED_ROUNDS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "no_sampling": ((4, 4, 4), (10, 3, 2), (3, 10, 2)),
    "high_contrast_no_sampling": ((1, 1, 1), (5, 5, 1), (1, 1, 5)),
}

#: prop_mode -> kernel code
PROP_MODES: dict[str, int] = {
    "divide_when_above": kernels.DIVIDE_WHEN_ABOVE,
    "proportion": kernels.PROPORTION,
}


class NegotiationGame(BatchedGame):
    """The AA social-dilemma Negotiation Game (see ``negotiation_v0`` for the rules).

    Args:
        sampling: how each round's pool and utilities are drawn: ``"high_contrast"``
            (default), ``"uniform"``, ``"no_sampling"`` or ``"high_contrast_no_sampling"``.
        prop_mode: how claims become shares: ``"divide_when_above"`` (default) or
            ``"proportion"``.
        continuous: proposals are float ``Box(0, 5, (3,))`` instead of ``MultiDiscrete([6]*3)``.

    """

    state_width = kernels.STATE_WIDTH
    headline_metric = "welfare_share"

    def __init__(
        self,
        sampling: str = "high_contrast",
        prop_mode: str = "divide_when_above",
        continuous: bool = False,
    ) -> None:
        self.sampling = check_choice(sampling, "sampling", tuple(SAMPLING_TYPES))
        self.prop_mode = check_choice(prop_mode, "prop_mode", tuple(PROP_MODES))
        if not isinstance(continuous, (bool, np.bool_)):
            raise TypeError(f"continuous must be True or False, got {continuous!r}")
        self.continuous = bool(continuous)
        self._sampling_code = SAMPLING_TYPES[self.sampling]
        self._split_code = PROP_MODES[self.prop_mode]
        # the kernels always take a table; the sampling modes simply never read it
        self._fixed = np.array(FIXED_ROUNDS.get(self.sampling, ((0, 0, 0),) * 3), dtype=np.int64)
        self._fixed.setflags(write=False)
        n = kernels.NUM_ITEMS
        # pool <= 5, utilities <= 10 and claims <= 5 in every mode, so /10 stays in [0, 1]
        self.observation_space = spaces.Box(0.0, 1.0, shape=(kernels.OBS_SIZE,), dtype=np.float32)
        if self.continuous:
            self.action_space = spaces.Box(
                0.0, float(kernels.MAX_CLAIM), shape=(n,), dtype=np.float32
            )
        else:
            self.action_space = spaces.MultiDiscrete(np.full(n, kernels.MAX_CLAIM + 1))
        self.info_fields = {
            "pool": ((n,), np.int64),
            "utilities": ((2, n), np.int64),
            "proposals": ((2, n), np.float64),
            "shares": ((2, n), np.float64),
            "max_welfare": ((), np.float64),
            "round": ((), np.int64),
        }

    def reset_envs(self, state, rng, env_ids, buffers: StepBuffers) -> None:
        """Start episodes: draw each game's first round; nothing has been proposed yet."""
        announce_cold_compile("Negotiation Game", kernels)
        kernels.reset_kernel(
            state,
            rng,
            env_ids,
            self._sampling_code,
            self._fixed,
            buffers.observations,
            buffers.info["round"],
        )

    def step_envs(self, state, rng, actions, max_cycles, autoreset, buffers: StepBuffers) -> int:
        """Split the items by the two proposals, pay each player, draw the next round."""
        info = buffers.info
        return kernels.step_kernel(
            state,
            rng,
            actions,
            self._sampling_code,
            self._fixed,
            self._split_code,
            max_cycles,
            autoreset,
            buffers.observations,
            buffers.rewards,
            buffers.truncated,
            buffers.final_observations,
            info["pool"],
            info["utilities"],
            info["proposals"],
            info["shares"],
            info["max_welfare"],
            info["round"],
        )

    def agent_infos(self, buffers: StepBuffers, env: int) -> list[dict[str, Any]]:
        """Own-first view of the round just played, for each seat.

        Keys: ``round`` (1-based number of the round just played), ``round_done`` (always True:
        every step is a complete round; the episode goes on), ``pool``, ``utilities`` /
        ``other_utilities``, ``proposal`` / ``other_proposal``, ``share`` / ``other_share``
        (fraction of each item received) and ``max_welfare`` (best possible r0 + r1).
        """
        info = buffers.info
        # one copy per array, then views per seat: a third of the cost of copying every entry
        pool = info["pool"][env].copy()
        utilities = info["utilities"][env].copy()
        proposals = info["proposals"][env].copy()
        shares = info["shares"][env].copy()
        played = int(info["round"][env])
        max_welfare = float(info["max_welfare"][env])
        views = []
        for seat in range(2):
            other = 1 - seat
            views.append(
                {
                    "round": played,
                    "round_done": True,
                    "pool": pool,
                    "utilities": utilities[seat],
                    "other_utilities": utilities[other],
                    "proposal": proposals[seat],
                    "other_proposal": proposals[other],
                    "share": shares[seat],
                    "other_share": shares[other],
                    "max_welfare": max_welfare,
                }
            )
        return views

    def metric_counts(self, observations, actions, rewards, info) -> MetricCounts:
        """``welfare_share``, the same for both seats.

        (r0 + r1) / the best joint reward, summed over rounds (AA's "max sum reward ratio").
        """
        welfare = float(rewards.astype(np.float64).sum())
        best = float(info["max_welfare"].astype(np.float64).sum())
        return {"welfare_share": (np.full(2, welfare), np.full(2, best))}

    def strategies(self) -> dict[str, Callable[[], Strategy]]:
        """AA's always-cooperate and always-defect, and a tit-for-tat analogue."""
        return dict(strategies.STRATEGIES)

    def render_ansi(self, state, buffers: StepBuffers, env: int) -> str:
        """Tabulate the round just played (values, claims, split, rewards) and the next one."""
        info = buffers.info
        played = int(info["round"][env])
        lines = []
        if played == 0:
            lines.append("start of the episode: no round played yet")
        else:
            claim_format = "{:>6g}" if not self.continuous else "{:>6.2f}"
            rows = [
                ("pool", "{:>6d}", info["pool"][env]),
                ("value p0", "{:>6d}", info["utilities"][env, 0]),
                ("value p1", "{:>6d}", info["utilities"][env, 1]),
                ("claim p0", claim_format, info["proposals"][env, 0]),
                ("claim p1", claim_format, info["proposals"][env, 1]),
                ("share p0", "{:>6.2f}", info["shares"][env, 0]),
                ("share p1", "{:>6.2f}", info["shares"][env, 1]),
            ]
            r0, r1 = buffers.rewards[env]
            welfare = float(info["max_welfare"][env])
            lines.append(f"round {played}")
            lines.append("item      " + "".join(f"{j:>6d}" for j in range(kernels.NUM_ITEMS)))
            for label, fmt, values in rows:
                lines.append(f"{label:<10}" + "".join(fmt.format(v) for v in values.tolist()))
            lines.append(
                f"rewards   p0 {r0:.4f}  p1 {r1:.4f}  sum {r0 + r1:.4f} of max {welfare:.4f}"
            )
        pool = state[env, kernels.POOL : kernels.POOL + kernels.NUM_ITEMS].tolist()
        values = [
            state[env, start : start + kernels.NUM_ITEMS].tolist() for start in kernels.UTILITY
        ]
        lines.append(f"next round: pool {pool}, values p0 {values[0]} p1 {values[1]}")
        return "\n".join(lines)

"""The iterated 2x2 game as a :class:`BatchedGame` over the kernels in ``kernels.py``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from gymnasium import spaces

from socialdilemmas.core.compile_notice import announce_cold_compile
from socialdilemmas.core.game import BatchedGame, MetricCounts, StepBuffers
from socialdilemmas.core.strategy import Strategy
from socialdilemmas.matrix import kernels
from socialdilemmas.matrix.payoffs import payoff_table
from socialdilemmas.matrix.strategies import STRATEGIES

#: Names of the five observation entries, observer's action first: entry ``2 * own + other``
#: for the last joint action (action 0 is C), and :data:`kernels.START` before the first round.
OBSERVATION_LABELS = ("CC", "CD", "DC", "DD", "start")
#: the entry the other player sees for each of the observer's entries (CD and DC swap)
OTHER_VIEW = (0, 2, 1, 3, kernels.START)


class MatrixGame(BatchedGame):
    """Iterated 2x2 game with memory-one observations (see ``ipd_v0`` for the rules).

    Args:
        payoffs: a preset name from :data:`socialdilemmas.matrix.payoffs.PRESETS` or a
            ``(2, 2, 2)`` table ``table[a0, a1] = (r0, r1)``.
    """

    state_width = kernels.STATE_WIDTH
    headline_metric = "cooperation_rate"

    def __init__(self, payoffs: str | object = "ipd") -> None:
        self.payoffs, self.action_names = payoff_table(payoffs)
        self.payoffs.setflags(write=False)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(5,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.info_fields = {}

    def reset_envs(self, state, rng, env_ids, buffers: StepBuffers) -> None:
        """Start episodes: nothing is random, the first observation is the start state."""
        announce_cold_compile("matrix game", kernels)
        kernels.reset_kernel(state, env_ids, buffers.observations)

    def step_envs(self, state, rng, actions, max_cycles, autoreset, buffers: StepBuffers) -> int:
        """Pay each pair of actions and remember it as the next observation."""
        return kernels.step_kernel(
            state,
            actions,
            self.payoffs,
            max_cycles,
            autoreset,
            buffers.observations,
            buffers.rewards,
            buffers.truncated,
            buffers.final_observations,
        )

    def metric_counts(self, observations, actions, rewards, info) -> MetricCounts:
        """``cooperation_rate`` and ``p_cooperate|S`` for each observation ``S`` (per seat)."""
        return matrix_metric_counts(observations, actions)

    def strategies(self) -> dict[str, Callable[[], Strategy]]:
        """Always cooperate, always defect and tit-for-tat."""
        return dict(STRATEGIES)

    def render_ansi(self, state, buffers: StepBuffers, env: int) -> str:
        """One line: step, last actions and rewards."""
        step = int(state[env, kernels.STEP])
        joint = int(state[env, kernels.LAST_JOINT])
        if joint == kernels.START:
            return f"step {step}: start"
        a0, a1 = divmod(joint, 2)
        r0, r1 = buffers.rewards[env]
        return (
            f"step {step}: player_0 {self.action_names[a0]}, player_1 {self.action_names[a1]}"
            f" -> rewards ({r0:g}, {r1:g})"
        )


def matrix_metric_counts(observations: np.ndarray, actions: np.ndarray) -> MetricCounts:
    """Per-seat counts of ``cooperation_rate`` and ``p_cooperate|S``.

    ``cooperation_rate`` is the share of steps playing action 0; ``p_cooperate|S`` is
    P(action 0 | the observation before the step is S). ``actions`` are ``(T, B, 2)``,
    ``observations`` ``(T, B, 2, 5)``.
    """
    cooperate = actions == 0
    state = observations.argmax(-1)
    steps = np.full(2, float(cooperate.shape[0] * cooperate.shape[1]))
    counts: MetricCounts = {"cooperation_rate": (cooperate.sum((0, 1)).astype(np.float64), steps)}
    for index, label in enumerate(OBSERVATION_LABELS):
        visited = state == index
        counts[f"p_cooperate|{label}"] = (
            (cooperate & visited).sum((0, 1)).astype(np.float64),
            visited.sum((0, 1)).astype(np.float64),
        )
    return counts

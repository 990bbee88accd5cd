"""The iterated 2x2 game as a :class:`BatchedGame` over the kernels in ``kernels.py``."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from socialdilemmas.core.game import BatchedGame, StepBuffers
from socialdilemmas.matrix import kernels
from socialdilemmas.matrix.payoffs import payoff_table

#: Names of the five observation entries, observer's action first.
OBSERVATION_LABELS = ("CC", "CD", "DC", "DD", "start")


class MatrixGame(BatchedGame):
    """Iterated 2x2 game with memory-one observations (see ``ipd_v0`` for the rules).

    Args:
        payoffs: a preset name from :data:`socialdilemmas.matrix.payoffs.PRESETS` or a
            ``(2, 2, 2)`` table ``table[a0, a1] = (r0, r1)``.
    """

    state_width = kernels.STATE_WIDTH

    def __init__(self, payoffs: str | object = "ipd") -> None:
        self.payoffs, self.action_names = payoff_table(payoffs)
        self.payoffs.setflags(write=False)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(5,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.info_fields = {}

    def reset_envs(self, state, rng, env_ids, buffers: StepBuffers) -> None:
        """Start episodes: nothing is random, the first observation is the start state."""
        kernels.reset_kernel(state, env_ids, buffers.observations)

    def step_envs(self, state, rng, actions, max_cycles, autoreset, buffers: StepBuffers) -> int:
        """Pay each pair of actions and remember it as the next observation."""
        return kernels.step_kernel(
            state, actions, self.payoffs, max_cycles, autoreset,
            buffers.observations, buffers.rewards, buffers.truncated, buffers.final_observations,
        )

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

"""Batched Numba kernels of the iterated 2x2 games: the only place their rules live.

State columns: 0 = steps taken in the episode, 1 = last joint action ``2 * a0 + a1`` from
player_0's side (4 = start of the episode, nothing played yet).
"""

from __future__ import annotations

from numba import njit

STEP, LAST_JOINT = 0, 1
STATE_WIDTH = 2
START = 4


@njit(cache=True, inline="always")
def _write_observation(observations, env, last_joint):
    """Own-perspective one-hot: [CC, CD, DC, DD, start] with the observer's action first."""
    for seat in range(2):
        for k in range(5):
            observations[env, seat, k] = 0.0
    if last_joint == START:
        observations[env, 0, START] = 1.0
        observations[env, 1, START] = 1.0
    else:
        a0 = last_joint // 2
        a1 = last_joint % 2
        observations[env, 0, 2 * a0 + a1] = 1.0
        observations[env, 1, 2 * a1 + a0] = 1.0


@njit(cache=True)
def reset_kernel(state, env_ids, observations):
    """Start new episodes in ``env_ids``."""
    for k in range(env_ids.shape[0]):
        env = env_ids[k]
        state[env, STEP] = 0
        state[env, LAST_JOINT] = START
        _write_observation(observations, env, START)


@njit(cache=True)
def step_kernel(
    state,
    actions,
    payoffs,
    max_cycles,
    autoreset,
    observations,
    rewards,
    truncated,
    final_observations,
):
    """One step of every game; returns -1, or ``2 * env + seat`` of the first invalid action."""
    n = state.shape[0]
    for env in range(n):
        for seat in range(2):
            if actions[env, seat] < 0 or actions[env, seat] > 1:
                return 2 * env + seat
    for env in range(n):
        a0 = actions[env, 0]
        a1 = actions[env, 1]
        rewards[env, 0] = payoffs[a0, a1, 0]
        rewards[env, 1] = payoffs[a0, a1, 1]
        joint = 2 * a0 + a1
        state[env, LAST_JOINT] = joint
        t = state[env, STEP] + 1
        state[env, STEP] = t
        _write_observation(observations, env, joint)
        done = t >= max_cycles
        truncated[env] = done
        if done and autoreset:
            for seat in range(2):
                for k in range(5):
                    final_observations[env, seat, k] = observations[env, seat, k]
            state[env, STEP] = 0
            state[env, LAST_JOINT] = START
            _write_observation(observations, env, START)
    return -1

"""Batched Numba kernels of the Coin Game: the only place its rules live.

State columns (int64, one row per game):

====== ========================================================================================
column meaning
====== ========================================================================================
0      steps taken in the episode
1, 2   row, column of player_0 (red)
3, 4   row, column of player_1 (blue)
5 + 3k row, column and owner seat of coin slot ``k`` (``k`` < ``num_coins``)
====== ========================================================================================

The rule variants are selected by a small int64 parameter vector (see :func:`make_params`):
``num_coins`` 1 (the LOQA/POLA family: one coin whose owner alternates each time it is
collected, spawned on a cell no player occupies) or 2 (PAX/JaxMARL: a red and a blue coin,
fixed owners, spawned anywhere), the number of actions (4 moves, or 5 with "stay") and whether
observations are egocentric. Rewards come from ``payoffs = [own coin, other's coin, penalty]``.

Every random draw goes through the sub-env's counter-based stream (:mod:`socialdilemmas._rng`),
so a game's trajectory depends only on its seed and actions, never on the batch around it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from socialdilemmas._rng import next_below

STEP = 0
ROW0, COL0, ROW1, COL1 = 1, 2, 3, 4
COIN_BASE = 5
COIN_FIELDS = 3
MAX_COINS = 2
STATE_WIDTH = COIN_BASE + COIN_FIELDS * MAX_COINS

#: Observation planes, from the observer's side.
ME, OTHER, MY_COIN, OTHER_COIN = 0, 1, 2, 3

#: Move table (LOLA/POLA order): (row change, column change); index 4 ("stay") only with 5 actions.
MOVES = np.array([[0, 1], [0, -1], [1, 0], [-1, 0], [0, 0]], dtype=np.int64)

# Indices into the parameter vector.
P_GRID, P_COINS, P_ACTIONS, P_SPAWN_ANYWHERE, P_EGOCENTRIC = 0, 1, 2, 3, 4


def make_params(
    grid_size: int, num_coins: int, num_actions: int, spawn_anywhere: bool, egocentric: bool
) -> np.ndarray:
    """Pack the rule parameters into the read-only int64 vector the kernels take."""
    params = np.array(
        [grid_size, num_coins, num_actions, int(spawn_anywhere), int(egocentric)], dtype=np.int64
    )
    params.setflags(write=False)
    return params


@njit(cache=True, inline="always")
def _wrap(x, g):
    """``x mod g`` for ``x`` in ``[-g, 2g)``, without a division or a branch.

    Random moves make a branch here unpredictable; comparisons as integers compile to
    conditional moves.
    """
    return x + g * ((x < 0) - (x >= g))


@njit(cache=True, inline="always")
def _spawn_choices(g, cell0, cell1, spawn_anywhere):
    """Return how many cells a new coin may appear on (players on ``cell0`` and ``cell1``)."""
    if spawn_anywhere:
        return g * g
    return g * g - 1 - np.int64(cell0 != cell1)


@njit(cache=True, inline="always")
def _spawn_cell(rank, cell0, cell1, spawn_anywhere):
    """Return the cell of a new coin from a uniform ``rank`` below :func:`_spawn_choices`.

    Free cells (``spawn_anywhere`` False) are sampled directly, with no rejection loop: the
    rank among the free cells steps over the occupied cells in increasing order. Only scalars
    come in: handing arrays to inlined helpers makes Numba count references, which costs more
    than the draw itself.
    """
    if spawn_anywhere:
        return rank
    low = min(cell0, cell1)
    high = max(cell0, cell1)
    if rank >= low:
        rank += 1
    if low != high and rank >= high:
        rank += 1
    return rank


@njit(cache=True, inline="always")
def _row(cell, g, inv_g):
    """Return ``cell // g`` by a float multiply.

    Exact: ``(cell + 0.5) / g = row + (col + 0.5) / g`` and the fraction stays at least
    ``0.5 / g`` away from 0 and 1. An integer division by a run-time ``g`` would cost tens of
    cycles on every respawn.
    """
    return np.int64((cell + 0.5) * inv_g)


@njit(cache=True, inline="always")
def _spawn_coin(state, rng, env, slot, g, inv_g, spawn_anywhere):
    """Place coin ``slot`` of game ``env`` on a fresh cell (used at reset)."""
    cell0 = state[env, ROW0] * g + state[env, COL0]
    cell1 = state[env, ROW1] * g + state[env, COL1]
    rank = next_below(rng, env, _spawn_choices(g, cell0, cell1, spawn_anywhere))
    cell = _spawn_cell(rank, cell0, cell1, spawn_anywhere)
    row = _row(cell, g, inv_g)
    base = COIN_BASE + COIN_FIELDS * slot
    state[env, base] = row
    state[env, base + 1] = cell - row * g


@njit(cache=True, inline="always")
def _shifted(row, col, shift_r, shift_c, g):
    """Return the flat cell index of ``(row, col)`` shifted by ``(shift_r, shift_c)``, wrapped."""
    return _wrap(row + shift_r, g) * g + _wrap(col + shift_c, g)


@njit(cache=True, inline="always")
def _write_observation(flat_obs, state, env, g, num_coins, egocentric):
    """Own-perspective planes [me, other, my coin, other's coin] of both seats.

    ``flat_obs`` is the ``(n, 2 * 4 * g * g)`` view of the observations. Zeroing
    then setting the few ones is much cheaper than building each plane. With egocentric
    observations every position is shifted so that the observer sits at ``(g // 2, g // 2)``.
    """
    size = g * g
    for k in range(8 * size):
        flat_obs[env, k] = 0.0
    if not egocentric:
        # seat 1 sees the same cells as seat 0 with the roles swapped
        cell0 = state[env, ROW0] * g + state[env, COL0]
        cell1 = state[env, ROW1] * g + state[env, COL1]
        seat1 = 4 * size
        flat_obs[env, ME * size + cell0] = 1.0
        flat_obs[env, OTHER * size + cell1] = 1.0
        flat_obs[env, seat1 + ME * size + cell1] = 1.0
        flat_obs[env, seat1 + OTHER * size + cell0] = 1.0
        for slot in range(num_coins):
            base = COIN_BASE + COIN_FIELDS * slot
            owner = state[env, base + 2]
            cell = state[env, base] * g + state[env, base + 1]
            # my coin (plane 2) for its owner, the other's coin (plane 3) for the other seat
            flat_obs[env, (MY_COIN + owner) * size + cell] = 1.0
            flat_obs[env, seat1 + (OTHER_COIN - owner) * size + cell] = 1.0
        return
    for seat in range(2):
        me = 1 + 2 * seat
        other = 3 - 2 * seat
        offset = seat * 4 * size
        shift_r = g // 2 - state[env, me]
        shift_c = g // 2 - state[env, me + 1]
        flat_obs[env, offset + ME * size + (g // 2) * g + g // 2] = 1.0
        cell = _shifted(state[env, other], state[env, other + 1], shift_r, shift_c, g)
        flat_obs[env, offset + OTHER * size + cell] = 1.0
        for slot in range(num_coins):
            base = COIN_BASE + COIN_FIELDS * slot
            plane = MY_COIN + (state[env, base + 2] != seat)
            cell = _shifted(state[env, base], state[env, base + 1], shift_r, shift_c, g)
            flat_obs[env, offset + plane * size + cell] = 1.0


@njit(cache=True, inline="always")
def _flat(observations):
    """Return the ``(n, 2 * 4 * g * g)`` view of C-contiguous ``(n, 2, 4, g, g)`` observations."""
    n = observations.shape[0]
    return observations.reshape((n, observations.size // max(n, 1)))


@njit(cache=True, inline="always")
def _reset_one(state, rng, env, g, inv_g, num_coins, spawn_anywhere):
    """Start a new episode in game ``env`` (draws: players, then coins)."""
    state[env, STEP] = 0
    # Players are placed independently, so they may share a cell (POLA, LOQA, PAX).
    cell = next_below(rng, env, g * g)
    row = _row(cell, g, inv_g)
    state[env, ROW0] = row
    state[env, COL0] = cell - row * g
    cell = next_below(rng, env, g * g)
    row = _row(cell, g, inv_g)
    state[env, ROW1] = row
    state[env, COL1] = cell - row * g
    if num_coins == 1:
        state[env, COIN_BASE + 2] = next_below(rng, env, 2)
        _spawn_coin(state, rng, env, 0, g, inv_g, spawn_anywhere)
    else:
        for slot in range(num_coins):
            state[env, COIN_BASE + COIN_FIELDS * slot + 2] = slot
            _spawn_coin(state, rng, env, slot, g, inv_g, spawn_anywhere)


@njit(cache=True)
def reset_kernel(state, rng, env_ids, params, observations):
    """Start new episodes in ``env_ids`` (their streams already seeded) and write their obs."""
    g = params[P_GRID]
    inv_g = 1.0 / g
    num_coins = params[P_COINS]
    spawn_anywhere = params[P_SPAWN_ANYWHERE] != 0
    egocentric = params[P_EGOCENTRIC] != 0
    flat_obs = _flat(observations)
    for k in range(env_ids.shape[0]):
        env = env_ids[k]
        _reset_one(state, rng, env, g, inv_g, num_coins, spawn_anywhere)
        _write_observation(flat_obs, state, env, g, num_coins, egocentric)


@njit(cache=True)
def observe_kernel(state, env_ids, params, observations):
    """Rewrite the observations of ``env_ids`` from their state (after a hand-made board)."""
    g = params[P_GRID]
    num_coins = params[P_COINS]
    egocentric = params[P_EGOCENTRIC] != 0
    flat_obs = _flat(observations)
    for k in range(env_ids.shape[0]):
        env = env_ids[k]
        _write_observation(flat_obs, state, env, g, num_coins, egocentric)


@njit(cache=True, inline="always")
def collector_reward(own_coins, other_coins, own_coins_lost, own_reward, other_reward, penalty):
    """A player's reward for one step, the Coin Game's payoff rule.

    ``own_reward`` per coin of its own colour it collected, ``other_reward`` per coin of the
    other player's colour, ``penalty`` per coin of its colour the other player collected.
    Works on scalars (the step kernel) and on arrays of counts alike.
    """
    return own_coins * own_reward + other_coins * other_reward + own_coins_lost * penalty


@njit(cache=True)
def step_kernel(
    state,
    rng,
    actions,
    params,
    payoffs,
    max_cycles,
    autoreset,
    observations,
    rewards,
    truncated,
    final_observations,
    pickups,
):
    """One step of every game; returns -1, or ``2 * env + seat`` of the first invalid action.

    Invalid actions are found before anything is changed. ``pickups[env, picker, owner]``
    counts the coins of ``owner`` that ``picker`` collected on this step.
    """
    n = state.shape[0]
    # Parameters are read once into locals: the compiler cannot tell that stores into the
    # state array do not change them, and would reload them after every store.
    g = params[P_GRID]
    inv_g = 1.0 / g
    num_coins = params[P_COINS]
    num_actions = params[P_ACTIONS]
    spawn_anywhere = params[P_SPAWN_ANYWHERE] != 0
    egocentric = params[P_EGOCENTRIC] != 0
    own_reward = payoffs[0]
    other_reward = payoffs[1]
    penalty = payoffs[2]
    # Fast range check: OR all actions as unsigned numbers (a negative one is huge). The OR is
    # at least every action, so it is below the limit only if every action is; otherwise the
    # exact search below finds the first bad action (or none: 4 | 1 = 5 with 5 actions).
    seen = np.uint64(0)
    for env in range(n):
        seen |= np.uint64(actions[env, 0]) | np.uint64(actions[env, 1])
    if seen >= np.uint64(num_actions):
        for env in range(n):
            for seat in range(2):
                if actions[env, seat] < 0 or actions[env, seat] >= num_actions:
                    return 2 * env + seat
    flat_obs = _flat(observations)
    flat_final = _flat(final_observations)
    for env in range(n):
        a0 = actions[env, 0]
        a1 = actions[env, 1]
        r0 = _wrap(state[env, ROW0] + MOVES[a0, 0], g)
        c0 = _wrap(state[env, COL0] + MOVES[a0, 1], g)
        r1 = _wrap(state[env, ROW1] + MOVES[a1, 0], g)
        c1 = _wrap(state[env, COL1] + MOVES[a1, 1], g)
        state[env, ROW0] = r0
        state[env, COL0] = c0
        state[env, ROW1] = r1
        state[env, COL1] = c1
        # pickups[picker, owner], kept in registers and stored once
        p00 = 0
        p01 = 0
        p10 = 0
        p11 = 0
        for slot in range(num_coins):
            base = COIN_BASE + COIN_FIELDS * slot
            coin_r = state[env, base]
            coin_c = state[env, base + 1]
            owner = state[env, base + 2]
            took0 = np.int64((r0 == coin_r) & (c0 == coin_c))
            took1 = np.int64((r1 == coin_r) & (c1 == coin_c))
            # Everyone on the coin collects it; the owner pays once per other collector, so a
            # tie on a coin pays its owner own + penalty and the other player other. Counted
            # as arithmetic because random moves make branches unpredictable.
            p00 += took0 * (1 - owner)
            p01 += took0 * owner
            p10 += took1 * (1 - owner)
            p11 += took1 * owner
            if took0 | took1:
                if num_coins == 1:
                    state[env, base + 2] = 1 - owner
                # as _spawn_coin, written out here to keep the arrays out of inlined helpers
                cell0 = r0 * g + c0
                cell1 = r1 * g + c1
                rank = next_below(rng, env, _spawn_choices(g, cell0, cell1, spawn_anywhere))
                cell = _spawn_cell(rank, cell0, cell1, spawn_anywhere)
                row = _row(cell, g, inv_g)
                state[env, base] = row
                state[env, base + 1] = cell - row * g
        pickups[env, 0, 0] = p00
        pickups[env, 0, 1] = p01
        pickups[env, 1, 0] = p10
        pickups[env, 1, 1] = p11
        rewards[env, 0] = collector_reward(p00, p01, p10, own_reward, other_reward, penalty)
        rewards[env, 1] = collector_reward(p11, p10, p01, own_reward, other_reward, penalty)
        t = state[env, STEP] + 1
        state[env, STEP] = t
        _write_observation(flat_obs, state, env, g, num_coins, egocentric)
        done = t >= max_cycles
        truncated[env] = done
        if done and autoreset:
            for k in range(flat_obs.shape[1]):
                flat_final[env, k] = flat_obs[env, k]
            _reset_one(state, rng, env, g, inv_g, num_coins, spawn_anywhere)
            _write_observation(flat_obs, state, env, g, num_coins, egocentric)
    return -1

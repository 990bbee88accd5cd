"""Counter-based random numbers for the batched kernels.

Every sub-env owns a stream: a 64-bit key derived from its seed and a counter of draws made so
far. Draw number ``c`` of the stream is ``splitmix64(key + c * golden)``, a pure function of
(seed, draw number), so sub-env *i* seeded with *s* makes exactly the same draws whether it runs
alone or inside a batch of any size. The streams live in an ``(n, 2)`` uint64 array
``[key, counter]`` that the kernels advance in place.
"""

from __future__ import annotations

import secrets

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_32 = np.uint64(32)
_SHIFT_11 = np.uint64(11)

MAX_SEED = 2**64 - 1


@njit(cache=True, inline="always")
def splitmix64(x):
    """Finalise one 64-bit value with the SplitMix64 mixer (a bijection on uint64)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def next_u64(rng, env):
    """Return the next raw 64-bit draw of sub-env ``env`` and advance its counter."""
    counter = rng[env, 1]
    rng[env, 1] = counter + np.uint64(1)
    return splitmix64(rng[env, 0] + counter * _GOLDEN)


@njit(cache=True, inline="always")
def next_below(rng, env, n):
    """Return a uniform integer in ``[0, n)`` (multiply-shift; bias below n / 2**32)."""
    high = next_u64(rng, env) >> _TWO_POW_32
    return np.int64((high * np.uint64(n)) >> _TWO_POW_32)


@njit(cache=True, inline="always")
def next_uniform(rng, env):
    """Return a uniform float in ``[0, 1)`` with 53 random bits."""
    return np.float64(next_u64(rng, env) >> _SHIFT_11) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def seed_streams(rng, env_ids, seeds):
    """Start the streams of ``env_ids`` from ``seeds`` (one uint64 seed per listed env)."""
    for k in range(env_ids.shape[0]):
        env = env_ids[k]
        rng[env, 0] = splitmix64(seeds[k])
        rng[env, 1] = np.uint64(0)


def as_seed(seed: object, what: str = "seed") -> int:
    """Validate one user seed: a non-negative integer below 2**64."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{what} must be a non-negative integer or None, got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"{what} must be in [0, 2**64), got {seed}")
    return int(seed)


def entropy_seed() -> int:
    """Return a fresh seed from the operating system, for ``reset()`` without a seed."""
    return secrets.randbits(63)


def seeds_for_batch(seed: object, num_envs: int) -> np.ndarray:
    """Per-env seeds of a vector env: ``seed + i`` (Gymnasium's convention), or a given list.

    ``seed`` is None (fresh entropy), an int ``s`` (sub-env ``i`` gets ``s + i``, so it behaves
    exactly like a single env reset with ``seed=s + i``) or a sequence of ``num_envs`` ints.
    """
    if seed is None:
        seed = entropy_seed()
    if isinstance(seed, (list, tuple, np.ndarray)):
        values = [as_seed(s, "each seed") for s in np.asarray(seed, dtype=object).ravel()]
        if len(values) != num_envs:
            raise ValueError(f"got {len(values)} seeds for {num_envs} envs")
    else:
        base = as_seed(seed)
        if base + num_envs - 1 > MAX_SEED:
            raise ValueError(f"seed + num_envs - 1 must stay below 2**64, got seed={base}")
        values = [base + i for i in range(num_envs)]
    return np.array(values, dtype=np.uint64)

"""The seed scheme of the learners: every random draw of a run comes from ``(seed, keys...)``.

A draw seeded by the run seed, the iteration and a purpose number does not depend on what ran
before it, so a resumed run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import numpy as np


def derive_seed(*keys: int) -> int:
    """Return a 63-bit seed that depends on every key (run seed, iteration, purpose)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint64)[0] >> 1)


__all__ = ["derive_seed"]

"""Session-wide fixtures: compile (or load from cache) every env kernel once per test run."""

from __future__ import annotations

import numpy as np
import pytest

import socialdilemmas
from socialdilemmas.registration import env_variants


@pytest.fixture(scope="session", autouse=True)
def warm_kernels() -> None:
    """Step every registered variant once so Numba compiles before any timed work."""
    for env_id, _, kwargs in env_variants():
        vec = socialdilemmas.make_vec(env_id, 2, seed=0, **kwargs)
        vec.reset()
        vec.action_space.seed(0)
        vec.step(vec.action_space.sample())


def pytest_configure(config: pytest.Config) -> None:
    """Make NumPy print compactly in assertion messages."""
    np.set_printoptions(precision=4, suppress=True)

"""A cold Numba cache is announced once on stderr; a warm one is silent."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import numpy as np
import socialdilemmas
env = socialdilemmas.make_vec("ipd_v0", 2)
env.reset(seed=0)
env.step(np.zeros((2, 2), dtype=np.int64))
env.reset(seed=1)
socialdilemmas.make_vec("ipd_v0", 3).reset(seed=2)
"""


def _run(cache_dir) -> str:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "NUMBA_CACHE_DIR": str(cache_dir)},
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_the_first_compile_is_announced_once_and_a_cached_run_says_nothing(tmp_path):
    cold = _run(tmp_path)
    assert cold.count("compiling the matrix game kernels (first run only") == 1
    assert _run(tmp_path) == ""

"""Every example runs end to end with a tiny budget."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {
    "pettingzoo_random_play.py": ["--episodes", "1"],
    "pettingzoo_random_play.py#coin": ["--episodes", "1", "--env", "socialdilemmas/coin_game-v0"],
    "vector_api.py": ["--num-envs", "64", "--episodes", "1"],
    "negotiation_scripted.py": ["--num-envs", "64", "--rounds", "5"],
    "coin_game_scripted.py": ["--num-envs", "64", "--steps", "5"],
    "evaluate_callable.py": ["--episodes", "2", "--out", "{tmp}"],
    "evaluate_sb3.py": [
        "--timesteps",
        "64",
        "--num-envs",
        "2",
        "--episodes",
        "1",
        "--out",
        "{tmp}",
    ],
}
#: examples that need the agents extra
NEEDS_TORCH = {"evaluate_callable.py", "evaluate_sb3.py"}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_runs(name, tmp_path):
    script = ROOT / "examples" / name.split("#")[0]
    args = [arg.format(tmp=tmp_path) for arg in EXAMPLES[name]]
    if script.name in NEEDS_TORCH:
        pytest.importorskip("torch")
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    if "{tmp}" in EXAMPLES[name]:
        assert (tmp_path / "league.png").is_file() and (tmp_path / "league.json").is_file()

"""Without torch, the evaluation commands stop with a message that names the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# sys.modules[name] = None makes "import name" fail exactly as if it were not installed
SCRIPT = """
import sys
sys.modules["torch"] = None
sys.modules["stable_baselines3"] = None
from agents.cli import main
main({argv!r})
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "random", "random", "--env", "ipd_v0"],
        ["league", "random", "random", "--env", "ipd_v0", "--out", "league_out"],
    ],
)
def test_commands_name_the_extra_without_torch(argv):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(argv=argv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode != 0
    assert "needs the 'agents' extra (torch is missing)" in result.stderr
    assert "pip install torch" in result.stderr
    assert "Traceback" not in result.stderr

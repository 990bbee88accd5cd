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


def _without_torch(code: str) -> subprocess.CompletedProcess:
    script = "import sys\nsys.modules['torch'] = None\nsys.modules['stable_baselines3'] = None\n"
    return subprocess.run(
        [sys.executable, "-c", script + code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_help_works_without_torch_and_imports_no_command():
    result = _without_torch(
        "from agents.cli import main\n"
        "code = main(['--help'])\n"
        "assert 'agents.commands.train' not in sys.modules, 'a command was imported'\n"
    )
    assert result.returncode == 0, result.stderr
    for command in ("train", "evaluate", "league", "baselines"):
        assert command in result.stdout


@pytest.mark.parametrize("module", ["agents.evaluation", "agents.sb3"])
def test_modules_of_the_extra_name_it_when_imported_without_torch(module):
    result = _without_torch(f"import {module}")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: this part of the agents package needs torch")
    assert 'pip install torch==2.13.0 && pip install ".[agents]"' in last


def test_the_package_imports_without_torch_and_names_the_extra_on_use():
    """The policy interface needs no torch; the rollout does, and says so."""
    result = _without_torch(
        "import agents, agents.baselines\n"
        "assert agents.as_policy(lambda observations: 0).name\n"
        "agents.rollout"
    )
    assert result.returncode != 0
    assert "ImportError: this part of the agents package needs torch" in result.stderr

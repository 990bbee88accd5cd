"""Every Python block of the README and the guides runs on its own, as a reader would run it.

Each block runs in a fresh interpreter, in an empty temporary folder, with nothing from the
other blocks of its page: a block that needs an import, a file or a name from an earlier block
fails here. Training budgets are shrunk (:data:`SHRINK`) so the pages run in seconds; nothing
else is changed. The ``socialdilemmas`` command lines of the pages must parse.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the pages a user follows (results and research notes hold no code to run)
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "docs" / "envs").glob("*.md")),
]
SKIPPED_PAGES = {"results.md", "research-notes.md"}
#: the agents extra (torch) is installed; without it, only the environment blocks can run
HAVE_AGENTS = importlib.util.find_spec("torch") is not None

#: long budget -> short budget, applied to every block (only budgets: the code stays as printed)
SHRINK = {
    "total_timesteps=200_000, num_envs=16": "total_timesteps=64, num_envs=2, n_epochs=1",
    "total_timesteps=200_000": "total_timesteps=64",
    "episodes=32": "episodes=2",
    "episodes=64": "episodes=2",
    "episodes=1024": "episodes=2",
    "iterations=200": "iterations=2",
    "iterations=100": "iterations=2",
    "iterations=60": "iterations=2",
    "iterations=120": "iterations=4",
}


#: runs an interactive (``>>>``) block as a doctest, failing on any output that differs
DOCTEST = """
import doctest, sys
session = {session!r}
test = doctest.DocTestParser().get_doctest(session, {{}}, "block", "block", 0)
runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        if page.name in SKIPPED_PAGES:
            continue
        text = page.read_text()
        for match in re.finditer(r"```python\n(.*?)```", text, flags=re.S):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", line, match.group(1)))
    return found


BLOCKS = _blocks()


def _shrunk(code: str) -> str:
    for long, short in SHRINK.items():
        code = code.replace(long, short)
    return code


@pytest.mark.parametrize("code", [code for _, _, code in BLOCKS], ids=[i for i, _, _ in BLOCKS])
def test_each_python_block_runs_alone_in_a_fresh_process(code, tmp_path):
    if not HAVE_AGENTS and re.search(r"\b(agents|torch|stable_baselines3)\b", code):
        pytest.skip("needs the agents extra (torch)")
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    code = _shrunk(code)
    if code.lstrip().startswith(">>>"):  # an interactive session: its outputs are checked too
        code = DOCTEST.format(session=code)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_pages_have_python_blocks():
    assert len(BLOCKS) >= 15


@pytest.mark.skipif(not HAVE_AGENTS, reason="the command line needs the agents extra (torch)")
def test_every_documented_command_line_parses():
    from agents.cli import build_parser

    lines = []
    for page in PAGES:
        text = page.read_text().replace("\\\n", " ")
        for block in re.findall(r"```(?:bash|console|sh)\n(.*?)```", text, flags=re.S):
            lines += [
                line.split("#")[0].strip()
                for line in block.splitlines()
                if line.strip().startswith("socialdilemmas ")
            ]
    assert len(lines) >= 5
    for line in lines:
        argv = shlex.split(line)[1:]
        try:
            build_parser(argv).parse_args(argv)
        except SystemExit as error:
            if error.code != 0:  # a --help line exits 0
                raise AssertionError(f"does not parse: {line}") from None

"""Every Python block of the README and the manual runs on its own, as a reader would run it.

Each ```` ```python ```` block of ``README.md``, ``docs/*.md`` and ``docs/envs/*.md`` runs in a
fresh interpreter, in an empty temporary folder, with nothing from the other blocks of its
page: a block that needs an import, a file or a name from an earlier block fails here. An
interactive (``>>>``) block runs as a doctest, so its printed outputs are checked too. The
``socialdilemmas`` command lines of the pages must parse.

Two markers, HTML comments on the line right before a block (invisible on the rendered page),
change how the block is tested; the docs' source is the only place that says so:

* ``<!-- no-run: REASON -->``: the block is not run; the reason is required and is shown as
  the test's skip reason.
* ``<!-- test-with: OLD -> NEW; OLD2 -> NEW2 -->``: the block runs with each OLD text
  replaced by NEW, to shrink a training budget (``iterations=60 -> iterations=2``). Every OLD
  must occur in the block, so a marker cannot silently outlive the code it shrinks.

Any other ``<!-- name: ... -->`` comment before a block, or a marker not followed by a block,
fails the suite.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the pages whose Python blocks run: the README and every page of the manual
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "docs" / "envs").glob("*.md")),
]
#: the agents extra (torch) is installed; without it, only the environment blocks can run
HAVE_AGENTS = importlib.util.find_spec("torch") is not None
MARKERS = ("no-run", "test-with")

#: a Python block and the one-line HTML comment (a marker, or another comment) right before it
BLOCK = re.compile(
    r"(?:^<!--[ \t]*(?P<name>[\w-]+):(?P<argument>[^\n]*?)-->[ \t]*\n)?"
    r"```python\n(?P<code>.*?)```",
    flags=re.S | re.M,
)
#: any fenced block, with its language (empty for a bare fence)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", flags=re.S | re.M)
#: a marker at the start of a line (elsewhere, as in a code span, it is text about markers), to
#: find the ones that are not right before a block
ANY_MARKER = re.compile(r"^<!--[ \t]*(?:" + "|".join(MARKERS) + r")\b", flags=re.M)

#: runs an interactive (``>>>``) block as a doctest, failing on any output that differs
DOCTEST = """
import doctest, sys
session = {session!r}
test = doctest.DocTestParser().get_doctest(session, {{}}, "block", "block", 0)
runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


@dataclass(frozen=True)
class Block:
    """One Python block of a page and how the test runs it."""

    where: str
    """``page:line`` of the block's opening fence."""
    code: str
    """The code as printed on the page."""
    skip_reason: str | None = None
    """Why the block is not run (a ``no-run`` marker), or None."""
    replacements: tuple[tuple[str, str], ...] = ()
    """The ``(OLD, NEW)`` pairs of a ``test-with`` marker, applied before running."""

    def code_to_run(self) -> str:
        """The code with the marker's replacements applied."""
        code = self.code
        for old, new in self.replacements:
            code = code.replace(old, new)
        return code


def parse_replacements(argument: str, where: str) -> tuple[tuple[str, str], ...]:
    """The ``(OLD, NEW)`` pairs of a ``test-with`` marker's ``OLD -> NEW; ...`` argument."""
    pairs = []
    for item in argument.split(";"):
        old, arrow, new = item.partition("->")
        if not arrow or not old.strip() or not new.strip():
            raise ValueError(f"{where}: test-with wants 'OLD -> NEW; ...', got {item.strip()!r}")
        pairs.append((old.strip(), new.strip()))
    return tuple(pairs)


def page_blocks(text: str, page: str) -> list[Block]:
    """The Python blocks of one page's Markdown, with their markers applied.

    Raises ValueError naming the line for an unknown marker, a ``no-run`` without a reason,
    a ``test-with`` whose OLD text is not in its block, and a marker not right before a block.
    """
    blocks = []
    attached = set()
    for match in BLOCK.finditer(text):
        line = text[: match.start("code")].count("\n")
        where = f"{page}:{line}"
        name, argument, code = match["name"], (match["argument"] or "").strip(), match["code"]
        if name is None:
            blocks.append(Block(where, code))
            continue
        attached.add(match.start())
        if name == "no-run":
            if not argument:
                raise ValueError(f"{where}: no-run needs a reason: <!-- no-run: REASON -->")
            blocks.append(Block(where, code, skip_reason=argument))
        elif name == "test-with":
            replacements = parse_replacements(argument, where)
            for old, _ in replacements:
                if old not in code:
                    raise ValueError(f"{where}: test-with replaces {old!r}, not in the block")
            blocks.append(Block(where, code, replacements=replacements))
        else:
            raise ValueError(f"{where}: unknown marker {name!r}; the markers are {MARKERS}")
    for marker in ANY_MARKER.finditer(text):
        if marker.start() not in attached:
            line = text[: marker.start()].count("\n") + 1
            raise ValueError(f"{page}:{line}: a marker must be the line right before a block")
    return blocks


BLOCKS = [
    block for page in PAGES for block in page_blocks(page.read_text(), str(page.relative_to(ROOT)))
]


@pytest.mark.parametrize("block", BLOCKS, ids=[block.where for block in BLOCKS])
def test_each_python_block_runs_alone_in_a_fresh_process(block, tmp_path):
    if block.skip_reason:
        pytest.skip(block.skip_reason)
    if not HAVE_AGENTS and re.search(r"\b(agents|torch|stable_baselines3)\b", block.code):
        pytest.skip("needs the agents extra (torch)")
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    code = block.code_to_run()
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


def test_the_pages_have_python_blocks_and_few_skipped():
    assert len(BLOCKS) >= 15
    assert sum(block.skip_reason is not None for block in BLOCKS) <= 2


def test_markers_set_how_a_block_runs():
    page = (
        "text\n```python\nprint(1)\n```\n"
        "<!-- no-run: trains for an hour -->\n```python\ntrain()\n```\n"
        "<!-- test-with: iterations=60 -> iterations=2; episodes=32 -> episodes=1 -->\n"
        "```python\nrun(iterations=60, episodes=32)\n```\n"
    )
    plain, skipped, shrunk = page_blocks(page, "page.md")
    assert (plain.where, plain.code, plain.skip_reason) == ("page.md:2", "print(1)\n", None)
    assert skipped.skip_reason == "trains for an hour"
    assert shrunk.code == "run(iterations=60, episodes=32)\n"
    assert shrunk.code_to_run() == "run(iterations=2, episodes=1)\n"


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ("<!-- no-run: -->\n```python\nx\n```\n", "needs a reason"),
        ("<!-- test-with: iterations=9 -> iterations=1 -->\n```python\nx\n```\n", "not in"),
        ("<!-- test-with: iterations=9 -->\n```python\nx\n```\n", "OLD -> NEW"),
        ("<!-- norun: typo -->\n```python\nx\n```\n", "unknown marker"),
        ("<!-- no-run: too slow -->\n\ntext\n```python\nx\n```\n", "right before a block"),
    ],
    ids=["no-reason", "old-not-in-block", "no-arrow", "unknown-marker", "detached-marker"],
)
def test_a_bad_marker_is_an_error_naming_the_problem(page, problem):
    with pytest.raises(ValueError, match=problem):
        page_blocks(page, "page.md")


@pytest.mark.skipif(not HAVE_AGENTS, reason="the command line needs the agents extra (torch)")
def test_every_documented_command_line_parses():
    from agents.cli import build_parser

    lines = []
    for page in PAGES:
        text = page.read_text().replace("\\\n", " ")
        for language, block in FENCE.findall(text):
            if language in ("", "bash", "console", "sh"):
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

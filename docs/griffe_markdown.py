"""A Griffe extension that makes the docstrings read as Markdown in the API reference.

The docstrings are written for readers of the source and for ``help()``: they use Sphinx
cross-reference roles (``:class:`agents.policy.Policy```) and interactive ``>>>`` examples
that doctest runs. Markdown would print a role's name as text and read an example's output
``[-2.02, -1.96]`` as a link, so before mkdocstrings renders a docstring this extension

* turns each role into a plain code span, keeping the last part of a ``~``-shortened target,
* fences each run of ``>>>`` lines and their output as a ``pycon`` code block,
* drops the docstring of the env modules (``socialdilemmas.<family>.env``): it is the env's
  documentation page, rendered under "Environments", and its API page links there instead.

Configured in ``mkdocs.yml`` (``extensions:`` of the mkdocstrings Python handler).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: a Sphinx role before a code span, e.g. :func:`~package.module.name` (a target may wrap)
SPHINX_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`(~?)([^`]+)`")
#: the dotted name of a module whose docstring is an env documentation page
ENV_MODULE = re.compile(r"socialdilemmas\.\w+\.env")


def replace_roles(text: str) -> str:
    """Replace each Sphinx role with a code span of its target (``~`` keeps the last part)."""

    def code_span(match: re.Match[str]) -> str:
        shortened, target = match.groups()
        target = re.sub(r"\s+", "", target)
        return f"`{target.rsplit('.', 1)[-1] if shortened else target}`"

    return SPHINX_ROLE.sub(code_span, text)


def fence_doctests(text: str) -> str:
    """Put each interactive session (``>>>`` lines and their output) in a ``pycon`` fence.

    A session starts at a line whose stripped text starts with ``>>>`` and ends before the
    first blank line, as doctest reads it; sessions already inside a fence are left alone.
    """
    result: list[str] = []
    in_fence = False
    session_indent: str | None = None  # the indentation of the open session's fence, if any
    for line in text.splitlines():
        stripped = line.strip()
        if session_indent is not None and not stripped:
            result.append(f"{session_indent}```")
            session_indent = None
        elif session_indent is None and not in_fence and stripped.startswith(">>>"):
            session_indent = line[: len(line) - len(line.lstrip())]
            result.append(f"{session_indent}```pycon")
        elif session_indent is None and stripped.startswith("```"):
            in_fence = not in_fence
        result.append(line)
    if session_indent is not None:
        result.append(f"{session_indent}```")
    return "\n".join(result)


class MarkdownDocstrings(griffe.Extension):
    """Rewrite every docstring for Markdown, and drop the env modules' page docstrings."""

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite the docstring of every object below a package, once the tree is complete."""
        rewrite_docstring(obj)

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite the docstring of a top-level package (``on_object`` sees only its members)."""
        rewrite_docstring(pkg)


def rewrite_docstring(obj: griffe.Object) -> None:
    """Rewrite ``obj``'s docstring for Markdown, or drop it for an env module (idempotent)."""
    if obj.docstring is None:
        return
    if obj.is_module and ENV_MODULE.fullmatch(obj.path):
        obj.docstring = None
        return
    obj.docstring.value = fence_doctests(replace_roles(obj.docstring.value))

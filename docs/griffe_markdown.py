"""A Griffe extension that makes the docstrings read as Markdown in the API reference.

The docstrings are written for readers of the source and for ``help()``: they use Sphinx
cross-reference roles (``:class:`agents.policy.Policy```) and interactive ``>>>`` examples
that doctest runs. Markdown would print a role's name as text and read an example's output
``[-2.02, -1.96]`` as a link, so before mkdocstrings renders a docstring this extension

* turns each role into its target as code, keeping the last part of a ``~``-shortened target,
  linked to the target's API entry where it has one,
* fences each run of ``>>>`` lines and their output as a ``pycon`` code block,
* reads the ``#:`` comment above a constant as its docstring (Sphinx's convention, used here),
* replaces the docstring of the env modules (``socialdilemmas.<family>.env``), which is the
  env's documentation page, rendered under "Environments", by a link to that page.

Configured in ``mkdocs.yml`` (``extensions:`` of the mkdocstrings Python handler).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import griffe

#: a Sphinx role before a code span, e.g. :func:`~package.module.name` (a target may wrap)
SPHINX_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`(~?)([^`]+)`")
#: the packages of the API reference: a role naming one of them is a full name already
PACKAGES = ("socialdilemmas", "agents")
#: the dotted name of a module whose docstring is an env documentation page
ENV_MODULE = re.compile(r"socialdilemmas\.\w+\.env")
#: how the API entry of an env module starts (rewriting it again leaves it as it is)
ENV_PAGE_LINK_START = "The module's docstring is the env's documentation page: "


def replace_roles(text: str, resolve: Callable[[str], str | None] | None = None) -> str:
    """Replace each Sphinx role with its target as code (``~`` keeps the last part).

    With ``resolve`` (target -> the full dotted name of the object, or None), a resolved target
    becomes an optional cross-reference (mkdocs-autorefs's ``<autoref optional>``): a link
    where the object has an entry in the site, plain code where it has none (a private name,
    an undocumented attribute), never a warning.
    """

    def code_span(match: re.Match[str]) -> str:
        shortened, target = match.groups()
        target = re.sub(r"\s+", "", target)
        title = target.rsplit(".", 1)[-1] if shortened else target
        identifier = resolve(target.removesuffix("()")) if resolve else None
        if identifier is None:
            return f"`{title}`"
        return (
            f'<autoref identifier="{html.escape(identifier)}" optional>'
            f"<code>{html.escape(title)}</code></autoref>"
        )

    return SPHINX_ROLE.sub(code_span, text)


def name_resolver(obj: griffe.Object) -> Callable[[str], str | None]:
    """A ``resolve`` for :func:`replace_roles` that reads names in ``obj``'s scope.

    A dotted target resolves its first part (``Trajectory.rewards``: ``Trajectory`` as imported
    or defined where the docstring is); a target that starts with a package name is taken as
    the full name already.
    """

    def resolve(target: str) -> str | None:
        head, dot, rest = target.partition(".")
        if head in PACKAGES:  # checked first: a class may have an attribute named "agents"
            return target
        try:
            return f"{obj.resolve(head)}{dot}{rest}"
        except griffe.NameResolutionError:
            return None

    return resolve


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
    """Rewrite every docstring for Markdown; an env module's page docstring becomes a link."""

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite the docstring of every object below a package, once the tree is complete."""
        if obj.is_attribute and obj.docstring is None:
            comment = comment_docstring(obj.lines_collection[obj.filepath], obj.lineno)
            if comment:
                obj.docstring = griffe.Docstring(
                    comment,
                    lineno=obj.lineno,
                    parent=obj,
                    parser=loader.docstring_parser,
                    parser_options=loader.docstring_options,
                )
        rewrite_docstring(obj)

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite the docstring of a top-level package (``on_object`` sees only its members)."""
        rewrite_docstring(pkg)


def comment_docstring(lines: list[str], lineno: int | None) -> str:
    """The ``#:`` comment lines right above line ``lineno`` (1-based), as a docstring.

    The code documents its constants Sphinx's way, with ``#:`` comments above the assignment,
    which Griffe does not read; they become the attribute's docstring. "" when there are none.
    """
    if lineno is None:
        return ""
    comment: list[str] = []
    index = lineno - 2  # the line above the assignment, 0-based
    while index >= 0 and lines[index].strip().startswith("#:"):
        comment.insert(0, lines[index].strip()[2:].strip())
        index -= 1
    return "\n".join(comment)


def env_page_link(module: str, docstring: str) -> str:
    """What an env module's API entry says instead of its docstring: a link to its env page.

    The page is ``docs/envs/<family>.md`` (``docs/gen_env_pages.py`` names it so), titled by
    the docstring's first line; the link is relative to the API pages' folder, ``docs/api/``.
    Already a link (the rewrite ran before), the docstring is returned unchanged.
    """
    if docstring.startswith(ENV_PAGE_LINK_START):
        return docstring
    title = docstring.strip().splitlines()[0].lstrip("# ")
    family = module.split(".")[1]
    return f"{ENV_PAGE_LINK_START}[{title}](../envs/{family}.md)."


def rewrite_docstring(obj: griffe.Object) -> None:
    """Rewrite ``obj``'s docstring for Markdown; an env module's becomes a link (idempotent)."""
    if obj.docstring is None:
        return
    if obj.is_module and ENV_MODULE.fullmatch(obj.path):
        obj.docstring.value = env_page_link(obj.path, obj.docstring.value)
        return
    obj.docstring.value = fence_doctests(replace_roles(obj.docstring.value, name_resolver(obj)))

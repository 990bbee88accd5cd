"""MkDocs hooks of the documentation site (``hooks:`` in ``mkdocs.yml``).

* The env pages under ``docs/envs/`` are generated from the env docstrings by
  ``docs/gen_env_pages.py`` and committed, so that they also read well on the repository's
  web view. The build fails when one of them no longer matches its docstring.
* The API reference is generated at build time: one page per public module of the
  ``socialdilemmas`` and ``agents`` packages (no part of its dotted name starts with ``_``),
  each a mkdocstrings ``:::`` directive, and an ``API reference`` section of the navigation that
  mirrors the package tree. A new module therefore appears in the site without editing a list.

The modules are found on disk and read by mkdocstrings without being imported, so building the
site needs neither torch nor the ``agents`` extra.
"""

from __future__ import annotations

import ast
import functools
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # mkdocs is imported where it is used, so the tests can run without it
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parents[1]
#: the packages whose public modules the API reference documents
PACKAGES = ("socialdilemmas", "agents")
#: the folder of the generated API pages, relative to the docs folder
API_FOLDER = "api"
#: the title of the navigation entry that the generated API section replaces
API_NAV_TITLE = "API reference"
#: a "|" in a summary, escaped so that it does not end its table cell
ESCAPED_BAR = "\\|"


def public_modules() -> list[str]:
    """The dotted names of the public modules and packages of :data:`PACKAGES`, sorted."""
    names = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not any(part.startswith("_") for part in parts):
                names.append(".".join(parts))
    return sorted(names)


@functools.cache
def _replace_roles() -> Callable[[str], str]:
    """``replace_roles`` of ``docs/griffe_markdown.py``, which the API pages' docstrings get."""
    return runpy.run_path(str(ROOT / "docs" / "griffe_markdown.py"))["replace_roles"]


def module_summary(module: str) -> str:
    """The first line of the module's docstring, as Markdown (read from the source, not imported).

    An env module's first line is its page's title (``# Coin Game (`coin_game_v0`)``); the
    ``#`` is dropped.
    """
    path = ROOT.joinpath(*module.split("."))
    source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    docstring = (ast.get_docstring(ast.parse(source.read_text())) or "").strip()
    first_line = docstring.splitlines()[0].lstrip("# ") if docstring else ""
    return _replace_roles()(first_line)


def api_page_path(module: str) -> str:
    """Where the API page of ``module`` lies, relative to the docs folder."""
    return f"{API_FOLDER}/{module}.md"


def api_page(module: str) -> str:
    """The Markdown of the API page of ``module``: its mkdocstrings directive.

    The directive's root heading, the module's dotted name, is the page's title.
    """
    return f"::: {module}\n"


def api_index_page(modules: list[str]) -> str:
    """The overview page of the API reference: one row per module with its summary line."""
    rows = [f"| [`{m}`]({m}.md) | {module_summary(m).replace('|', ESCAPED_BAR)} |" for m in modules]
    return (
        "# API reference\n\n"
        "Generated from the docstrings of every public module of the `socialdilemmas` and "
        "`agents` packages.\n\n| module | summary |\n|---|---|\n" + "\n".join(rows) + "\n"
    )


def api_nav(modules: list[str]) -> list[Any]:
    """The navigation of the API reference: a section per package, holding its modules.

    A package's own page comes first in its section, so ``agents.algorithms.ppo`` is followed
    by ``agents.algorithms.ppo.learner`` and ``agents.algorithms.ppo.presets``.
    """
    module_set = set(modules)

    def children(parent: str) -> list[Any]:
        entries: list[Any] = [{f"{parent}": api_page_path(parent)}]
        for module in modules:
            if module.rpartition(".")[0] != parent:
                continue
            is_package = any(other.startswith(module + ".") for other in module_set)
            short = module.rpartition(".")[2]
            entries.append(
                {short: children(module)} if is_package else {short: api_page_path(module)}
            )
        return entries

    return [{"Overview": f"{API_FOLDER}/index.md"}] + [
        {package: children(package)} for package in PACKAGES
    ]


def stale_pages(pages: dict[Path, str]) -> list[Path]:
    """The paths of ``pages`` (path -> expected content) that are missing or differ."""
    return [
        path for path, content in pages.items() if not path.exists() or path.read_text() != content
    ]


def env_pages() -> dict[Path, str]:
    """What ``docs/gen_env_pages.py`` writes: env page path -> content."""
    return runpy.run_path(str(ROOT / "docs" / "gen_env_pages.py"))["pages"]()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Replace the ``API reference`` navigation entry with the generated section."""
    nav = config.nav or []
    for index, entry in enumerate(nav):
        if isinstance(entry, dict) and API_NAV_TITLE in entry:
            nav[index] = {API_NAV_TITLE: api_nav(public_modules())}
            return config
    from mkdocs.exceptions import PluginError

    raise PluginError(f"mkdocs.yml: the nav has no '{API_NAV_TITLE}' entry for the API pages")


def on_pre_build(config: MkDocsConfig) -> None:
    """Fail the build on a stale env page (the test suite checks the same)."""
    from mkdocs.exceptions import PluginError

    stale = stale_pages(env_pages())
    if stale:
        names = ", ".join(str(path.relative_to(ROOT)) for path in stale)
        raise PluginError(
            f"env pages that do not match the env docstrings: {names}; "
            "run python docs/gen_env_pages.py and commit the result"
        )


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated API pages to the site's files."""
    from mkdocs.structure.files import File

    modules = public_modules()
    files.append(File.generated(config, f"{API_FOLDER}/index.md", content=api_index_page(modules)))
    for module in modules:
        files.append(File.generated(config, api_page_path(module), content=api_page(module)))
    return files

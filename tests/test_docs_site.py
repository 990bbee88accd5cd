"""The documentation site's build code: ``docs/hooks.py`` and ``docs/griffe_markdown.py``.

CI builds the site with ``mkdocs build --strict``; these tests pin what the hooks generate
(the API pages and their navigation, the stale-page check) and how the docstrings are rewritten
for Markdown, without building. The Griffe extension's tests need the ``docs`` extra.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _load("hooks")


def test_public_modules_are_every_module_without_a_private_part():
    modules = hooks.public_modules()
    for expected in ["socialdilemmas", "socialdilemmas.core.vector", "agents", "agents.policy"]:
        assert expected in modules
    for private in ["socialdilemmas._rng", "agents.commands._common"]:
        assert private not in modules
    assert all(not part.startswith("_") for module in modules for part in module.split("."))
    assert modules == sorted(modules)


def _nav_pages(entries) -> list[str]:
    pages = []
    for entry in entries:
        ((_, value),) = entry.items()
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_the_api_nav_holds_each_module_once_and_a_package_before_its_modules():
    modules = hooks.public_modules()
    nav = hooks.api_nav(modules)
    pages = _nav_pages(nav)
    assert pages[0] == "api/index.md"
    assert sorted(pages[1:]) == sorted(hooks.api_page_path(module) for module in modules)
    algorithms = nav[2]["agents"][2]["algorithms"]  # agents: [agents, adapters, algorithms, ...]
    assert algorithms[0] == {"agents.algorithms": "api/agents.algorithms.md"}


def test_an_api_page_is_the_mkdocstrings_directive():
    assert hooks.api_page("agents.policy") == "::: agents.policy\n"


def test_the_api_overview_has_a_row_per_module_with_its_summary(monkeypatch):
    summaries = {"agents.policy": "The policy interface.", "agents.cli": "a | b"}
    monkeypatch.setattr(hooks, "module_summary", summaries.get)
    page = hooks.api_index_page(["agents.cli", "agents.policy"])
    assert page.startswith("# API reference\n")
    assert "| [`agents.policy`](agents.policy.md) | The policy interface. |" in page
    assert "| [`agents.cli`](agents.cli.md) | a \\| b |" in page  # "|" would end the cell


def test_stale_pages_are_the_missing_and_the_different_ones(tmp_path):
    same, different, missing = tmp_path / "same.md", tmp_path / "different.md", tmp_path / "no.md"
    same.write_text("page\n")
    different.write_text("old\n")
    expected = {same: "page\n", different: "new\n", missing: "page\n"}
    assert hooks.stale_pages(expected) == [different, missing]


def test_the_committed_env_pages_are_not_stale():
    assert hooks.stale_pages(hooks.env_pages()) == []


def test_the_nav_placeholder_is_replaced_and_its_absence_is_an_error():
    pytest.importorskip("mkdocs")
    from mkdocs.exceptions import PluginError

    class Config:
        nav = [{"Home": "index.md"}, {"API reference": "api/index.md"}]

    config = hooks.on_config(Config())
    assert config.nav[0] == {"Home": "index.md"}
    assert config.nav[1]["API reference"] == hooks.api_nav(hooks.public_modules())
    Config.nav = [{"Home": "index.md"}]
    with pytest.raises(PluginError, match="no 'API reference' entry"):
        hooks.on_config(Config())


def test_module_summaries_are_the_first_docstring_line_as_markdown():
    pytest.importorskip("griffe")
    assert hooks.module_summary("socialdilemmas.coin_game.env") == "Coin Game (`coin_game_v0`)"
    summary = hooks.module_summary("agents.adapters")  # its docstring names :class:`Policy`
    assert "`Policy`" in summary and ":class:" not in summary


def test_sphinx_roles_become_code_spans():
    markdown = pytest.importorskip("griffe") and _load("griffe_markdown")
    text = "see :class:`~agents.policy.Policy`, :func:`agents.rollout.\n    rollout` and ``x``"
    assert markdown.replace_roles(text) == "see `Policy`, `agents.rollout.rollout` and ``x``"


def test_interactive_sessions_are_fenced_once():
    markdown = pytest.importorskip("griffe") and _load("griffe_markdown")
    text = "Intro.\n\n>>> a = [1]\n>>> a\n[1]\n\nAfter.\n    >>> b\n    2"
    fenced = (
        "Intro.\n\n```pycon\n>>> a = [1]\n>>> a\n[1]\n```\n\nAfter.\n"
        "    ```pycon\n    >>> b\n    2\n    ```"
    )
    assert markdown.fence_doctests(text) == fenced
    assert markdown.fence_doctests(fenced) == fenced  # a fenced session is left alone


def test_resolved_roles_become_optional_cross_references():
    markdown = pytest.importorskip("griffe") and _load("griffe_markdown")
    resolved = {"Policy": "agents.policy.Policy"}
    text = markdown.replace_roles("a :class:`Policy` or :func:`nowhere`", resolved.get)
    assert text == (
        'a <autoref identifier="agents.policy.Policy" optional><code>Policy</code></autoref>'
        " or `nowhere`"
    )


def _tree(griffe):
    """socialdilemmas.coin_game.{env, game}; game imports BatchedGame and has a method."""
    package = griffe.Module("socialdilemmas")
    family = griffe.Module("coin_game")
    env = griffe.Module("env", docstring=griffe.Docstring("# Coin Game (`coin_game_v0`)\n\nText."))
    game = griffe.Module("game", docstring=griffe.Docstring("A :class:`BatchedGame` here."))
    imported = griffe.Alias("BatchedGame", "socialdilemmas.core.game.BatchedGame")
    game.set_member("BatchedGame", imported)
    coin_game = griffe.Class("CoinGame", docstring=griffe.Docstring("See :meth:`step`."))
    coin_game.set_member("step", griffe.Function("step"))
    coin_game.set_member("agents", griffe.Attribute("agents"))
    game.set_member("CoinGame", coin_game)
    package.set_member("coin_game", family)
    family.set_member("env", env)
    family.set_member("game", game)
    return env, game, coin_game


def test_names_resolve_in_the_docstrings_scope_and_package_names_as_written():
    griffe = pytest.importorskip("griffe")
    markdown = _load("griffe_markdown")
    _, game, coin_game = _tree(griffe)
    assert markdown.name_resolver(game)("BatchedGame") == "socialdilemmas.core.game.BatchedGame"
    resolve = markdown.name_resolver(coin_game)
    assert resolve("step") == "socialdilemmas.coin_game.game.CoinGame.step"
    assert resolve("agents.policy.Policy") == "agents.policy.Policy"  # not the attribute agents
    assert resolve("nowhere") is None


def test_env_module_docstrings_become_a_link_to_their_page_and_others_are_rewritten():
    griffe = pytest.importorskip("griffe")
    markdown = _load("griffe_markdown")
    env, game, _ = _tree(griffe)
    for _ in range(2):  # rewriting twice changes nothing more
        markdown.rewrite_docstring(env)
        markdown.rewrite_docstring(game)
    assert env.docstring.value == (
        "The module's docstring is the env's documentation page: "
        "[Coin Game (`coin_game_v0`)](../envs/coin_game.md)."
    )
    assert game.docstring.value == (
        'A <autoref identifier="socialdilemmas.core.game.BatchedGame" optional>'
        "<code>BatchedGame</code></autoref> here."
    )


def test_the_comment_above_a_constant_is_its_docstring():
    markdown = pytest.importorskip("griffe") and _load("griffe_markdown")
    lines = ["x = 1", "#: the first line", "#: and the second", "LIMIT = 3", "y = 2"]
    assert markdown.comment_docstring(lines, 4) == "the first line\nand the second"
    assert markdown.comment_docstring(lines, 5) == ""
    assert markdown.comment_docstring(lines, 1) == ""
    assert markdown.comment_docstring(lines, None) == ""

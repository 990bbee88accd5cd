"""Packaging promises: a light import, the registry, the documentation pages' examples."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

import socialdilemmas
from socialdilemmas.registration import (
    ENV_MODULES,
    PETTINGZOO_HAS_REGISTRY,
    canonical_id,
    env_class,
    register_with_pettingzoo,
)


def test_import_does_not_load_torch_or_other_heavy_packages():
    code = (
        "import sys, socialdilemmas; "
        "heavy = [m for m in ('torch', 'stable_baselines3', 'matplotlib', 'agents') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("alias", ["ipd_v0", "ipd-v0", "socialdilemmas/ipd-v0"])
def test_env_id_aliases(alias):
    assert canonical_id(alias) == "ipd_v0"


def test_unknown_env_id():
    with pytest.raises(KeyError, match="unknown env 'chess_v0'"):
        socialdilemmas.make_vec("chess_v0", 4)


@pytest.mark.skipif(not PETTINGZOO_HAS_REGISTRY, reason="PettingZoo < 1.27 has no registry")
def test_every_env_is_registered_with_pettingzoo_for_both_apis():
    import pettingzoo

    for name in ENV_MODULES:
        env_id = "socialdilemmas/" + name.replace("_v", "-v")
        assert env_id in pettingzoo.aec_registry
        assert env_id in pettingzoo.parallel_registry


def test_registering_without_a_pettingzoo_registry_does_nothing(monkeypatch):
    """PettingZoo before 1.27 has no registry: importing the package must still work."""
    import pettingzoo

    for name in ("aec_registry", "parallel_registry", "register", "make"):
        monkeypatch.delattr(pettingzoo, name, raising=False)
    assert register_with_pettingzoo() is False


@pytest.mark.skipif(not PETTINGZOO_HAS_REGISTRY, reason="PettingZoo < 1.27 has no registry")
def test_registering_again_is_a_no_op():
    import pettingzoo

    before = set(pettingzoo.aec_registry)
    assert register_with_pettingzoo() is True
    assert set(pettingzoo.aec_registry) == before


@pytest.mark.parametrize("name", list(ENV_MODULES))
def test_documentation_page_examples_run(name):
    """Each env's docstring is its documentation page; its examples are doctests."""
    page = importlib.import_module(env_class(name).__module__)
    failures, tried = doctest.testmod(page, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


def test_package_docstring_example():
    failures, tried = doctest.testmod(socialdilemmas)
    assert tried > 0 and failures == 0


def test_env_docs_pages_match_the_docstrings():
    """docs/envs/*.md are generated from the env docstrings; regenerate after editing them."""
    import runpy
    from pathlib import Path

    generator = runpy.run_path(str(Path(__file__).parents[1] / "docs" / "gen_env_pages.py"))
    for path, content in generator["pages"]().items():
        assert path.exists(), f"{path} missing: run python docs/gen_env_pages.py"
        assert path.read_text() == content, f"{path} is stale: run python docs/gen_env_pages.py"

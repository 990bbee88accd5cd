"""The docstring examples of the evaluation modules run (the guides' blocks: tests/test_docs.py)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module_name", ["agents.scripted", "agents.evaluation", "agents.sb3"])
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0

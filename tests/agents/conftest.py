"""Agent tests need the ``agents`` extra; without torch the whole directory is skipped."""

import pytest

pytest.importorskip("torch")

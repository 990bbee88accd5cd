"""League heatmaps: long agent names wrap, and the figure grows to hold them."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from agents.evaluation.plots import heatmap_png, wrap_label


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("tft", ["tft"]),
        ("baseline:paa_negotiation_continuous", ["baseline:paa_", "negotiation_", "continuous"]),
        ("iter_000002 (seat 0)", ["iter_000002", "(seat 0)"]),
        ("x" * 40, ["x" * 18, "x" * 18, "x" * 4]),
    ],
)
def test_wrap_label_breaks_after_separators_and_cuts_only_overlong_pieces(name, lines):
    assert wrap_label(name).split("\n") == lines


def test_wrap_label_rejects_a_width_below_one():
    with pytest.raises(ValueError, match="width must be at least 1"):
        wrap_label("tft", width=0)


def _png_size(path):
    """(width, height) in pixels, read from the PNG's IHDR chunk."""
    return struct.unpack(">II", path.read_bytes()[16:24])


def test_heatmap_makes_room_for_long_names(tmp_path):
    table = np.array([[1.0, 2.0], [3.0, np.nan]])
    short = heatmap_png(table, ["tft", "ad"], tmp_path / "short.png")
    long_names = ["baseline:paa_negotiation_continuous", "my_agents.py:make_agent_with_memory"]
    long = heatmap_png(table, long_names, tmp_path / "long.png")
    (short_width, short_height), (long_width, long_height) = _png_size(short), _png_size(long)
    assert long_width > short_width and long_height > short_height


def test_heatmap_rejects_a_table_that_does_not_match_the_names(tmp_path):
    with pytest.raises(ValueError, match=r"table must be \(3, 3\) for 3 names"):
        heatmap_png(np.zeros((2, 2)), ["a", "b", "c"], tmp_path / "bad.png")

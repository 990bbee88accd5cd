"""The papers' league protocol: groups of seeds, every pair, cross- and same-seed pairs apart."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agents.cli import main
from agents.evaluation.seed_league import seed_league
from agents.scripted import scripted_policy


def ipd(name):
    return scripted_policy(name, "ipd_v0")


def test_cells_average_the_pairs_between_groups_by_hand():
    # IPD, 50 rounds: TFT-TFT -1 each; AD-AD -2; TFT vs AD: TFT -3 once then -2 (-2.02), AD 0
    # once then -2 (-1.96). Two identical TFT "seeds" give three pairs j >= i within the group.
    result = seed_league(
        {"tft": [ipd("tit_for_tat"), ipd("tit_for_tat")], "ad": [ipd("always_defect")]},
        "ipd_v0",
        episodes=4,
    )
    assert result.groups == ["tft", "ad"] and result.members["tft"] == ["tft[0]", "tft[1]"]
    np.testing.assert_allclose(result.mean_table(), [[-1.0, -2.02], [-1.96, -2.0]])
    cells = result.cells["reward_per_step"]
    assert cells[("tft", "tft")].pairs == 3 and cells[("tft", "ad")].pairs == 2
    assert cells[("ad", "tft")].std == 0.0
    tft = result.diagonal["reward_per_step"]["tft"]
    assert (tft["cross_seed"].pairs, tft["same_seed"].pairs, tft["all"].pairs) == (1, 2, 3)
    ad = result.diagonal["reward_per_step"]["ad"]
    assert ad["cross_seed"].pairs == 0 and np.isnan(ad["cross_seed"].mean)
    assert ad["same_seed"].mean == pytest.approx(-2.0)
    # the game's metrics get the same treatment
    np.testing.assert_allclose(result.mean_table("cooperation_rate"), [[1.0, 0.02], [0.0, 0.0]])


def test_cross_seed_and_same_seed_pairs_are_reported_apart():
    # two "seeds" that differ: AC and AD. Same-seed pairs: AC-AC -1, AD-AD -2; the cross-seed
    # pair is AC vs AD, worth (-3 + 0) / 2 = -1.5 as the mean of its two players.
    result = seed_league(
        {"mixed": [ipd("always_cooperate"), ipd("always_defect")]}, "ipd_v0", episodes=2
    )
    kinds = result.diagonal["reward_per_step"]["mixed"]
    assert kinds["same_seed"].mean == pytest.approx(-1.5)
    assert kinds["same_seed"].std == pytest.approx(0.5)
    assert kinds["cross_seed"].mean == pytest.approx(-1.5) and kinds["cross_seed"].std == 0.0
    assert kinds["all"].std == pytest.approx(np.std([-1.0, -1.5, -2.0]))
    text = result.format()
    assert "cross_seed -1.500 +- 0.000 (1)" in text and "same_seed -1.500 +- 0.500 (2)" in text


def test_bad_groups_are_rejected():
    with pytest.raises(ValueError, match="at least one group"):
        seed_league({}, "ipd_v0")
    with pytest.raises(ValueError, match="group 'x' has no agents"):
        seed_league({"x": []}, "ipd_v0")


def test_cli_groups_agents_by_label(tmp_path, capsys):
    out = tmp_path / "league"
    code = main(
        [
            "league",
            "--seed-groups",
            "--env",
            "ipd_v0",
            "--episodes",
            "2",
            "--quiet",
            "tft=tit_for_tat",
            "tft=tit_for_tat",
            "ad=always_defect",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    saved = json.loads((out / "seed_league.json").read_text())
    assert saved["groups"] == ["tft", "ad"]
    assert saved["cells"]["reward_per_step"]["tft vs ad"]["mean"] == pytest.approx(-2.02)
    assert (out / "seed_league.csv").exists() and (out / "seed_league.png").exists()
    assert "self-play cells by kind of pair" in capsys.readouterr().out

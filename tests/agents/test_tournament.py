"""The exact-game tournament: known answers on a toy, the command line end to end, bad input.

The toy learners never move ("frozen" at always-cooperate or always-defect, or one that jumps
to always-defect after its first update), so each cell's return is a hand value of the IPD
(normalised, gamma = 0.96): C vs C -1, C vs D -3 / 0, D vs D -2, every trial alike (SEM 0).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from agents.algorithms.exact import ExactGame, ExactLearner
from agents.cli import main
from agents.evaluation.tournament import tournament

torch.set_num_threads(1)


class Frozen(ExactLearner):
    """Starts at fixed logits and never updates."""

    name = "frozen"

    def __init__(self, logit: float) -> None:
        super().__init__()
        self.logit = logit

    def initial_parameters(self, trials, game, generator):
        """Every trial at the same deterministic policy."""
        return torch.full((trials, 5), self.logit, dtype=torch.float64)

    def update(self, view, own, other, opponent=None, create_graph=False):
        """No change."""
        return own


class Defector(Frozen):
    """Starts cooperating, defects from its first update on."""

    def update(self, view, own, other, opponent=None, create_graph=False):
        """Always-defect logits."""
        return torch.full_like(own, -40.0)


def test_toy_tournament_has_the_hand_values():
    result = tournament(
        {"allc": Frozen(40.0), "alld": Frozen(-40.0), "turncoat": Defector(40.0)},
        ExactGame("ipd"),
        trials=5,
        steps=3,
    )
    row = result.mean[..., 0]
    expected_row = [[-1, -3, -3], [0, -2, -2], [0, -2, -2]]
    np.testing.assert_allclose(row, expected_row, atol=1e-10)
    np.testing.assert_allclose(result.mean[..., 1], np.transpose(expected_row), atol=1e-10)
    np.testing.assert_allclose(result.sem, 0.0, atol=1e-12)
    assert result.names == ["allc", "alld", "turncoat"]
    assert "allc" in result.format() and "-3.00" in result.format()


def test_zero_steps_score_the_starts_and_seats_are_kept_apart():
    """Matching pennies is zero-sum: row and column returns are negatives in every cell."""
    result = tournament([Frozen(40.0)], "matching_pennies", trials=2, steps=0)
    np.testing.assert_allclose(result.mean[0, 0], [1.0, -1.0], atol=1e-10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"trials": 0}, "trials"),
        ({"steps": -1}, "steps"),
        ({"learners": {}}, "empty"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    arguments = {"learners": [Frozen(0.0)], "game": "ipd", **kwargs}
    with pytest.raises(ValueError, match=message):
        tournament(**arguments)


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "t"
    code = main(["tournament", "naive", "lola", "--trials", "4", "--steps", "5", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "naive" in printed and "lola" in printed and "wrote" in printed
    rows = list(csv.DictReader((out / "tournament.csv").read_text().splitlines()))
    assert [(r["row"], r["column"]) for r in rows] == [
        ("naive", "naive"),
        ("naive", "lola"),
        ("lola", "naive"),
        ("lola", "lola"),
    ]
    data = json.loads((out / "tournament.json").read_text())
    assert data["trials"] == 4 and data["steps"] == 5 and data["game"] == "ipd"
    assert np.array(data["row_return"]).shape == (2, 2)
    assert (out / "tournament.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_takes_a_users_learner_from_a_file(tmp_path, capsys):
    source = tmp_path / "mine.py"
    source.write_text(
        "import torch\n"
        "from agents.algorithms.exact import ExactLearner\n"
        "class Still(ExactLearner):\n"
        "    name = 'still'\n"
        "    def update(self, view, own, other, opponent=None, create_graph=False):\n"
        "        return own\n"
        "def make():\n"
        "    return Still()\n"
    )
    out = tmp_path / "t"
    argv = ["tournament", f"mine={source}:make", "naive", "--trials", "3", "--steps", "2"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "tournament.json").read_text())["names"] == ["mine", "naive"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["mfos"], "unknown learner 'mfos'"),
        (["naive", "--game", "poker"], "unknown payoff preset 'poker'"),
        (["naive", "--trials", "0"], "--trials must be at least 1"),
        (["naive", "--gamma", "1.5"], "gamma must be in"),
        (["naive", "naive"], "same label"),
        (["nosuchmodule:make"], "nosuchmodule"),
    ],
)
def test_cli_bad_input_gives_one_clear_line(tmp_path, capsys, extra, message):
    assert main(["tournament", *extra, "--out", str(tmp_path / "t")]) == 2
    error = capsys.readouterr().err
    assert "socialdilemmas tournament: error:" in error and message in error
    assert not (tmp_path / "t" / "tournament.csv").exists()

"""M-MAML on exact values: its meta-gradient, how it plays, its config."""

from __future__ import annotations

import pytest
import torch

from agents.algorithms.exact import ExactGame, NaiveLearner
from agents.algorithms.mmaml import MMamlConfig, MMamlLearner
from agents.evaluation.tournament import tournament

torch.set_num_threads(1)


@pytest.mark.parametrize("objective", ["trajectory", "final"])
def test_meta_gradient_matches_finite_differences(objective):
    """The unrolled return is differentiated through both players' naive steps."""
    game = ExactGame("ipd")
    learner = MMamlLearner(MMamlConfig(seat=1, objective=objective))
    generator = torch.Generator().manual_seed(0)
    opponents = torch.randn(2, 3, 5, generator=generator, dtype=torch.float64)
    x0 = torch.randn(2, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    log_lr = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(
        lambda a, b: learner.unrolled_return(game, a, b, opponents, 4), (x0, log_lr), atol=1e-6
    )


def test_meta_training_moves_the_start_and_play_deals_trials_in_turn():
    config = MMamlConfig(meta_steps=3, inner_steps=5, opponents=4, learners=2, lr=2.0)
    learner = MMamlLearner(config)
    game = ExactGame("ipd")
    generator = torch.Generator().manual_seed(1)
    with pytest.raises(RuntimeError, match="prepare"):
        learner.update(game.seat(0), torch.zeros(2, 5), torch.zeros(2, 5))
    start = learner.initial_parameters(5, game, generator)
    assert len(learner.meta_objective) == 3
    torch.testing.assert_close(start[[0, 2, 4]], learner.initial_logits[[0, 0, 0]])
    torch.testing.assert_close(start[[1, 3]], learner.initial_logits[[1, 1]])
    assert not torch.allclose(learner.learning_rates, torch.full((2,), 2.0, dtype=torch.float64))
    # it plays as a naive learner at each trial's learned rate
    other = torch.randn(5, 5, dtype=torch.float64)
    stepped = learner.update(game.seat(0), start, other)
    for trial in range(5):
        rate = learner.learning_rates[trial % 2].item()
        naive = NaiveLearner(NaiveLearner.config_class(lr=rate))
        expected = naive.update(game.seat(0), start[trial : trial + 1], other[trial : trial + 1])
        torch.testing.assert_close(stepped[trial : trial + 1], expected)


def test_objectives_by_hand_with_zero_and_one_steps():
    """With no steps both objectives are the start's return; with one, "trajectory" still is."""
    game = ExactGame("ipd")
    x0 = torch.randn(1, 5, dtype=torch.float64, requires_grad=True)
    opponents = torch.randn(1, 2, 5, dtype=torch.float64)
    start = game.values(x0.detach().expand(2, 5), opponents[0])[:, 0]
    log_lr = torch.zeros(1, dtype=torch.float64)
    for objective in ("trajectory", "final"):
        learner = MMamlLearner(MMamlConfig(objective=objective))
        torch.testing.assert_close(
            learner.unrolled_return(game, x0, log_lr, opponents, 0)[0], start
        )
    one = MMamlLearner(MMamlConfig()).unrolled_return(game, x0, log_lr, opponents, 1)[0]
    final = MMamlLearner(MMamlConfig(objective="final")).unrolled_return(
        game, x0, log_lr, opponents, 1
    )[0]
    torch.testing.assert_close(one, start)
    assert not torch.allclose(final, start)


def test_it_takes_part_in_a_tournament():
    config = MMamlConfig(meta_steps=1, inner_steps=3, opponents=2, learners=3)
    result = tournament({"mmaml": MMamlLearner(config), "naive": NaiveLearner()}, trials=6, steps=3)
    assert result.mean.shape == (2, 2, 2)


@pytest.mark.parametrize(
    "field, value",
    [
        ("meta_steps", 0),
        ("opponents", 0),
        ("learners", 0),
        ("inner_steps", -1),
        ("meta_lr", 0.0),
        ("seat", 2),
        ("meta_lr", float("inf")),
    ],
)
def test_bad_configs_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        MMamlConfig(**{field: value})

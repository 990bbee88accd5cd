"""Learners on exact values: naive and LOLA updates by hand, learning outcomes, configs.

The hand-computed cases use gamma = 0 (a one-shot game: only the start logits, entry 4, matter)
at x = 0, where p = q = 1/2 and dp/dx = dq/dy = 1/4.

- IPD, naive: df_0/dp = q(-1) + (1-q)(-3) - q(0) - (1-q)(-2) = -1, so df_0/dx = -1/4 and the
  step is -lr/4.
- Chicken (CC 0, CD -1/1, DC 1/-1, DD -2): df_0/dp = 1 - 2q = 0 and df_0/dq = 3 - 2p = 2, so
  df_0/dy = 1/2; df_1/dq = 1 - 2p, so d/dx (df_1/dy) = (-2)(1/4)(1/4) = -1/8. LOLA (Taylor):
  0 + a * (1/2)(-1/8) = -a/16. The lookahead form at this point: y' = y + a(1 - 2p)/4 = 0, and
  d/dx f_0(x, y'(x)) = df_0/dx + df_0/dy * dy'/dx = 0 + (1/2)(-a/8) = -a/16 as well. A naive
  learner does not move (df_0/dx = 0).
"""

from __future__ import annotations

import pytest
import torch

from agents.algorithms.exact import ExactGame, ExactLearner, NaiveConfig, NaiveLearner
from agents.algorithms.exact.registry import EXACT_LEARNERS, make_exact_learner
from agents.algorithms.lola import LolaConfig, LolaLearner
from agents.evaluation.tournament import play_pair

torch.set_num_threads(1)
ZERO = torch.zeros(1, 5, dtype=torch.float64)


def start_entry_only(value: float) -> torch.Tensor:
    expected = torch.zeros(1, 5, dtype=torch.float64)
    expected[0, 4] = value
    return expected


def test_naive_step_by_hand():
    game = ExactGame("ipd", gamma=0.0)
    new = NaiveLearner(NaiveConfig(lr=2.0)).update(game.seat(0), ZERO, ZERO)
    torch.testing.assert_close(new, start_entry_only(-0.5))


@pytest.mark.parametrize("form", ["taylor", "lookahead"])
@pytest.mark.parametrize("seat", [0, 1])
def test_lola_step_by_hand(form, seat):
    game = ExactGame("chicken", gamma=0.0)
    learner = LolaLearner(LolaConfig(lr=2.0, lookahead=4.0, form=form))
    new = learner.update(game.seat(seat), ZERO, ZERO)
    torch.testing.assert_close(new, start_entry_only(2.0 * -4.0 / 16))
    assert NaiveLearner(NaiveConfig(lr=2.0)).update(game.seat(seat), ZERO, ZERO).abs().max() == 0


def test_the_two_lola_forms_differ_away_from_the_hand_case():
    game = ExactGame("ipd")
    x, y = torch.randn(2, 16, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    taylor = LolaLearner().update(game.seat(0), x, y)
    lookahead = LolaLearner(LolaConfig(form="lookahead")).update(game.seat(0), x, y)
    naive = NaiveLearner().update(game.seat(0), x, y)
    assert (taylor - lookahead).abs().max() > 1e-3
    assert (taylor - naive).abs().max() > 1e-3


def test_updates_keep_the_graph_only_when_asked():
    game = ExactGame("ipd")
    x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    y = torch.randn(4, 5, dtype=torch.float64)
    for learner in (NaiveLearner(), LolaLearner()):
        assert not learner.update(game.seat(0), x, y).requires_grad
        new = learner.update(game.seat(0), x, y, create_graph=True)
        (gradient,) = torch.autograd.grad(new.sum(), x)
        assert gradient.abs().sum() > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_naive_pairs_defect_and_lola_pairs_cooperate_in_the_ipd(seed):
    """32 trials x 300 steps from N(0, 1) starts.

    Measured on seeds 0-2: naive pairs -2.00 for both seats, LOLA pairs -1.03 to -1.06 (the
    MeVa paper: -1.99 and -1.04), so the thresholds leave 0.1 and 0.44 of margin.
    """
    game = ExactGame("ipd")
    naive = play_pair(NaiveLearner(), NaiveLearner(), game, trials=32, seed=seed).mean(0)
    lola = play_pair(LolaLearner(), LolaLearner(), game, trials=32, seed=seed).mean(0)
    assert torch.all(naive < -1.9), naive
    assert torch.all(lola > -1.5), lola


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: NaiveConfig(lr=0.0), "lr"),
        (lambda: NaiveConfig(lr=float("nan")), "lr"),
        (lambda: NaiveConfig(init_std=-1.0), "init_std"),
        (lambda: LolaConfig(form="pseudo"), "form"),
        (lambda: LolaConfig(lookahead=-1.0), "lookahead"),
        (lambda: LolaConfig(lookahead="big"), "lookahead"),
    ],
)
def test_bad_configs_name_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_reference_settings():
    assert ExactGame("ipd").reference_learning_rate == pytest.approx(25.0)
    assert ExactGame("matching_pennies").reference_learning_rate == pytest.approx(25.0)
    assert ExactGame("chicken_meva").reference_learning_rate == 1.0
    assert LolaConfig().form == "taylor" and LolaConfig().lr is None
    lola = LolaLearner()
    assert lola.lookahead(ExactGame("ipd").seat(0)) == pytest.approx(25.0)
    with pytest.raises(TypeError, match="LolaConfig"):
        LolaLearner(NaiveConfig())


def test_registry_builds_every_learner_and_rejects_unknown_names():
    for name in EXACT_LEARNERS:
        assert isinstance(make_exact_learner(name), ExactLearner)
    with pytest.raises(KeyError, match="unknown exact learner 'mfos'"):
        make_exact_learner("mfos")

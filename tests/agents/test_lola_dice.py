"""LOLA-DiCE: the DiCE estimators, the differentiable lookahead, learning, checkpoints, configs.

The exact checks enumerate every action sequence of a two-step game: weighting each sequence's
DiCE objective by its (detached) probability turns the sampled estimator into the exact
expectation, whose derivatives of every order are those of the expected return.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from learning_cases import CASES_BY_NAME
from torch.nn import functional as F

from agents.algorithms import ALGORITHMS, PRESETS, preset_algorithm, preset_config
from agents.algorithms.core.returns import gae
from agents.algorithms.lola_dice import LOLADiCEConfig, LOLADiCELearner
from agents.algorithms.lola_dice.estimator import (
    centre_over_batch,
    dice_objective,
    loaded_dice_objective,
    naive_step,
)
from agents.checkpoint import load_policy, restore_learner, save_checkpoint
from agents.evaluation import match
from agents.scripted import scripted_policy
from agents.training import read_metrics, resume, train
from socialdilemmas.matrix.payoffs import payoff_table

torch.set_num_threads(1)  # these batches are small: more threads only contend for the cores

GAMMA = 0.96
TINY = {"env_kwargs": {"max_cycles": 5}, "num_envs": 8, "iterations": 4, "checkpoint_every": 2}


# ---- the two-step games, enumerated ---------------------------------------------------------
def enumerated_ipd(steps: int = 2) -> dict[str, torch.Tensor]:
    """Every action sequence of a ``steps``-round IPD, as a batch of one game per sequence.

    ``observations[t, b, seat]`` is the memory-one one-hot of the env (CC, CD, DC, DD, start in
    the seat's own view), ``actions`` 0 = cooperate, ``rewards`` the LOLA payoffs.
    """
    table = torch.as_tensor(payoff_table("ipd")[0], dtype=torch.float64)
    sequences = torch.tensor(list(itertools.product((0, 1), repeat=2 * steps)))
    actions = sequences.reshape(-1, steps, 2).transpose(0, 1)  # (T, B, 2)
    batch = actions.shape[1]
    observations = torch.zeros(steps, batch, 2, 5, dtype=torch.float64)
    observations[0, :, :, 4] = 1.0
    for t in range(1, steps):
        a, b = actions[t - 1, :, 0], actions[t - 1, :, 1]
        observations[t, torch.arange(batch), 0, 2 * a + b] = 1.0
        observations[t, torch.arange(batch), 1, 2 * b + a] = 1.0
    rewards = table[actions[..., 0], actions[..., 1]]  # (T, B, 2)
    return {"observations": observations, "actions": actions, "rewards": rewards}


def tabular_log_probs(theta: torch.Tensor, game: dict, seat: int) -> torch.Tensor:
    """``(T, B)`` log-probabilities of ``seat``'s actions; ``sigmoid(theta[s])`` = P(C | s)."""
    logits = game["observations"][:, :, seat] @ theta
    cooperate = game["actions"][..., seat] == 0
    return torch.where(cooperate, F.logsigmoid(logits), F.logsigmoid(-logits))


def sequence_probabilities(thetas: list[torch.Tensor], game: dict) -> torch.Tensor:
    """``(B,)`` probability of each enumerated sequence under both players' tables."""
    total = tabular_log_probs(thetas[0], game, 0) + tabular_log_probs(thetas[1], game, 1)
    return total.sum(0).exp()


def exact_value(thetas: list[torch.Tensor], game: dict, seat: int) -> torch.Tensor:
    """``E[sum_t gamma^t r_t]`` of ``seat`` (differentiable, by enumeration)."""
    discount = GAMMA ** torch.arange(game["rewards"].shape[0], dtype=torch.float64)
    returns = (discount[:, None] * game["rewards"][..., seat]).sum(0)
    return (sequence_probabilities(thetas, game) * returns).sum()


def exact_dice(thetas: list[torch.Tensor], game: dict, seat: int) -> torch.Tensor:
    """The DiCE objective of ``seat`` over every sequence, each weighted by its probability.

    ``dice_objective`` averages over the batch, so a sequence's weight is ``B x p``.
    """
    weights = sequence_probabilities(thetas, game).detach() * game["rewards"].shape[1]
    return dice_objective(
        game["rewards"][..., seat] * weights,
        tabular_log_probs(thetas[seat], game, seat),
        tabular_log_probs(thetas[1 - seat], game, 1 - seat),
        GAMMA,
    )


# ---- DiCE -----------------------------------------------------------------------------------
def test_dice_forward_value_is_the_discounted_return():
    generator = torch.Generator().manual_seed(0)
    rewards = torch.randn(4, 6, generator=generator)
    own = torch.randn(4, 6, generator=generator, requires_grad=True)
    other = torch.randn(4, 6, generator=generator, requires_grad=True)
    discount = GAMMA ** torch.arange(4.0)
    expected = (discount[:, None] * rewards).sum(0).mean()
    torch.testing.assert_close(dice_objective(rewards, own, other, GAMMA), expected)
    # the loaded form is a zero-valued estimator of the same gradients
    assert loaded_dice_objective(rewards, own, other, GAMMA).item() == 0.0


def test_dice_gradient_is_the_score_function_gradient_computed_by_hand():
    """One game of two rounds with one-logit policies: p = P(C) = sigmoid(theta), q for phi.

    Player 1 plays C then D, player 2 D then D, so player 1 is paid -3 then -2. With
    d log p(C) = 1 - p and d log p(D) = -p, the score-function gradients are
    d/dtheta = r_0 (1 - p) + gamma r_1 ((1 - p) - p), d/dphi = r_0 (-q) + gamma r_1 (-2 q), and
    the mixed second derivative is r_0 (1 - p)(-q) + gamma r_1 (1 - 2p)(-2q).
    """
    theta = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    phi = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)
    mine = torch.stack([F.logsigmoid(theta), F.logsigmoid(-theta)]).unsqueeze(-1)  # C, D
    theirs = torch.stack([F.logsigmoid(-phi), F.logsigmoid(-phi)]).unsqueeze(-1)  # D, D
    rewards = torch.tensor([[-3.0], [-2.0]], dtype=torch.float64)
    objective = dice_objective(rewards, mine, theirs, GAMMA)
    d_theta, d_phi = torch.autograd.grad(objective, [theta, phi], create_graph=True)
    p, q = torch.sigmoid(theta).item(), torch.sigmoid(phi).item()
    r0, r1 = -3.0, -2.0
    assert d_theta.item() == pytest.approx(r0 * (1 - p) + GAMMA * r1 * ((1 - p) - p), rel=1e-12)
    assert d_phi.item() == pytest.approx(r0 * -q + GAMMA * r1 * (-2 * q), rel=1e-12)
    (mixed,) = torch.autograd.grad(d_theta, phi)
    assert mixed.item() == pytest.approx(
        r0 * (1 - p) * -q + GAMMA * r1 * (1 - 2 * p) * (-2 * q), rel=1e-12
    )


def stateless_game() -> dict[str, torch.Tensor]:
    """The two-round IPD with memoryless policies: every observation is the same one state."""
    game = enumerated_ipd(2)
    game["observations"] = torch.zeros_like(game["observations"])
    game["observations"][..., 4] = 1.0
    return game


def test_loaded_dice_has_the_expectation_of_dice_by_exact_enumeration():
    """Any baseline of the history before each step leaves both expected derivatives unchanged.

    First derivatives in each player's logit and the mixed second derivative (what LOLA
    differentiates) of the expected DiCE and loaded-DiCE objectives agree with each other and
    with the exact derivatives of the expected return.
    """
    game = stateless_game()
    thetas = [
        torch.tensor([0.0, 0, 0, 0, v], dtype=torch.float64, requires_grad=True)
        for v in (0.4, -0.9)
    ]
    batch = game["rewards"].shape[1]
    rewards = game["rewards"][..., 0]
    # a baseline that depends on the step and on what was played before it, not on a_t
    values = torch.stack(
        [torch.full((batch,), -6.0, dtype=torch.float64), -4.0 - game["actions"][0, :, 1]]
    ).double()
    next_values = torch.cat([values[1:], torch.zeros_like(values[:1])])
    dones = torch.zeros(2, batch, dtype=torch.bool)
    dones[-1] = True
    advantages = gae(rewards, values, next_values, dones, GAMMA, 1.0)

    def expected(objective_of) -> list[torch.Tensor]:
        weights = sequence_probabilities(thetas, game).detach() * batch
        own = tabular_log_probs(thetas[0], game, 0)
        other = tabular_log_probs(thetas[1], game, 1)
        objective = objective_of(weights, own, other)
        first = torch.autograd.grad(objective, thetas, create_graph=True)
        (mixed,) = torch.autograd.grad(first[0][4], thetas[1])
        return [first[0][4], first[1][4], mixed[4]]

    plain = expected(lambda w, own, other: dice_objective(rewards * w, own, other, GAMMA))
    loaded = expected(
        lambda w, own, other: loaded_dice_objective(advantages * w, own, other, GAMMA)
    )
    value = exact_value(thetas, game, 0)
    first = torch.autograd.grad(value, thetas, create_graph=True)
    (mixed,) = torch.autograd.grad(first[0][4], thetas[1])
    exact = [first[0][4], first[1][4], mixed[4]]
    for a, b, c in zip(plain, loaded, exact, strict=True):
        assert a.item() == pytest.approx(c.item(), rel=1e-9, abs=1e-12)
        assert b.item() == pytest.approx(c.item(), rel=1e-9, abs=1e-12)
    # and on one sampled sequence the baseline does change the estimate
    one = [0]
    own = tabular_log_probs(thetas[0], game, 0)[:, one]
    other = tabular_log_probs(thetas[1], game, 1)[:, one]
    g_plain = torch.autograd.grad(dice_objective(rewards[:, one], own, other, GAMMA), thetas[0])
    own = tabular_log_probs(thetas[0], game, 0)[:, one]
    other = tabular_log_probs(thetas[1], game, 1)[:, one]
    g_loaded = torch.autograd.grad(
        loaded_dice_objective(advantages[:, one], own, other, GAMMA), thetas[0]
    )
    assert not torch.allclose(g_plain[0], g_loaded[0])


def test_centring_over_the_batch_keeps_the_expected_gradient():
    """Centring each step's reward is a per-step constant baseline (up to the batch's own mean)."""
    rewards = torch.tensor([[1.0, 3.0], [-2.0, 0.0]])
    torch.testing.assert_close(centre_over_batch(rewards), torch.tensor([[-1.0, 1.0], [-1, 1]]))


# ---- the differentiable inner step ----------------------------------------------------------
def test_the_outer_gradient_flows_through_the_inner_step_as_finite_differences_say():
    """LOLA through one naive step on the tabular two-round IPD, by exact enumeration.

    ``f(theta_1) = V_1(theta_1, theta_2 + a grad_2 V_2(theta_1, theta_2))``: the DiCE outer
    gradient through :func:`naive_step` equals central finite differences of ``f``, and differs
    from the naive gradient ``grad_1 V_1(theta_1, theta_2)``.
    """
    game = enumerated_ipd(2)
    lr_inner = 1.0
    generator = torch.Generator().manual_seed(3)
    theta_1 = torch.randn(5, generator=generator, dtype=torch.float64).requires_grad_()
    theta_2 = torch.randn(5, generator=generator, dtype=torch.float64).requires_grad_()

    def lookahead_gradient(t1: torch.Tensor) -> torch.Tensor:
        inner = exact_dice([t1, theta_2], game, 1)
        moved = naive_step(inner, {"theta": theta_2}, lr_inner)["theta"]
        outer = exact_dice([t1, moved], game, 0)
        (grad,) = torch.autograd.grad(outer, t1)
        return grad

    def f(t1: torch.Tensor) -> float:
        t1 = t1.detach()
        t2 = theta_2.detach().requires_grad_()
        (step,) = torch.autograd.grad(exact_value([t1, t2], game, 1), t2)
        return float(exact_value([t1, t2.detach() + lr_inner * step], game, 0))

    lola = lookahead_gradient(theta_1)
    eps = 1e-6
    finite = torch.tensor(
        [
            (f(theta_1 + eps * e) - f(theta_1 - eps * e)) / (2 * eps)
            for e in torch.eye(5, dtype=torch.float64)
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(lola, finite, rtol=1e-6, atol=1e-8)
    (naive,) = torch.autograd.grad(exact_dice([theta_1, theta_2], game, 0), theta_1)
    assert (lola - naive).norm() > 0.05 * naive.norm()


def test_naive_step_keeps_the_graph_and_leaves_unused_parameters():
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(1.0, requires_grad=True)
    z = torch.tensor(5.0, requires_grad=True)
    moved = naive_step(x * y**2, {"y": y, "z": z}, 0.5)
    assert moved["z"] is z
    # y' = y + 0.5 * 2xy, so dy'/dx = y = 1
    (grad,) = torch.autograd.grad(moved["y"], x)
    assert grad.item() == pytest.approx(1.0)


def learner_outer_gradient(config: LOLADiCEConfig) -> torch.Tensor:
    learner = LOLADiCELearner(config)
    trajectory = learner.collect()
    objective, _, own = learner.outer_objective(0, trajectory)
    names = learner.agents[0].network.policy_names()
    return torch.cat([g.flatten() for g in torch.autograd.grad(objective, [own[n] for n in names])])


def test_the_learners_lookahead_changes_its_gradient():
    config = LOLADiCEConfig(**TINY, seed=1)
    lola = learner_outer_gradient(config)
    naive = learner_outer_gradient(LOLADiCEConfig(**TINY, seed=1, lr_inner=0.0))
    assert torch.isfinite(lola).all() and not torch.allclose(lola, naive)


# ---- learning -------------------------------------------------------------------------------
def test_lookahead_raises_cooperation_after_mutual_cooperation_where_naive_lowers_it():
    """20 iterations of lola_dice_ipd from the same start, with and without the lookahead.

    Measured on seeds 0-4 (change of P(C | CC), mean of the two agents, LOLA-DiCE / naive):
    +0.114 / -0.205, +0.034 / -0.232, +0.274 / -0.182, +0.111 / -0.174, +0.070 / -0.223;
    every seed raises it with the lookahead and lowers it without (by at least 0.03 and 0.17),
    and the gap between the two is at least 0.26. The checks (``learning_cases``, case
    ``lola_dice_lookahead_ipd``; ``python benchmarks/learning_margins.py --case lola_dice``)
    ask for what holds on every seed, with room: the lookahead's change positive, the naive one
    below -0.1, the gap above 0.15 (0.11 below the smallest measured).
    """
    CASES_BY_NAME["lola_dice_lookahead_ipd"].assert_checks(seed=0)


# ---- seats, policies and the opponent model -------------------------------------------------
def test_opponent_model_learns_the_opponents_policy():
    """Against always-defect, the behaviour-cloned model's P(D) rises towards 1.

    In the states the opponent visits: the start, and (from its own view) DC and DD.
    """
    config = LOLADiCEConfig(**dict(TINY, iterations=10), opponent_model=True, lr_om=1.0)
    learner = LOLADiCELearner(config, opponent=scripted_policy("always_defect", "ipd_v0"))
    model = learner.models[0].network

    def defect_probability() -> float:
        logits = model.policy_logits(torch.eye(5)[[2, 3, 4]])
        return float(torch.softmax(logits, -1)[:, 1].mean().detach())

    before = defect_probability()
    for _ in range(10):
        metrics = learner.train_iteration()
    assert defect_probability() > max(0.9, before) and metrics["om_loss"] < 0.2


def test_two_learners_with_opponent_models_train_and_resume(tmp_path):
    config = LOLADiCEConfig(**TINY, opponent_model=True)
    whole = LOLADiCELearner(config)
    for _ in range(4):
        whole.train_iteration()
    half = LOLADiCELearner(config)
    for _ in range(2):
        half.train_iteration()
    resumed = restore_learner(save_checkpoint(half, tmp_path / "half.pt"))
    for _ in range(2):
        resumed.train_iteration()
    for a, b in zip(
        [*whole.agents, *whole.models], [*resumed.agents, *resumed.models], strict=True
    ):
        for x, y in zip(a.network.parameters(), b.network.parameters(), strict=True):
            assert torch.equal(x, y)


@pytest.mark.parametrize("baseline", ["none", "critic"])
def test_gru_policy_and_loaded_baseline_train(baseline):
    config = LOLADiCEConfig(
        **dict(TINY, iterations=2),
        policy_model="gru",
        hidden_sizes=(8,),
        gru_size=8,
        baseline=baseline,
        optimizer="adam",
        lr=0.01,
    )
    learner = LOLADiCELearner(config)
    before = [p.detach().clone() for p in learner.agents[0].network.parameters()]
    for _ in range(2):
        metrics = learner.train_iteration()
    assert all(np.isfinite(v) for v in metrics.values())
    after = list(learner.agents[0].network.parameters())
    assert not any(torch.equal(b, a) for b, a in zip(before, after, strict=True))


def test_self_play_looks_ahead_through_a_copy_of_itself():
    learner = LOLADiCELearner(LOLADiCEConfig(**TINY, self_play=True))
    assert len(learner.agents) == 1 and learner.agents[0].seats == (0, 1)
    metrics = learner.train_iteration()
    assert metrics["lookahead_shift"] > 0


def test_rejects_what_it_cannot_train():
    with pytest.raises(ValueError, match="opponent_model=True"):
        LOLADiCELearner(LOLADiCEConfig(**TINY), opponent=scripted_policy("always_defect", "ipd_v0"))
    with pytest.raises(ValueError, match="not self_play"):
        LOLADiCELearner(LOLADiCEConfig(**TINY, self_play=True, opponent_model=True))
    with pytest.raises(TypeError, match="Discrete"):
        LOLADiCELearner(
            LOLADiCEConfig(
                env_id="negotiation_v0", env_kwargs={"max_cycles": 4}, num_envs=2, iterations=1
            )
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inner_steps", 0),
        ("lr", -0.1),
        ("lr", 0.0),
        ("lr_inner", -0.1),
        ("lr_value", -1.0),
        ("lr_om", -1.0),
        ("value_updates", -1),
        ("om_updates", -1),
        ("gae_lambda", 1.5),
        ("init_scale", -1.0),
        ("baseline", "mean"),
        ("policy_model", "mlp"),
        ("optimizer", "rmsprop"),
        ("target_tau", 0.5),
    ],
)
def test_bad_configs_are_rejected_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        LOLADiCEConfig(**{field: value})


# ---- registry, checkpoints, the command line ------------------------------------------------
def test_registered_with_its_presets():
    assert ALGORITHMS["lola_dice"] == (LOLADiCEConfig, LOLADiCELearner)
    names = {name for name in PRESETS if preset_algorithm(name) == "lola_dice"}
    assert names == {
        "lola_dice_ipd",
        "lola_dice_ipd_om",
        "naive_dice_ipd",
        "lola_dice_ipd_pola_gru",
    }
    reference = preset_config("lola_dice_ipd")
    assert reference == LOLADiCEConfig(), "the defaults are the published IPD run"
    assert (reference.num_envs, reference.inner_steps, reference.iterations) == (64, 2, 200)
    assert (reference.lr_inner, reference.lr, reference.gamma) == (0.1, 0.2, 0.96)
    assert preset_config("naive_dice_ipd").lr_inner == 0.0


def test_resumed_run_equals_an_uninterrupted_one_and_plays_from_its_checkpoint(tmp_path):
    config = LOLADiCEConfig(**TINY, baseline="critic")
    whole = train(config, "lola_dice", tmp_path / "whole", progress=False)
    train(config, "lola_dice", tmp_path / "cut", progress=False)
    resumed = resume(tmp_path / "cut" / "checkpoints" / "iter_000002.pt", progress=False)
    assert resumed.iteration == 4

    def rows(run: str) -> dict:
        metrics = read_metrics(tmp_path / run / "metrics.csv")
        return {k: v for k, v in metrics.items() if k != "seconds"}

    assert rows("whole") == rows("cut")
    for a, b in zip(whole.agents, resumed.agents, strict=True):
        for x, y in zip(a.network.parameters(), b.network.parameters(), strict=True):
            assert torch.equal(x, y)
    policy = load_policy(tmp_path / "whole" / "checkpoints" / "final.pt")
    result = match(policy, scripted_policy("tit_for_tat", "ipd_v0"), "ipd_v0", episodes=4)
    assert np.isfinite(result.rewards[0])


def test_train_command_with_preset(tmp_path, capsys):
    from agents.cli import main

    run_dir = tmp_path / "run"
    code = main(
        [
            "train",
            "--algo",
            "lola_dice",
            "--preset",
            "lola_dice_ipd",
            "--num-envs",
            "8",
            "--iterations",
            "2",
            "--inner-steps",
            "1",
            "--run-dir",
            str(run_dir),
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["algorithm"] == "lola_dice"
    assert saved["config"]["num_envs"] == 8 and saved["config"]["inner_steps"] == 1
    assert (run_dir / "checkpoints" / "final.pt").exists()

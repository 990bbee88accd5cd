"""POLA-DiCE: the KL term, the proximal steps, the outer problem, configs, presets, resuming.

The proximal steps are checked against LOLA-DiCE's (a KL weight of 0 and one imagined step give
its naive step exactly) and against their limit (a large KL weight keeps the solution of the
proximal problem at the reference).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from learning_cases import CASES_BY_NAME

from agents.algorithms import ALGORITHMS, PRESETS, preset_algorithm, preset_config
from agents.algorithms.lola_dice.estimator import naive_step
from agents.algorithms.pola import POLAConfig, POLALearner
from agents.algorithms.pola.estimator import kl_divergence, proximal_step, value_loss
from agents.checkpoint import load_policy
from agents.evaluation import match
from agents.scripted import scripted_policy
from agents.training import read_metrics, resume, train

torch.set_num_threads(1)  # these batches are small: more threads only contend for the cores

TINY = {
    "env_kwargs": {"max_cycles": 5, "payoffs": "ipd_pola"},
    "num_envs": 8,
    "iterations": 4,
    "outer_steps": 2,
    "inner_steps": 2,
    "policy_model": "tabular",
    "checkpoint_every": 2,
}
TINY_GRU = {**TINY, "policy_model": "gru", "hidden_sizes": (8,), "gru_size": 8}


def policy_vector(params: dict[str, torch.Tensor], names: list[str]) -> torch.Tensor:
    return torch.cat([params[n].reshape(-1) for n in names])


# ---- the KL term ----------------------------------------------------------------------------
def test_kl_is_zero_at_the_reference_and_positive_elsewhere():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 4, 3, generator=generator)
    old = torch.log_softmax(logits, -1)
    assert kl_divergence(old, old.clone()).item() == pytest.approx(0.0, abs=1e-7)
    for scale in (0.01, 0.5, 3.0):
        new = torch.log_softmax(logits + scale * torch.randn(6, 4, 3, generator=generator), -1)
        assert kl_divergence(old, new).item() > 0


def test_kl_is_old_given_new_on_a_hand_case():
    """Old (0.5, 0.5), new (0.9, 0.1), one state.

    KL(old || new) = 0.5 ln(0.5 / 0.9) + 0.5 ln(0.5 / 0.1) = 0.5108; the other direction,
    KL(new || old) = 0.9 ln 1.8 + 0.1 ln 0.2 = 0.3681, is what a flipped argument would give.
    """
    old = torch.log(torch.tensor([[0.5, 0.5]]))
    new = torch.log(torch.tensor([[0.9, 0.1]]))
    forward = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    assert kl_divergence(old, new).item() == pytest.approx(forward, rel=1e-6)
    assert forward == pytest.approx(0.5108, abs=1e-4)
    assert kl_divergence(new, old).item() == pytest.approx(
        0.9 * math.log(1.8) + 0.1 * math.log(0.2), rel=1e-6
    )


def test_kl_gradient_reaches_the_new_policy_only():
    old_logits = torch.tensor([[0.3, -0.2]], requires_grad=True)
    new_logits = torch.tensor([[1.0, 0.0]], requires_grad=True)
    kl = kl_divergence(torch.log_softmax(old_logits, -1), torch.log_softmax(new_logits, -1))
    kl.backward()
    assert old_logits.grad is None and new_logits.grad is not None
    # d KL / d new logits = p_new - p_old
    p_old = torch.softmax(old_logits.detach(), -1)
    p_new = torch.softmax(new_logits.detach(), -1)
    torch.testing.assert_close(new_logits.grad, p_new - p_old)


def test_kl_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        kl_divergence(torch.zeros(3, 2), torch.zeros(3, 3))


# ---- the proximal step ----------------------------------------------------------------------
def test_proximal_step_with_zero_weight_is_the_naive_step():
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(1.0, requires_grad=True)
    kl = (y - 0.3) ** 2
    moved = proximal_step(x * y**2, kl, {"y": y}, 0.5, 0.0)
    naive = naive_step(x * y**2, {"y": y}, 0.5)
    # d(x y^2)/dy = 2 x y = 4, so y + 0.5 x 4 = 3
    assert moved["y"].item() == naive["y"].item() == pytest.approx(3.0)
    # with a weight the KL's gradient 2 (y - 0.3) = 1.4 is subtracted: 1 + 0.5 (4 - 2 x 1.4)
    weighted = proximal_step(x * y**2, kl, {"y": y}, 0.5, 2.0)
    assert weighted["y"].item() == pytest.approx(1.0 + 0.5 * (4.0 - 2.0 * 1.4))
    with pytest.raises(ValueError, match="beta"):
        proximal_step(x * y**2, kl, {"y": y}, 0.5, -1.0)


def test_value_loss_is_the_bootstrapped_return_regression_summed_over_time():
    """Two steps, one game: targets r0 + g r1 + g^2 V(s2) and r1 + g V(s2)."""
    gamma = 0.5
    values = torch.tensor([[1.0], [2.0]])
    next_values = torch.tensor([[2.0], [4.0]])
    rewards = torch.tensor([[1.0], [3.0]])
    dones = torch.tensor([[False], [True]])
    targets = [1.0 + 0.5 * 3.0 + 0.25 * 4.0, 3.0 + 0.5 * 4.0]
    expected = (targets[0] - 1.0) ** 2 + (targets[1] - 2.0) ** 2
    assert value_loss(values, next_values, rewards, dones, gamma).item() == pytest.approx(expected)


# ---- the learner's inner problem ------------------------------------------------------------
def frozen_params(learner: POLALearner) -> list[dict[str, torch.Tensor]]:
    return [
        {n: p.detach().clone() for n, p in agent.network.named_parameters()}
        for agent in learner.agents
    ]


@pytest.mark.parametrize("policy_model", ["tabular", "gru"])
def test_zero_weight_one_step_lookahead_is_the_lola_dice_inner_step(policy_model):
    """beta_inner 0 and one imagined step: the opponent's new policy is LOLA-DiCE's naive step.

    Both on the same fresh rollout (same seed); the values and their derivatives in the agent's
    parameters (the LOLA term) agree.
    """
    base = TINY if policy_model == "tabular" else TINY_GRU
    learner = POLALearner(POLAConfig(**{**base, "inner_steps": 1}, beta_inner=0.0, lr_inner=0.5))
    frozen = frozen_params(learner)
    own = dict(learner.agents[0].network.named_parameters())
    names = learner.agents[0].network.policy_names()
    moved, _ = learner.lookahead(0, 0, own, frozen[1], outer_step=0)
    # LOLA-DiCE's step on the rollout the lookahead played
    from agents.algorithms.pola.learner import _POLA_ROLLOUT
    from agents.seeding import derive_seed

    opponent = {n: v.clone().requires_grad_(True) for n, v in frozen[1].items()}
    seed = derive_seed(learner.config.seed, 0, _POLA_ROLLOUT, 0, 0, 0)
    trajectory = learner.imagined_rollout({0: own, 1: opponent}, seed)
    inner, _ = learner.seat_objective(trajectory, 1, {0: own, 1: opponent})
    lola = naive_step(inner, {n: opponent[n] for n in names}, 0.5)
    pola_vector, lola_vector = policy_vector(moved, names), policy_vector(lola, names)
    torch.testing.assert_close(pola_vector, lola_vector)
    assert not torch.allclose(pola_vector, policy_vector(frozen[1], names))
    own_policy = [own[n] for n in names]
    grads_pola = torch.autograd.grad(pola_vector.sum(), own_policy)
    grads_lola = torch.autograd.grad(lola_vector.sum(), own_policy)
    for a, b in zip(grads_pola, grads_lola, strict=True):
        torch.testing.assert_close(a, b)
    assert any(g.abs().sum() > 0 for g in grads_pola)


def converged_inner_shift(beta: float) -> float:
    """Distance of the opponent from its reference after solving its proximal problem.

    On one fixed rollout (tabular IPD), 400 steps of ``proximal_step`` at ``lr = 0.5 / beta``
    (an explicit step only converges for ``lr x beta x curvature < 2``).
    """
    learner = POLALearner(POLAConfig(**{**TINY, "num_envs": 32, "env_kwargs": {"max_cycles": 20}}))
    frozen = frozen_params(learner)
    own = {n: v.clone() for n, v in frozen[0].items()}
    names = learner.agents[1].network.policy_names()
    opponent = {n: v.clone().requires_grad_(True) for n, v in frozen[1].items()}
    trajectory = learner.imagined_rollout({0: own, 1: opponent}, seed=11)
    for _ in range(400):
        objective, kl, _, _ = learner.proximal_objective(
            trajectory, 1, {0: own, 1: opponent}, frozen[1]
        )
        moved = proximal_step(objective, kl, {n: opponent[n] for n in names}, 0.5 / beta, beta)
        opponent = {**opponent, **{n: v.detach().requires_grad_(True) for n, v in moved.items()}}
    shift = policy_vector(opponent, names).detach() - policy_vector(frozen[1], names)
    return float(shift.norm())


def test_a_large_inner_kl_weight_keeps_the_opponent_at_its_reference():
    """The proximal solution's distance from the reference falls like 1 / beta.

    The gradient of KL(old || new) in a logit is bounded (``p_new - p_old``), so a small weight
    cannot hold a bounded DiCE gradient: measured distances 758, 33 at beta 10, 100 (runaway
    logits), then 0.125, 0.0104, 0.00102 at beta 1e3, 1e4, 1e5.
    """
    moderate, large = converged_inner_shift(1e3), converged_inner_shift(1e4)
    assert 0 < large < moderate < 0.5
    assert large == pytest.approx(moderate / 10, rel=0.3)


def test_a_large_outer_kl_weight_keeps_the_agent_near_its_reference():
    def final_kl(beta_outer: float) -> float:
        config = POLAConfig(**{**TINY, "outer_steps": 10}, lr=0.05, beta_outer=beta_outer)
        return POLALearner(config).train_iteration()["kl_outer_final"]

    free, held = final_kl(0.0), final_kl(1e4)
    assert free > 1e-3
    assert held < 0.1 * free


def test_the_outer_gradient_flows_through_the_opponents_imagined_steps():
    def first_update(lr_inner: float) -> torch.Tensor:
        learner = POLALearner(POLAConfig(**TINY, lr_inner=lr_inner, seed=3))
        learner.train_iteration()
        names = learner.agents[0].network.policy_names()
        return policy_vector(dict(learner.agents[0].network.named_parameters()), names).detach()

    looked_ahead, naive = first_update(1.0), first_update(0.0)
    assert torch.isfinite(looked_ahead).all() and not torch.allclose(looked_ahead, naive)


def test_updates_are_simultaneous_and_start_from_fresh_optimizers():
    """Agent 1's update reads agent 0's parameters as they were when the update began."""
    learner = POLALearner(POLAConfig(**TINY))
    frozen = frozen_params(learner)
    seen = []
    original = learner.lookahead

    def spy(index, seat, own, opponent_start, outer_step):
        seen.append((index, {n: v.clone() for n, v in opponent_start.items()}))
        return original(index, seat, own, opponent_start, outer_step)

    learner.lookahead = spy  # type: ignore[method-assign]
    learner.train_iteration()
    for index, start in seen:
        for name, value in start.items():
            assert torch.equal(value, frozen[1 - index][name])
    # the Adam state holds this update's outer steps only
    state = next(iter(learner.agents[0].optimizer.state.values()))
    assert int(state["step"]) == learner.config.outer_steps


# ---- learning -------------------------------------------------------------------------------
def test_lookahead_raises_cooperation_after_mutual_cooperation_where_naive_lowers_it():
    """5 updates of tabular POLA-DiCE from the same start, with and without the lookahead.

    Measured on seeds 0-2 (change of P(C | CC), mean of the two agents, POLA / lr_inner 0):
    +0.047 / -0.114, +0.060 / -0.103, +0.044 / -0.115; every seed raises it with the lookahead
    and lowers it without, and the gap is at least 0.147. The checks (``learning_cases``, case
    ``pola_lookahead_ipd``; ``python benchmarks/learning_margins.py --case pola``) ask for the
    lookahead's change positive (0.044 below the smallest), the naive one below -0.05 (0.053
    above the largest), the gap above 0.1 (0.047 below the smallest).
    """
    CASES_BY_NAME["pola_lookahead_ipd"].assert_checks(seed=0)


# ---- configs and registration ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("outer_steps", 0),
        ("inner_steps", 0),
        ("beta_inner", -1.0),
        ("beta_outer", -0.5),
        ("value_updates", 1),
        ("opponent_model", True),
        ("self_play", True),
        ("lr", 0.0),
        ("lr_inner", -0.1),
    ],
)
def test_bad_configs_are_rejected_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        POLAConfig(**{field: value})


def test_rejects_a_fixed_opponent():
    with pytest.raises(ValueError, match="fixed opponent"):
        POLALearner(POLAConfig(**TINY), opponent=scripted_policy("always_defect", "ipd_v0"))


def test_registered_with_the_readme_presets():
    assert ALGORITHMS["pola"] == (POLAConfig, POLALearner)
    names = {name for name in PRESETS if preset_algorithm(name) == "pola"}
    assert names == {"pola_ipd", "pola_ipd_cpu", "pola_coin", "pola_coin_cpu"}
    ipd = preset_config("pola_ipd")
    assert ipd == POLAConfig(), "the defaults are the README's IPD command"
    assert (ipd.iterations, ipd.inner_steps, ipd.outer_steps) == (101, 2, 200)
    assert (ipd.lr_inner, ipd.lr, ipd.lr_value) == (0.005, 0.003, 0.0005)
    assert (ipd.num_envs, ipd.env_kwargs, ipd.seed) == (
        2000,
        {"max_cycles": 50, "payoffs": "ipd_pola"},
        1,
    )
    assert (ipd.beta_inner, ipd.beta_outer, ipd.gae_lambda, ipd.gamma) == (10, 100, 1.0, 0.96)
    assert (ipd.policy_model, ipd.hidden_sizes, ipd.gru_size) == ("gru", (64,), 64)
    assert (ipd.optimizer, ipd.baseline, ipd.checkpoint_every) == ("adam", "critic", 10)
    coin = preset_config("pola_coin")
    assert (coin.env_id, coin.env_kwargs) == ("coin_game_v0", {"grid_size": 3, "max_cycles": 50})
    assert (coin.iterations, coin.inner_steps, coin.outer_steps, coin.num_envs) == (
        251,
        4,
        200,
        1000,
    )
    assert (coin.lr_inner, coin.lr, coin.lr_value, coin.seed) == (0.01, 0.003, 0.0005, 7)
    assert (coin.beta_inner, coin.beta_outer, coin.checkpoint_every) == (5, 150, 25)
    cpu = preset_config("pola_ipd_cpu").to_dict()
    changed = {k for k, v in ipd.to_dict().items() if cpu[k] != v}
    assert changed == {"num_envs", "outer_steps", "iterations", "checkpoint_every"}
    coin_cpu = preset_config("pola_coin_cpu").to_dict()
    changed = {k for k, v in coin.to_dict().items() if coin_cpu[k] != v}
    assert changed == {"num_envs", "outer_steps", "iterations", "checkpoint_every"}


# ---- checkpoints and the command line -------------------------------------------------------
@pytest.mark.parametrize("base", [TINY, TINY_GRU], ids=["tabular", "gru"])
def test_resumed_run_equals_an_uninterrupted_one_and_plays_from_its_checkpoint(tmp_path, base):
    config = POLAConfig(**base)
    whole = train(config, "pola", tmp_path / "whole", progress=False)
    train(config, "pola", tmp_path / "cut", progress=False)
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


def test_train_command_with_the_cpu_preset(tmp_path, capsys):
    from agents.cli import main

    run_dir = tmp_path / "run"
    overrides = ["--num-envs", "4", "--iterations", "1", "--outer-steps", "1"]
    overrides += ["--env-arg", "max_cycles=4"]
    code = main(
        ["train", "--algo", "pola", "--preset", "pola_ipd_cpu", *overrides]
        + ["--run-dir", str(run_dir), "--no-progress"]
    )
    assert code == 0, capsys.readouterr().err
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["algorithm"] == "pola"
    assert saved["config"]["outer_steps"] == 1 and saved["config"]["beta_outer"] == 100.0
    assert saved["config"]["env_kwargs"]["max_cycles"] == 4
    assert (run_dir / "checkpoints" / "final.pt").exists()

"""The LOQA learner: opponent model wiring, self-play routing, learning, checkpoints, CLI."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from learning_cases import (
    CASES_BY_NAME,
    loqa_reciprocity_gradient,
    loqa_short_run,
    loqa_warm_ipd,
)

from agents.algorithms import ALGORITHMS, PRESETS, preset_algorithm, preset_config
from agents.algorithms.core.returns import td0_advantages
from agents.algorithms.loqa import LOQAConfig, LOQALearner
from agents.checkpoint import load_policy, restore_learner, save_checkpoint
from agents.evaluation import match
from agents.policy import RoutingPolicy
from agents.scripted import scripted_policy

torch.set_num_threads(1)

CC, CD, DC, DD = 0, 1, 2, 3  # IPD observation indices, own action first


def ipd_config(**overrides) -> LOQAConfig:
    """A small IPD self-play config whose Q-critic fits within a few dozen iterations."""
    values = dict(num_envs=256, iterations=10, seed=0, checkpoint_every=0)
    return preset_config("loqa_ipd_cpu", **{**values, **overrides})


def coin_config(**overrides) -> LOQAConfig:
    values = dict(
        num_envs=16,
        iterations=3,
        seed=0,
        hidden_sizes=(16,),
        gru_size=16,
        critic_hidden_sizes=(16,),
        critic_gru_size=16,
        buffer_push_every=1,
        snapshots_per_batch=3,
        checkpoint_every=0,
    )
    return preset_config("loqa_coin_cpu", **{**values, **overrides})


def p_cooperate(learner: LOQALearner) -> np.ndarray:
    """P(cooperate | CC, CD, DC, DD, start) of the tabular IPD actor."""
    weight = learner.agents[0].network.actor_logits.weight.detach()
    return torch.softmax(weight.T, dim=-1)[:, 0].numpy()


@pytest.fixture(scope="module")
def warm_ipd() -> LOQALearner:
    """IPD learner whose Q-critic has been fitted to the uniform policy (actor frozen)."""
    learner = loqa_warm_ipd(seed=0)
    assert np.allclose(p_cooperate(learner), 0.5)
    return learner


def actor_gradient(learner: LOQALearner, trajectory, **config) -> torch.Tensor:
    """Gradient of the actor loss w.r.t. the tabular logits, ``(actions, states)``."""
    learner = copy.deepcopy(learner)
    for name, value in config.items():
        setattr(learner.config, name, value)
    learner._routing = learner.plan_routing()
    network = learner.agents[0].network
    cols = learner.columns(learner.segments(), trajectory)
    losses, _ = learner.actor_loss(network, cols)
    network.zero_grad()
    losses.loss.backward()
    return network.actor_logits.weight.grad.clone()


# ---- the opponent model -----------------------------------------------------------------------
def fresh_batch(warm: LOQALearner):
    """A copy of ``warm``, its actor network and the loss columns of one new batch."""
    learner = copy.deepcopy(warm)
    learner._routing = learner.plan_routing()
    trajectory = learner.collect()
    network = learner.agents[0].network
    return learner, network, learner.columns(learner.segments(), trajectory)


def test_opponent_term_reads_the_opponents_q_network(warm_ipd):
    learner, network, cols = fresh_batch(warm_ipd)
    base, _ = learner.actor_loss(network, cols)
    grad = torch.autograd.grad(base.opponent, network.actor_logits.weight)[0]
    # another opponent Q-network (its Q-values shifted per action) changes the opponent term
    other = copy.deepcopy(network)
    with torch.no_grad():
        other.q_head.bias += torch.tensor([3.0, -3.0])
    cols.opponents = [other for _ in cols.opponents]
    changed, _ = learner.actor_loss(network, cols)
    changed_grad = torch.autograd.grad(changed.opponent, network.actor_logits.weight)[0]
    assert not torch.allclose(grad, changed_grad, atol=1e-4)
    # ...while the agent's own term does not depend on the opponent's network
    assert torch.allclose(base.agent, changed.agent)


def test_without_opponent_term_the_step_is_plain_actor_critic(warm_ipd):
    learner = copy.deepcopy(warm_ipd)
    learner._routing = learner.plan_routing()
    trajectory = learner.collect()
    grad = actor_gradient(learner, trajectory, opponent_weight=0.0, ent_coef=0.0)
    # by hand: -mean(log pi(a_t | s_t) A_t) over both seats, A = TD(0) on V = sum_a pi Q
    network = learner.agents[0].network
    obs = torch.cat([trajectory.observations[:, :, 0], trajectory.observations[:, :, 1]], 1)
    last = torch.cat([trajectory.next_observations[:, 0], trajectory.next_observations[:, 1]])
    actions = torch.cat([trajectory.actions[:, :, 0], trajectory.actions[:, :, 1]], 1)
    rewards = torch.cat([trajectory.rewards[:, :, 0], trajectory.rewards[:, :, 1]], 1)
    ext = torch.cat([obs, last.unsqueeze(0)])
    times = torch.arange(51, dtype=torch.float32)[:, None, None].expand(51, ext.shape[1], 1)
    logits = ext @ network.actor_logits.weight.T
    with torch.no_grad():
        q = network.q_head(network.critic_encoder.body(torch.cat([ext, times], -1)))
        values = (torch.softmax(logits, -1) * q).sum(-1)
    dones = torch.zeros(50, ext.shape[1], dtype=torch.bool)
    dones[-1] = True
    advantages = td0_advantages(rewards, values, 0.96, dones, bootstrap_at_done=False)
    log_pi = torch.log_softmax(logits[:-1], -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    loss = -(log_pi * advantages).mean()
    expected = torch.autograd.grad(loss, network.actor_logits.weight)[0]
    assert torch.allclose(grad, expected, atol=1e-5)


def test_opponent_term_rewards_reciprocity_in_the_ipd(warm_ipd):
    """With a fitted critic and the uniform policy, the opponent term pushes cooperation after
    the opponent cooperated (CC, DC) more than after it defected (CD, DD); the naive term is
    about the same in every state (defection dominates against a random player).

    Margins over seeds 0-4 (benchmarks/learning_margins.py): the push differences are
    0.17-0.30 (at least 0.16 above 0.005); the naive push is at most -0.116 in every state.
    """
    measured = loqa_reciprocity_gradient(0, warm=warm_ipd)
    for check in CASES_BY_NAME["loqa_reciprocity_gradient"].checks:
        assert check.holds(measured), (str(check), measured)


def test_short_learning_run_needs_the_opponent_term(warm_ipd):
    """From the fitted critic and the uniform policy, 60 iterations of the ipd_cpu preset: LOQA
    (w = 1) raises P(C | CC) and P(C | DC) above 0.55 and keeps P(C | CD), P(C | DD) below 1/2;
    without the opponent term the same learner lowers cooperation everywhere.

    Margins over seeds 0-4 (benchmarks/learning_margins.py): P(C | CC) 0.586-0.595 and
    P(C | DC) 0.584-0.588 (at least 0.034 above 0.55, eight times the spread over seeds);
    P(C | CD) and P(C | DD) 0.414-0.419; the naive learner at most 0.415.
    """
    measured = loqa_short_run(0, warm=warm_ipd)
    for check in CASES_BY_NAME["loqa_short_run"].checks:
        assert check.holds(measured), (str(check), measured)


def test_stop_grad_normalizer_is_the_aa_nb_estimator(warm_ipd):
    # AA as the AA paper ran it in the Coin Game: the opponent model's log-softmax normaliser
    # carries no gradient. Same loss value, a different opponent-term gradient, and the agent's
    # own term untouched.
    learner, network, cols = fresh_batch(warm_ipd)
    loqa, _ = learner.actor_loss(network, cols)
    learner.config.stop_grad_normalizer = True
    aa_nb, _ = learner.actor_loss(network, cols)
    assert torch.allclose(loqa.loss, aa_nb.loss) and torch.allclose(loqa.agent, aa_nb.agent)
    weight = network.actor_logits.weight
    loqa_grad = torch.autograd.grad(loqa.opponent, weight)[0]
    aa_nb_grad = torch.autograd.grad(aa_nb.opponent, weight)[0]
    assert not torch.allclose(loqa_grad, aa_nb_grad, atol=1e-4)


# ---- self-play routing and the agent buffer ---------------------------------------------------
def test_routing_policy_sends_each_game_to_its_policy():
    groups = np.array([0, 1, 1, 0, 2, 1])
    names = ("always_cooperate", "always_defect", "always_cooperate")
    policy = RoutingPolicy([scripted_policy(n, "ipd_v0") for n in names], groups)
    policy.reset(6, seed=0)
    obs = np.zeros((6, 5), dtype=np.float32)
    obs[:, 4] = 1
    actions, _ = policy.act_with_log_probs(obs, np.ones(6, dtype=bool))
    assert actions.tolist() == [0, 1, 1, 0, 0, 1]
    with pytest.raises(ValueError, match="index"):
        RoutingPolicy([policy], np.array([0, 1]))


def test_games_against_snapshots_and_what_trains():
    learner = LOQALearner(coin_config(num_envs=16, cur_agent_frac=0.25))
    learner.train_iteration()
    learner.train_iteration()
    groups, networks = learner._routing.groups, learner._routing.networks
    assert (groups == 0).sum() == 4  # 25% of the games against the current agent
    assert len(networks) == 4 and networks[0] is learner.agents[0].network
    assert all(net is not learner.agents[0].network for net in networks[1:])
    segments = learner.segments()
    seat_1 = [s for s in segments if s.seat == 1]
    # seat 1 trains only where the current agent played it; snapshot games train seat 0 only
    assert len(seat_1) == 1 and sorted(seat_1[0].games.tolist()) == [0, 1, 2, 3]
    assert seat_1[0].opponent is learner.agents[0].network
    seat_0 = sorted(torch.cat([s.games for s in segments if s.seat == 0]).tolist())
    assert seat_0 == list(range(16))
    for segment in segments:
        if segment.seat == 0:
            assert all(groups[g] == groups[segment.games[0]] for g in segment.games.tolist())
            assert segment.opponent is networks[groups[segment.games[0]]]
    assert len(learner.buffer) == 2  # pushed every iteration here


def test_reference_self_play_plays_only_snapshots():
    learner = LOQALearner(coin_config(cur_agent_frac=0.0, buffer_push_every=10))
    trajectory = learner.collect()
    groups, networks = learner._routing.groups, learner._routing.networks
    assert (groups > 0).all() and len(learner.buffer) == 1
    # the snapshot is the initial agent: same actions distribution, but a separate network
    assert networks[1] is not learner.agents[0].network
    assert all(s.seat == 0 for s in learner.segments())
    assert trajectory.rewards.shape == (50, 16, 2)


def test_snapshot_data_does_not_reach_the_own_log_prob_term():
    # Change seat 1's actions in snapshot games: the agent's own term must not change.
    learner = LOQALearner(coin_config(cur_agent_frac=0.5))
    trajectory = learner.collect()
    network = learner.agents[0].network
    groups = learner._routing.groups
    snapshot_games = torch.from_numpy(np.flatnonzero(groups > 0))
    current_games = torch.from_numpy(np.flatnonzero(groups == 0))
    base, _ = learner.actor_loss(network, learner.columns(learner.segments(), trajectory))
    for games, should_change in ((snapshot_games, False), (current_games, True)):
        altered = copy.deepcopy(trajectory)
        altered.actions[:, games, 1] = (altered.actions[:, games, 1] + 1) % 4
        losses, _ = learner.actor_loss(network, learner.columns(learner.segments(), altered))
        assert torch.isclose(losses.agent, base.agent).item() is not should_change


# ---- smoke, checkpoints, CLI ------------------------------------------------------------------
def test_registered_and_presets():
    assert ALGORITHMS["loqa"] == (LOQAConfig, LOQALearner)
    loqa_presets = {
        "loqa_coin_iclr",
        "loqa_ipd_logits",
        "loqa_coin_cpu",
        "loqa_ipd_cpu",
        "aa_nb_coin",
        "aa_nb_coin_cpu",
        "loqa_naive_coin_cpu",
    }
    assert {name for name in PRESETS if preset_algorithm(name) == "loqa"} == loqa_presets
    coin = preset_config("loqa_coin_iclr")
    assert (coin.num_envs, coin.lr, coin.critic_lr, coin.ent_coef) == (512, 1e-3, 1e-2, 0.1)
    assert (coin.gru_size, coin.hidden_sizes, coin.critic_gru_size) == (128, (128, 128), 64)
    assert (coin.target_tau, coin.lambda_d, coin.max_grad_norm) == (0.01, 0.9, 1.0)
    assert (coin.buffer_capacity, coin.buffer_push_every, coin.cur_agent_frac) == (10000, 10, 0)
    ipd = preset_config("loqa_ipd_logits")
    assert (ipd.num_envs, ipd.epsilon_greedy, ipd.ent_coef, ipd.actor_model) == (
        2048,
        0.2,
        0.0,
        "logits",
    )
    aa_nb = preset_config("aa_nb_coin")
    assert aa_nb.stop_grad_normalizer and not coin.stop_grad_normalizer
    assert (aa_nb.hidden_sizes, aa_nb.gru_size, aa_nb.max_grad_norm) == ((64,), 64, 10.0)
    assert preset_config("aa_nb_coin_cpu").num_envs == 128
    naive = preset_config("loqa_naive_coin_cpu")
    assert naive.opponent_weight == 0.0 and naive.num_envs == 128
    with pytest.raises(KeyError, match="unknown preset"):
        preset_config("nope")


def test_rejects_games_and_opponents_it_cannot_handle():
    with pytest.raises(TypeError, match="Discrete"):
        LOQALearner(LOQAConfig(env_id="negotiation_v0", num_envs=4))
    with pytest.raises(ValueError, match="Q-network"):
        LOQALearner(ipd_config(), opponent=scripted_policy("always_defect", "ipd_v0"))


def test_epsilon_greedy_explores():
    learner = LOQALearner(ipd_config(epsilon_greedy=1.0))
    trajectory = learner.collect()
    # the zero-initialised table would cooperate half the time; uniform noise does too, but
    # a deterministic policy wrapped at epsilon 1 must still produce both actions
    assert 0.4 < (trajectory.actions == 0).float().mean() < 0.6
    learner.agents[0].policy.deterministic = True
    assert 0.4 < (learner.collect().actions == 0).float().mean() < 0.6
    learner.config.epsilon_greedy = 0.0
    assert (learner.collect().actions == 0).all()  # argmax of equal logits is action 0


def test_independent_learners_model_each_other():
    learner = LOQALearner(ipd_config(self_play=False, num_envs=32))
    metrics = learner.train_iteration()
    assert np.isfinite(metrics["opponent_loss"])
    first, second = learner.segments()
    assert first.opponent is learner.agents[1].network
    assert second.opponent is learner.agents[0].network


def test_checkpoint_resume_is_exact_and_loads_as_policy(tmp_path):
    config = coin_config(iterations=4)
    straight = LOQALearner(config)
    for _ in range(4):
        straight.train_iteration()
    first = LOQALearner(config)
    for _ in range(2):
        first.train_iteration()
    path = save_checkpoint(first, tmp_path / "half.pt")
    resumed = restore_learner(path)
    assert len(resumed.buffer) == 2
    for _ in range(2):
        resumed.train_iteration()
    for a, b in zip(
        straight.agents[0].network.parameters(),
        resumed.agents[0].network.parameters(),
        strict=True,
    ):
        assert torch.equal(a, b)
    policy = load_policy(save_checkpoint(resumed, tmp_path / "end.pt"))
    result = match(
        policy, scripted_policy("always_defect", "coin_game_v0"), "coin_game_v0", episodes=4
    )
    assert np.isfinite(result.rewards[0])


def test_train_command_with_preset(tmp_path, capsys):
    from agents.cli import main

    run_dir = tmp_path / "run"
    code = main(
        [
            "train",
            "--algo",
            "loqa",
            "--preset",
            "loqa_ipd_cpu",
            "--num-envs",
            "8",
            "--iterations",
            "2",
            "--run-dir",
            str(run_dir),
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["algorithm"] == "loqa"
    assert saved["config"]["num_envs"] == 8 and saved["config"]["epsilon_greedy"] == 0.2
    assert (run_dir / "checkpoints" / "final.pt").exists()
    code = main(
        [
            "train",
            "--algo",
            "ppo",
            "--preset",
            "loqa_ipd_cpu",
            "--run-dir",
            str(tmp_path / "x"),
            "--no-progress",
        ]
    )
    assert code == 2 and "preset" in capsys.readouterr().err


def test_bundled_loqa_baselines_load_and_play():
    from pathlib import Path

    from agents.checkpoint import read_checkpoint
    from agents.loading import load_agent

    bundled = sorted((Path(__file__).parents[2] / "agents" / "baselines").glob("loqa_*.pt"))
    assert bundled, "no bundled LOQA checkpoint in agents/baselines"
    for path in bundled:
        assert path.stat().st_size < 300_000
        config = read_checkpoint(path)["config"]
        policy = load_agent(str(path), config["env_id"], **config["env_kwargs"])
        opponent = scripted_policy("always_defect", config["env_id"], **config["env_kwargs"])
        result = match(policy, opponent, config["env_id"], episodes=8, **config["env_kwargs"])
        assert np.isfinite(result.rewards).all()


def test_configs_from_before_the_restructure_still_load():
    # LOQA configs used to carry the on-policy fields (unused); saved values of them are ignored
    old = {**preset_config("loqa_ipd_cpu").to_dict(), "gae_lambda": 0.95, "share_encoder": True}
    assert LOQAConfig.from_dict(old) == preset_config("loqa_ipd_cpu")
    with pytest.raises(ValueError, match=r"no field\(s\) \['nonsense'\]"):
        LOQAConfig.from_dict({**old, "nonsense": 1})

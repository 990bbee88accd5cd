"""Advantage Alignment and Proximal AA learners: the aligned advantage reaches the update, the
agent replay buffer, presets, checkpoints, the command line, and a short IPD learning check.

(Every registered algorithm, aa and paa included, also runs on every game and action type in
``test_learners.py``.)
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from learning_cases import CASES_BY_NAME

from agents.algorithms import ALGORITHMS, PRESETS, preset_algorithm, preset_config
from agents.algorithms.actor_critic import ActorCriticConfig, ActorCriticLearner
from agents.algorithms.advantage_alignment import (
    AdvantageAlignmentConfig,
    AdvantageAlignmentLearner,
    ProximalAdvantageAlignmentConfig,
    ProximalAdvantageAlignmentLearner,
)
from agents.algorithms.advantage_alignment.learner import seat_estimates
from agents.algorithms.core.on_policy import Estimates, stack_seats
from agents.algorithms.core.returns import critic_targets, normalize_advantages
from agents.algorithms.ppo import PPOConfig, PPOLearner
from agents.checkpoint import restore_learner, save_checkpoint
from agents.cli import main
from agents.policy import RoutingPolicy
from agents.scripted import scripted_policy
from agents.training import read_metrics, resume, train

torch.set_num_threads(1)

SMALL = {
    "env_id": "ipd_v0",
    "env_kwargs": {"max_cycles": 5},
    "num_envs": 8,
    "hidden_sizes": (8,),
    "gru_size": 8,
    "iterations": 3,
}
#: fields that make AA's critic and estimates those of the naive learners
NAIVE_LIKE = {"critic_target": "gae", "critic_loss": "mse", "target_tau": 0.5}


def parameters(learner):
    return [p.detach().clone() for a in learner.agents for p in a.network.parameters()]


def hand_estimates(a0, a1):
    """Estimates of one game (B = 1) whose seats' advantages are ``a0`` and ``a1``."""
    advantages = torch.tensor([a0, a1], dtype=torch.float32).T[:, None, :]  # (T, 1, 2)
    zeros = torch.zeros_like(advantages)
    return Estimates(zeros, zeros, advantages, zeros, zeros)


class FakeTrajectory:
    def __init__(self, steps):
        self.episode_starts = torch.zeros(steps, 1, dtype=torch.bool)
        self.episode_starts[0] = True


# ---- the aligned advantage ----------------------------------------------------------------------
def test_shape_advantages_is_the_paper_formula_on_a_hand_computed_case():
    # A*_t = A1_t + beta * gamma * (sum_{k<t} gamma^(t-k) A1_k) * A2_t, beta 0.5, gamma 0.9
    learner = AdvantageAlignmentLearner(AdvantageAlignmentConfig(**SMALL, aa_beta=0.5, gamma=0.9))
    shaped = learner.shape_advantages(hand_estimates([1, 2, 3], [0.5, -1, 2]), FakeTrajectory(3))
    # seat 0: t1 = 2 + .45 * (.9 * 1) * -1; t2 = 3 + .45 * (.81 * 1 + .9 * 2) * 2
    torch.testing.assert_close(shaped[:, 0, 0], torch.tensor([1.0, 1.595, 5.349]))
    # seat 1 is aligned with seat 0: t1 = -1 + .45 * (.9 * .5) * 2;
    # t2 = 2 + .45 * (.81 * .5 + .9 * -1) * 3
    torch.testing.assert_close(shaped[:, 0, 1], torch.tensor([0.5, -0.595, 1.33175]))


def test_running_mean_variant_on_a_hand_computed_case():
    # A*_t = A1_t + beta * (mean_{k<t} A1_k) * A2_t (the reference code), beta 0.5
    config = AdvantageAlignmentConfig(**SMALL, aa_beta=0.5, aa_running_mean=True)
    shaped = AdvantageAlignmentLearner(config).shape_advantages(
        hand_estimates([1, 2, 3], [0.5, -1, 2]), FakeTrajectory(3)
    )
    torch.testing.assert_close(shaped[:, 0, 0], torch.tensor([1.0, 1.5, 4.5]))


def test_beta_schedule_moves_linearly_from_aa_beta_to_aa_beta_end():
    config = AdvantageAlignmentConfig(**{**SMALL, "iterations": 5}, aa_beta=1.0, aa_beta_end=0.2)
    learner = AdvantageAlignmentLearner(config)
    seen = []
    for _ in range(5):
        seen.append(learner.current_beta())
        metrics = learner.train_iteration()
        assert metrics["aa_beta"] == pytest.approx(seen[-1])
    assert seen == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2])
    # a constant beta logs no schedule
    assert (
        "aa_beta"
        not in AdvantageAlignmentLearner(
            AdvantageAlignmentConfig(**SMALL, aa_beta=1.0)
        ).train_iteration()
    )


def test_beta_schedule_reaches_the_shaping_term():
    estimates, trajectory = hand_estimates([1, 2, 3], [0.5, -1, 2]), FakeTrajectory(3)
    scheduled = AdvantageAlignmentLearner(
        AdvantageAlignmentConfig(**SMALL, aa_beta=0.5, aa_beta_end=0.0, gamma=0.9)
    )
    constant = AdvantageAlignmentLearner(AdvantageAlignmentConfig(**SMALL, aa_beta=0.5, gamma=0.9))
    # at the first iteration it is the constant-beta estimator, at the last the naive one
    torch.testing.assert_close(
        scheduled.shape_advantages(estimates, trajectory),
        constant.shape_advantages(estimates, trajectory),
    )
    scheduled.iteration = SMALL["iterations"] - 1
    torch.testing.assert_close(
        scheduled.shape_advantages(estimates, trajectory), estimates.advantages
    )


@pytest.mark.parametrize("field", ["aa_beta", "aa_beta_end"])
@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_bad_beta_is_rejected_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        AdvantageAlignmentConfig(**SMALL, **{field: value})


@pytest.mark.parametrize(
    ("aa_class", "aa_config", "naive_class", "naive_config", "extra"),
    [
        (
            AdvantageAlignmentLearner,
            AdvantageAlignmentConfig,
            ActorCriticLearner,
            ActorCriticConfig,
            {},
        ),
        (
            ProximalAdvantageAlignmentLearner,
            ProximalAdvantageAlignmentConfig,
            PPOLearner,
            PPOConfig,
            {"update_epochs": 2, "num_minibatches": 2},
        ),
    ],
    ids=["aa-vs-actor_critic", "paa-vs-ppo"],
)
@pytest.mark.parametrize("self_play", [False, True])
def test_beta_zero_is_exactly_the_naive_learner(
    aa_class, aa_config, naive_class, naive_config, extra, self_play
):
    shared = {**SMALL, **extra, "self_play": self_play, "critic_loss": "mse", "target_tau": 0.5}
    aa = aa_class(aa_config(**shared, aa_beta=0.0, critic_target="gae"))
    naive = naive_class(naive_config(**shared))
    for _ in range(3):
        aa.train_iteration()
        naive.train_iteration()
    for a, b in zip(parameters(aa), parameters(naive), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # and a nonzero beta changes the update
    shaped = aa_class(aa_config(**shared, aa_beta=1.0, critic_target="gae"))
    for _ in range(3):
        shaped.train_iteration()
    assert any(
        not torch.equal(a, b) for a, b in zip(parameters(shaped), parameters(naive), strict=True)
    )


@pytest.mark.parametrize("proximal", [False, True])
def test_the_update_follows_the_normalised_aligned_advantage(proximal):
    config = AdvantageAlignmentConfig(**SMALL, self_play=True, aa_beta=2.0, proximal=proximal)
    learner = AdvantageAlignmentLearner(config)
    seen = []
    original = learner.update_agent
    learner.update_agent = lambda agent, batch, gen: (
        seen.append(batch) or original(agent, batch, gen)
    )
    trajectory = learner.collect()
    estimates = learner.estimate(trajectory)
    expected = learner.shape_advantages(estimates, trajectory)
    learner.update(trajectory)
    torch.testing.assert_close(
        seen[0].advantages, normalize_advantages(stack_seats(expected, (0, 1)))
    )
    # A* differs from the plain advantages (the shaping term is there)
    assert not torch.allclose(expected, estimates.advantages)


def test_interpolate_critic_target_is_the_mean_of_td0_and_monte_carlo():
    rewards = torch.tensor([[1.0], [2.0], [3.0]])
    values = torch.tensor([[10.0], [20.0], [30.0]])
    dones = torch.tensor([[False], [False], [True]])
    gamma = 0.5
    td0 = torch.tensor([[1 + 0.5 * 20], [2 + 0.5 * 30], [3.0]])
    mc = torch.tensor([[1 + 0.5 * 2 + 0.25 * 3], [2 + 0.5 * 3], [3.0]])
    target = critic_targets("interpolate", rewards, values, values * 0, dones, gamma)
    torch.testing.assert_close(target, (td0 + mc) / 2)
    torch.testing.assert_close(critic_targets("td0", rewards, values, values, dones, gamma), td0)
    torch.testing.assert_close(critic_targets("mc", rewards, values, values, dones, gamma), mc)


# ---- agent replay buffer ------------------------------------------------------------------------
def test_routed_policy_sends_each_game_to_its_policy():
    cooperate = scripted_policy("always_cooperate", "ipd_v0")
    defect = scripted_policy("always_defect", "ipd_v0")
    routed = RoutingPolicy.from_routes([(cooperate, np.array([0, 2])), (defect, np.array([1, 3]))])
    routed.reset(4, seed=0)
    actions, log_probs = routed.act_with_log_probs(
        np.eye(5, dtype=np.float32)[[4] * 4], np.ones(4, dtype=bool)
    )
    assert actions.tolist() == [0, 1, 0, 1]
    assert np.isnan(log_probs).all()
    with pytest.raises(ValueError, match="partition"):
        RoutingPolicy.from_routes([(cooperate, np.array([0, 2]))])


def test_replay_games_are_played_by_past_selves_and_not_trained_on():
    config = AdvantageAlignmentConfig(
        **{**SMALL, "num_envs": 8},
        self_play=True,
        replay_fraction=0.25,
        replay_push_every=1,
        replay_snapshots=2,
        lr=0.5,
    )
    learner = AdvantageAlignmentLearner(config)
    learner.train_iteration()  # pushes the initial network, then trains
    assert learner.replay_games().tolist() == [6, 7]  # a quarter of the games
    seen = []
    original = learner.update_agent
    learner.update_agent = lambda agent, batch, gen: (
        seen.append(batch) or original(agent, batch, gen)
    )
    trajectory = learner.collect()
    snapshots = list(learner._routing.snapshots())
    games = sorted(g for _, index in snapshots for g in index.tolist())
    assert games == [6, 7]
    snapshot = snapshots[0][0]
    assert not all(
        torch.equal(a, b)
        for a, b in zip(snapshot.parameters(), learner.agents[0].network.parameters(), strict=True)
    )
    estimates = learner.estimate(trajectory)
    # seat 1 of the replay games is not this network's data: no log-probabilities of it
    assert torch.isnan(estimates.log_probs[:, 6:, 1]).all()
    assert not torch.isnan(estimates.log_probs[:, :6, 1]).any()
    # A2 of a replay game comes from the snapshot's critic
    for network, index in snapshots:
        index = torch.as_tensor(index)
        values = network.values(
            trajectory.observations[:, index, 1], trajectory.episode_starts[:, index]
        )
        torch.testing.assert_close(estimates.values[:, index, 1], values)
    learner.update(trajectory)
    batch = seen[0]
    assert batch.actions.shape[1] == 8 + 6  # seat 0 of every game, seat 1 of the current ones
    expected = torch.cat([trajectory.actions[:, :, 0], trajectory.actions[:, :6, 1]], dim=1)
    assert torch.equal(batch.actions, expected)
    assert not torch.isnan(batch.old_log_probs).any()


@pytest.mark.parametrize("bootstrap", [False, True])
def test_seat_estimates_match_the_learners_own_estimates(bootstrap):
    """The path used for past selves and fixed opponents computes what the base learner does."""
    config = AdvantageAlignmentConfig(
        **SMALL, self_play=True, bootstrap_truncation=bootstrap, critic_target="gae", target_tau=0.5
    )
    learner = AdvantageAlignmentLearner(config)
    learner.train_iteration()  # a target critic that differs from the network
    trajectory = learner.collect()
    estimates = learner.estimate(trajectory)
    values, advantages = seat_estimates(
        learner.agents[0].target,
        trajectory.observations[:, :, 1],
        trajectory.episode_starts,
        trajectory.rewards[..., 1],
        trajectory.dones,
        config.gamma,
        config.gae_lambda,
        trajectory.next_observations[:, 1] if bootstrap else None,
    )
    torch.testing.assert_close(values, estimates.values[..., 1])
    torch.testing.assert_close(advantages, estimates.advantages[..., 1])


def test_replay_needs_self_play():
    with pytest.raises(ValueError, match="self_play"):
        AdvantageAlignmentConfig(**SMALL, replay_fraction=0.5)
    with pytest.raises(ValueError, match="bootstrap_truncation needs"):
        AdvantageAlignmentConfig(**SMALL, bootstrap_truncation=True, critic_target="mc")


def test_fixed_opponent_gets_advantages_from_the_learners_critic():
    config = AdvantageAlignmentConfig(**SMALL, aa_beta=1.0)
    learner = AdvantageAlignmentLearner(config, opponent=scripted_policy("tit_for_tat", "ipd_v0"))
    estimates = learner.estimate(learner.collect())
    assert torch.isfinite(estimates.advantages).all()
    learner.train_iteration()


# ---- checkpoints, resume, presets, command line -------------------------------------------------
def test_checkpoint_round_trip_and_exact_resume_with_replay(tmp_path):
    config = AdvantageAlignmentConfig(
        **{**SMALL, "iterations": 4},
        self_play=True,
        replay_fraction=0.5,
        replay_push_every=1,
        checkpoint_every=2,
    )
    whole = train(config, "aa", tmp_path / "whole", False)
    train(config, "aa", tmp_path / "cut", False)
    resumed = resume(tmp_path / "cut" / "checkpoints" / "iter_000002.pt", progress=False)
    assert len(resumed.replay) == 4 == len(whole.replay)
    for a, b in zip(parameters(whole), parameters(resumed), strict=True):
        assert torch.equal(a, b)
    no_seconds = [
        {k: v for k, v in read_metrics(tmp_path / d / "metrics.csv").items() if k != "seconds"}
        for d in ("whole", "cut")
    ]
    assert no_seconds[0] == no_seconds[1]
    path = save_checkpoint(whole, tmp_path / "x.pt")
    assert restore_learner(path, algorithm="aa").iteration == 4


def test_presets_build_their_configs():
    for name in PRESETS:
        config = preset_config(name, seed=7)
        assert isinstance(config, ALGORITHMS[preset_algorithm(name)][0]) and config.seed == 7
    assert preset_config("aa_negotiation_paper").num_envs == 8192
    with pytest.raises(KeyError, match="unknown preset"):
        preset_config("nope")


def test_cli_trains_aa_and_paa_and_presets(tmp_path, capsys):
    for algo in ("aa", "paa"):
        run = tmp_path / algo
        assert (
            main(
                [
                    "train",
                    "--algo",
                    algo,
                    "--env-arg",
                    "max_cycles=4",
                    "--num-envs",
                    "4",
                    "--iterations",
                    "2",
                    "--hidden-sizes",
                    "8",
                    "--gru-size",
                    "8",
                    "--num-minibatches",
                    "2",
                    "--aa-beta",
                    "0.7",
                    "--run-dir",
                    str(run),
                    "--no-progress",
                ]
            )
            == 0
        )
        saved = json.loads((run / "config.json").read_text())
        assert saved["algorithm"] == algo and saved["config"]["aa_beta"] == 0.7
        assert saved["config"]["proximal"] is (algo == "paa")
    run = tmp_path / "preset"
    assert (
        main(
            [
                "train",
                "--preset",
                "aa_ipd",
                "--iterations",
                "2",
                "--num-envs",
                "4",
                "--run-dir",
                str(run),
                "--no-progress",
            ]
        )
        == 0
    )
    config = json.loads((run / "config.json").read_text())["config"]
    assert config["aa_beta"] == 10.0 and config["iterations"] == 2 and config["self_play"]
    assert (
        main(
            [
                "train",
                "--preset",
                "aa_ipd",
                "--algo",
                "ppo",
                "--no-progress",
                "--run-dir",
                str(tmp_path / "bad"),
            ]
        )
        == 2
    )
    assert "is for --algo aa" in capsys.readouterr().err


# ---- learning -----------------------------------------------------------------------------------
def test_aa_learns_reciprocity_in_the_ipd_where_the_naive_learner_defects():
    """The aa_ipd preset, 500 iterations (~20 s): the aligned advantage turns self-play from
    mutual defection to tit-for-tat-like play (P(C | CC) > 0.8, P(C | DC) > 0.5, P(C | DD) <
    0.2); with beta = 0 (the shaping term dropped) the same learner, 200 iterations, only
    defects (P(C | CC) and P(C | DC) < 0.2).

    Margins over seeds 0-4 (benchmarks/learning_margins.py): P(C | CC) 0.961-0.978 (at least
    0.16 above 0.8), P(C | DC) 0.935-0.978, P(C | DD) 0.016-0.048 (at least 0.15 below 0.2);
    naive P(C | CC) 0.049-0.116 (at least 0.084 below 0.2) and P(C | DC) 0.023-0.063.
    """
    CASES_BY_NAME["aa_reciprocity"].assert_checks(seed=0)


# ---- the reference's optimisation loop, critic warm-up, the log-probability clamp ------------
def actor_and_critic_only(network):
    """Parameters of the actor alone and of the critic alone (no shared encoder)."""
    return (
        [*network.actor_encoder.parameters(), *network.actor_head.parameters()],
        [*network.critic_encoder.parameters(), *network.value_head.parameters()],
    )


def moved(before, after):
    return [not torch.equal(b, a) for b, a in zip(before, after, strict=True)]


def test_critic_warmup_leaves_the_actor_entirely_alone():
    # the entropy bonus used to move the actor during the warm-up; now nothing does
    for separate in (False, True):
        learner = AdvantageAlignmentLearner(
            AdvantageAlignmentConfig(
                **SMALL,
                self_play=True,
                share_encoder=False,
                ent_coef=0.5,
                critic_warmup=2,
                separate_critic_optimizer=separate,
            )
        )
        actor, critic = actor_and_critic_only(learner.agents[0].network)
        before = [p.detach().clone() for p in (*actor, *critic)]
        metrics = learner.train_iteration()
        changed = moved(before, [p.detach() for p in (*actor, *critic)])
        assert not any(changed[: len(actor)]), separate
        assert any(changed[len(actor) :]), separate
        assert metrics["policy_loss"] == 0.0 and metrics["entropy"] > 0
        learner.train_iteration()
        learner.train_iteration()  # after the warm-up the actor learns
        assert any(moved(before[: len(actor)], [p.detach() for p in actor]))


def test_separate_optimizers_step_actor_then_critic_each_with_its_own_clip(monkeypatch):
    config = AdvantageAlignmentConfig(
        **SMALL,
        self_play=True,
        share_encoder=True,
        separate_critic_optimizer=True,
        max_grad_norm=0.5,
        critic_lr=0.02,
    )
    learner = AdvantageAlignmentLearner(config)
    agent = learner.agents[0]
    network = agent.network
    actor_ids = {id(p) for p in network.actor_parameters()}
    critic_ids = {id(p) for p in network.critic_parameters()}
    shared = {id(p) for p in network.actor_encoder.parameters()}
    assert shared <= actor_ids & critic_ids  # a shared encoder is stepped by both
    assert {id(p) for g in agent.optimizer.param_groups for p in g["params"]} == actor_ids
    critic_groups = agent.critic_optimizer.param_groups
    assert {id(p) for g in critic_groups for p in g["params"]} == critic_ids
    assert critic_groups[0]["lr"] == 0.02 and agent.optimizer.param_groups[0]["lr"] == config.lr
    clipped = []
    original = torch.nn.utils.clip_grad_norm_

    def record(parameters, max_norm):
        parameters = list(parameters)
        clipped.append(({id(p) for p in parameters}, max_norm))
        return original(parameters, max_norm)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", record)
    learner.train_iteration()
    assert [ids for ids, _ in clipped] == [actor_ids, critic_ids]  # actor first, each its own
    assert all(norm == 0.5 for _, norm in clipped)
    assert "critic_optimizer" in learner.state_dict()["agents"][0]  # it is saved for resuming


def test_seat_by_seat_updates_each_seat_from_fresh_estimates():
    config = AdvantageAlignmentConfig(**SMALL, self_play=True, seat_by_seat=True)
    learner = AdvantageAlignmentLearner(config)
    seen, estimated = [], []
    update_agent, estimate = learner.update_agent, learner.estimate
    learner.update_agent = lambda agent, batch, gen: (
        seen.append(batch) or update_agent(agent, batch, gen)
    )
    learner.estimate = lambda trajectory: estimated.append(1) or estimate(trajectory)
    trajectory = learner.collect()
    learner.update(trajectory)
    assert len(seen) == 2 and len(estimated) == 2
    for seat, batch in enumerate(seen):  # one seat's B sequences each, in seat order
        assert torch.equal(batch.actions, trajectory.actions[:, :, seat])
    joint = AdvantageAlignmentLearner(AdvantageAlignmentConfig(**SMALL, self_play=True))
    seen.clear()
    update_agent = joint.update_agent
    joint.update_agent = lambda agent, batch, gen: (
        seen.append(batch) or update_agent(agent, batch, gen)
    )
    joint.update(joint.collect())
    assert len(seen) == 1 and seen[0].actions.shape[1] == 2 * SMALL["num_envs"]


def test_the_paper_presets_use_the_reference_loop():
    for name in ("aa_negotiation_paper", "paa_negotiation_paper", "aa_coin_paper"):
        config = preset_config(name)
        assert config.separate_critic_optimizer and config.seat_by_seat, name
        assert config.vf_coef == 1.0 and not config.normalize_advantages, name
    for name in ("paa_negotiation", "paa_negotiation_continuous", "aa_ipd"):
        assert not preset_config(name).separate_critic_optimizer, name  # our tuned recipes


def test_log_prob_min_clamps_the_old_log_probabilities_too():
    # new and old log-probabilities below the clamp: the ratio is exactly 1, so the proximal
    # loss is -mean(A*); clamping the new ones alone would give a ratio of e^4 (clipped)
    learner = ProximalAdvantageAlignmentLearner(
        ProximalAdvantageAlignmentConfig(**SMALL, num_minibatches=1, log_prob_min=-10.0)
    )
    from agents.algorithms.core.on_policy import AgentBatch

    log_probs = torch.full((3, 2), -14.0)
    advantages = torch.tensor([[1.0, -2.0], [0.5, 0.5], [3.0, 1.0]])
    batch = AgentBatch(
        observations=torch.zeros(3, 2, 5),
        starts=torch.zeros(3, 2, dtype=torch.bool),
        actions=torch.zeros(3, 2, dtype=torch.long),
        old_log_probs=torch.full((3, 2), -12.0),
        advantages=advantages,
        returns=torch.zeros(3, 2),
        old_values=torch.zeros(3, 2),
    )
    loss, info = learner.policy_loss(log_probs, batch)
    torch.testing.assert_close(loss, -advantages.mean())
    assert info["clip_fraction"] == 0.0

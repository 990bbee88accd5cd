"""The learning tests' measurements, shared by the tests and ``benchmarks/learning_margins.py``.

A learning test trains (or samples) and compares a number with a threshold. Whether it passes
depends on the floating-point kernels of the CPU as much as on the seed: a different CPU gives
a slightly different first update and, after a few hundred updates, what amounts to another
seed. So every threshold here must hold with a clear margin over several seeds, not just for
the seed the test runs. Each :class:`Case` below measures one test's numbers for a seed;
its :class:`Check` list states the thresholds. The tests assert the checks for their seed, and
the benchmark script prints the margin of every check over several seeds, so that a change
that erodes one is seen (``python benchmarks/learning_margins.py``).
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

import socialdilemmas
from agents import CallablePolicy, rollout
from agents.policy import Policy


@dataclass(frozen=True)
class Check:
    """``measured[key] op threshold`` must hold; the margin is how far inside it is."""

    key: str
    op: str  # ">" or "<"
    threshold: float

    def margin(self, measured: dict[str, float]) -> float:
        """Signed distance of the measured value inside the threshold (negative: fails)."""
        value = measured[self.key]
        return value - self.threshold if self.op == ">" else self.threshold - value

    def holds(self, measured: dict[str, float]) -> bool:
        """Whether the check passes."""
        compare = operator.gt if self.op == ">" else operator.lt
        return bool(compare(measured[self.key], self.threshold))

    def __str__(self) -> str:
        return f"{self.key} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Case:
    """One learning test: what it measures for a seed, and the thresholds it asserts."""

    name: str
    measure: Callable[[int], dict[str, float]]
    checks: tuple[Check, ...]
    slow: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    def assert_checks(self, seed: int = 0) -> dict[str, float]:
        """Measure for ``seed`` and assert every check, reporting all values on failure."""
        measured = self.measure(seed)
        failed = [str(check) for check in self.checks if not check.holds(measured)]
        assert not failed, f"{self.name} (seed {seed}): {failed} with {measured}"
        return measured

    def assert_majority(self, seeds: tuple[int, ...]) -> list[dict[str, float]]:
        """Measure every seed; assert that most of them pass every check."""
        measured = [self.measure(seed) for seed in seeds]
        passing = [all(check.holds(m) for check in self.checks) for m in measured]
        assert sum(passing) * 2 > len(seeds), f"{self.name}: seeds {seeds} gave {measured}"
        return measured


# ---- naive learners in the IPD ---------------------------------------------------------------
def naive_ipd(algo: str, encoder: str) -> Callable[[int], dict[str, float]]:
    """Two independent naive learners in the IPD (20 rounds, 128 games)."""

    def measure(seed: int) -> dict[str, float]:
        from agents.algorithms import get_algorithm

        config_class, learner_class = get_algorithm(algo)
        extra = {"num_minibatches": 2} if algo == "ppo" else {}
        if encoder == "gru":  # a smaller GRU keeps this test at about a second
            extra |= {"hidden_sizes": (32,), "gru_size": 32}
        config = config_class(
            env_id="ipd_v0",
            env_kwargs={"max_cycles": 20},
            num_envs=128,
            encoder=encoder,
            seed=seed,
            **extra,
        )
        learner = learner_class(config)
        for _ in range(40 if algo == "actor_critic" else 25):
            metrics = learner.train_iteration()
        return {k: metrics[k] for k in ("reward_0", "reward_1", "cooperation_rate")}

    return measure


NAIVE_IPD_CHECKS = (
    Check("reward_0", "<", -1.85),
    Check("reward_1", "<", -1.85),
    Check("cooperation_rate", "<", 0.08),
)


def default_configs_ipd(algo: str) -> Callable[[int], dict[str, float]]:
    """The documented defaults (256 games x 50 rounds, GRU), 40 iterations."""

    def measure(seed: int) -> dict[str, float]:
        from agents.algorithms import get_algorithm

        config_class, learner_class = get_algorithm(algo)
        learner = learner_class(config_class(env_id="ipd_v0", seed=seed))
        for _ in range(40):
            metrics = learner.train_iteration()
        return {k: metrics[k] for k in ("reward_0", "cooperation_rate")}

    return measure


# ---- naive PPO exploits always-cooperate in the Coin Game ------------------------------------
def _mean_rewards_against(policy: Policy, opponent: Policy, env_id: str, **kwargs) -> np.ndarray:
    env = socialdilemmas.make_vec(env_id, 256, **kwargs)
    trajectory = rollout(env, [policy, opponent], seed=123)
    return trajectory.rewards.mean((0, 1)).numpy()


def naive_coin_exploits_ac(seed: int) -> dict[str, float]:
    """Self-play PPO in the Coin Game (20 steps, 128 games, lr 1e-2, 60 iterations), then against
    always-cooperate."""
    from agents.algorithms.ppo import PPOConfig, PPOLearner
    from socialdilemmas.coin_game import strategies

    rng = np.random.default_rng(0)
    always_cooperate = CallablePolicy(
        lambda obs: strategies.always_cooperate(obs, rng), name="always_cooperate"
    )
    config = PPOConfig(
        env_id="coin_game_v0",
        env_kwargs={"max_cycles": 20},
        num_envs=128,
        encoder="mlp",
        num_minibatches=2,
        update_epochs=4,
        self_play=True,
        lr=1e-2,
        seed=seed,
    )
    learner = PPOLearner(config)
    untrained = _mean_rewards_against(
        learner.agents[0].policy, always_cooperate, "coin_game_v0", max_cycles=20
    )
    for _ in range(60):
        learner.train_iteration()
    trained = _mean_rewards_against(
        learner.agents[0].policy, always_cooperate, "coin_game_v0", max_cycles=20
    )
    return {
        "untrained_vs_ac": float(untrained[0]),
        "trained_vs_ac": float(trained[0]),
        "trained_minus_ac": float(trained[0] - trained[1]),
    }


# ---- summed-rewards PPO in the Negotiation Game ---------------------------------------------
def summed_negotiation(share_encoder: bool) -> Callable[[int], dict[str, float]]:
    """PPO on summed rewards, 40 iterations: its claims on high- and low-value items."""

    def measure(seed: int) -> dict[str, float]:
        from agents.algorithms import get_algorithm

        config_class, learner_class = get_algorithm("ppo_summed")
        config = config_class(
            env_id="negotiation_v0",
            env_kwargs={"max_cycles": 50},
            num_envs=256,
            encoder="mlp",
            hidden_sizes=(64, 64),
            lr=1e-3,
            ent_coef=0.005,
            self_play=True,
            share_encoder=share_encoder,
            seed=seed,
        )
        learner = learner_class(config)
        for _ in range(40):
            learner.train_iteration()
        trajectory = learner.collect()
        observations = trajectory.observations[:, :, 0]
        mine_high = observations[..., 3:6] > observations[..., 9:12]  # own vs other's values
        claims = trajectory.actions[:, :, 0].float()
        gap = float(claims[mine_high].mean() - claims[~mine_high].mean())
        return {"claim_gap": gap, "abs_claim_gap": abs(gap)}

    return measure


# ---- one learner against a fixed opponent ----------------------------------------------------
def fixed_opponent_ipd(seed: int) -> dict[str, float]:
    """PPO against always-cooperate in the IPD, 25 iterations (the best reply defects)."""
    from agents.algorithms.ppo import PPOConfig, PPOLearner
    from agents.scripted import scripted_policy

    config = PPOConfig(
        env_id="ipd_v0",
        env_kwargs={"max_cycles": 20},
        num_envs=128,
        encoder="mlp",
        num_minibatches=2,
        seed=seed,
    )
    learner = PPOLearner(config, opponent=scripted_policy("always_cooperate", "ipd_v0"))
    for _ in range(25):
        metrics = learner.train_iteration()
    return {k: metrics[k] for k in ("reward_0", "reward_1")}


# ---- Advantage Alignment and LOQA in the IPD -------------------------------------------------
def memory_one_p_cooperate(network: torch.nn.Module) -> list[float]:
    """P(cooperate | CC, CD, DC, DD, start) of a memory-one (MLP) IPD actor-critic."""
    with torch.no_grad():
        dist, _ = network(torch.eye(5)[None], torch.zeros(1, 5, dtype=torch.bool))
        return dist.log_prob(torch.zeros(1, 5, dtype=torch.long)).exp()[0].tolist()


def aa_reciprocity(seed: int) -> dict[str, float]:
    """The aa_ipd preset for 500 iterations, and with beta = 0 for 200."""
    from agents.algorithms import preset_config
    from agents.algorithms.advantage_alignment import AdvantageAlignmentLearner

    shaped = AdvantageAlignmentLearner(preset_config("aa_ipd", iterations=500, seed=seed))
    naive = AdvantageAlignmentLearner(
        preset_config("aa_ipd", aa_beta=0.0, iterations=500, seed=seed)
    )
    for _ in range(200):
        naive.train_iteration()
    for _ in range(500):
        shaped.train_iteration()
    cc, _, dc, dd, _ = memory_one_p_cooperate(shaped.agents[0].network)
    naive_cc, _, naive_dc, _, _ = memory_one_p_cooperate(naive.agents[0].network)
    return {"cc": cc, "dc": dc, "dd": dd, "naive_cc": naive_cc, "naive_dc": naive_dc}


def loqa_tabular_p_cooperate(learner) -> np.ndarray:
    """P(cooperate | CC, CD, DC, DD, start) of LOQA's tabular IPD actor."""
    weight = learner.agents[0].network.actor_logits.weight.detach()
    return torch.softmax(weight.T, dim=-1)[:, 0].numpy()


def loqa_warm_ipd(seed: int = 0):
    """A LOQA IPD learner whose Q-critic is fitted to the uniform policy (actor frozen)."""
    from agents.algorithms import preset_config
    from agents.algorithms.loqa import LOQALearner

    # the ipd_cpu preset's critic settings fit the finite-horizon Q-values in ~100 iterations
    config = preset_config(
        "loqa_ipd_cpu",
        num_envs=256,
        iterations=200,
        seed=seed,
        checkpoint_every=0,
        actor_warmup=10_000,
    )
    learner = LOQALearner(config)
    for _ in range(100):
        learner.train_iteration()
    learner.config.actor_warmup = 0
    return learner


def loqa_short_run(seed: int, warm=None) -> dict[str, float]:
    """From the fitted critic, 60 iterations of ipd_cpu with and without the opponent term."""
    warm = loqa_warm_ipd(seed) if warm is None else warm
    outcomes = {}
    for weight in (1.0, 0.0):
        learner = copy.deepcopy(warm)
        learner.config.opponent_weight = weight
        for _ in range(60):
            learner.train_iteration()
        outcomes[weight] = loqa_tabular_p_cooperate(learner)
    loqa, naive = outcomes[1.0], outcomes[0.0]
    return {
        "loqa_cc": float(loqa[0]),
        "loqa_cd": float(loqa[1]),
        "loqa_dc": float(loqa[2]),
        "loqa_dd": float(loqa[3]),
        "naive_max_cc_cd_dc_dd": float(naive[:4].max()),
    }


# ---- one policy-gradient step of the shaping terms on sampled IPD episodes -------------------
GAMMA_IPD = 0.96
CC, CD, DC, DD = 0, 1, 2, 3  # IPD observation indices, own action first
SWAP_VIEW = [0, 2, 1, 3, 4]  # the other player's view of each observation


class TabularPolicy(Policy):
    """Samples from softmax(logits[observation index]); seeded torch generator."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits
        self.generator = torch.Generator()

    def reset(self, num_envs: int, seed: int | None = None) -> None:
        self.generator.manual_seed(0 if seed is None else seed)

    def act(self, observations: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
        return self.act_with_log_probs(observations, episode_starts)[0]

    def act_with_log_probs(self, observations, episode_starts):
        log_probs = torch.log_softmax(self.logits.detach()[observations.argmax(1)], -1)
        actions = torch.multinomial(log_probs.exp(), 1, generator=self.generator).squeeze(1)
        return actions.numpy(), log_probs.gather(1, actions[:, None]).squeeze(1)


def finite_horizon_tables(p_cooperate: torch.Tensor, steps: int) -> tuple[torch.Tensor, ...]:
    """Self-play values ``W[t, obs]`` (rewards from step t on) and ``Q[t, obs, action]``.

    Exact for the memory-one policy ``p_cooperate`` against itself, by backward induction.
    """
    from socialdilemmas.matrix.payoffs import payoff_table

    table, _ = payoff_table("ipd")
    reward = torch.as_tensor(table[..., 0], dtype=torch.float64)  # [own action, other action]
    p = p_cooperate.double()
    p_other = p[SWAP_VIEW]  # the other player's P(cooperate) at its view of each observation
    values = torch.zeros(steps + 1, 5, dtype=torch.float64)
    q_values = torch.zeros(steps, 5, 2, dtype=torch.float64)
    for t in range(steps - 1, -1, -1):
        after = reward + GAMMA_IPD * values[t + 1, :4].reshape(2, 2)  # joint index 2*own+other
        q_values[t] = p_other[:, None] * after[:, 0] + (1 - p_other[:, None]) * after[:, 1]
        values[t] = p * q_values[t, :, 0] + (1 - p) * q_values[t, :, 1]
    return values.float(), q_values.float()


def shaping_gradients(
    logits: torch.Tensor, beta: float, weight: float, seed: int = 0
) -> tuple[torch.Tensor, ...]:
    """Gradients of the naive, AA and LOQA actor losses on 4096 self-play IPD episodes.

    Values and Q-values are the exact finite-horizon ones of the current policy, so the check
    is about the estimators, not about critic fitting. Both seats act as the learner.
    """
    from agents.algorithms.advantage_alignment.estimator import aligned_advantages
    from agents.algorithms.core.losses import policy_gradient_loss
    from agents.algorithms.core.returns import td0_advantages
    from agents.algorithms.loqa.estimator import loqa_actor_loss, loqa_opponent_log_probs

    policy = TabularPolicy(logits)
    env = socialdilemmas.make_vec("ipd_v0", 4096, copy=False)
    traj = rollout(env, [policy, policy], seed=seed)
    steps = traj.num_steps
    values, q_values = finite_horizon_tables(torch.softmax(logits.detach(), -1)[:, 0], steps)
    index = torch.cat([traj.observations, traj.next_observations[None]]).argmax(-1)  # T+1,B,2
    time = torch.arange(steps + 1)[:, None, None].expand_as(index)
    v = values[time, index]
    q = q_values[time[:-1], index[:-1]]
    naive, aa, loqa = [], [], []
    for seat in (0, 1):
        other = 1 - seat
        a1 = td0_advantages(traj.rewards[..., seat], v[..., seat], GAMMA_IPD, traj.dones)
        a2 = td0_advantages(traj.rewards[..., other], v[..., other], GAMMA_IPD, traj.dones)
        log_probs = (
            torch.log_softmax(logits[index[:-1, :, seat]], -1)
            .gather(-1, traj.actions[..., seat, None])
            .squeeze(-1)
        )
        naive.append(policy_gradient_loss(log_probs, a1))
        aligned = aligned_advantages(a1, a2, beta, GAMMA_IPD, traj.episode_starts)
        aa.append(policy_gradient_loss(log_probs, aligned))
        op_log_probs = loqa_opponent_log_probs(
            log_probs,
            traj.rewards[..., other],
            v[:-1, :, other],
            q[:, :, other],
            traj.actions[..., other],
            GAMMA_IPD,
            lambda_d=0.9,
            dones=traj.dones,
        )
        loqa.append(loqa_actor_loss(log_probs, op_log_probs, a1, opponent_weight=weight).loss)
    losses = [sum(parts) / 2 for parts in (naive, aa, loqa)]
    return tuple(torch.autograd.grad(loss, logits, retain_graph=True)[0] for loss in losses)


def shaping_step_ipd(seed: int) -> dict[str, float]:
    """P(cooperate) after one step (lr 1) of each loss from the uniform tabular policy."""
    logits = torch.zeros(5, 2, requires_grad=True)
    grads = shaping_gradients(logits, beta=3.0, weight=1.0, seed=seed)
    p_before = torch.softmax(logits.detach(), -1)[:, 0]
    naive, aa, loqa = (torch.softmax(logits.detach() - g, -1)[:, 0] for g in grads)
    out = {
        "naive_cc_change": float(naive[CC] - p_before[CC]),
        "aa_cc_change": float(aa[CC] - p_before[CC]),
        "loqa_cc_change": float(loqa[CC] - p_before[CC]),
        "naive_dc_change": float(naive[DC] - p_before[DC]),
    }
    for name, shaped in (("aa", aa), ("loqa", loqa)):
        out[f"{name}_cd_minus_naive"] = float(shaped[CD] - naive[CD])
        out[f"{name}_dc_change"] = float(shaped[DC] - p_before[DC])
    return out


def loqa_reciprocity_gradient(seed: int, warm=None) -> dict[str, float]:
    """The opponent term's push towards C, per state, on one batch from the fitted critic."""
    warm = loqa_warm_ipd(seed) if warm is None else warm
    learner = copy.deepcopy(warm)
    learner._routing = learner.plan_routing()
    trajectory = learner.collect()

    def gradient(**config) -> torch.Tensor:
        probe = copy.deepcopy(learner)
        for name, value in config.items():
            setattr(probe.config, name, value)
        network = probe.agents[0].network
        cols = probe.columns(probe.segments(), trajectory)
        losses, _ = probe.actor_loss(network, cols)
        network.zero_grad()
        losses.loss.backward()
        return network.actor_logits.weight.grad.clone()

    total, naive = gradient(), gradient(opponent_weight=0.0)
    shaping = -(total - naive)  # descent direction of the opponent term
    push_c = shaping[0] - shaping[1]
    naive_c = -(naive[0] - naive[1])
    return {
        "cc_minus_cd": float(push_c[CC] - push_c[CD]),
        "dc_minus_dd": float(push_c[DC] - push_c[DD]),
        "naive_max_push": float(naive_c[:4].max()),
    }


# ---- LOLA-DiCE in the IPD --------------------------------------------------------------------
def lola_dice_lookahead_ipd(seed: int) -> dict[str, float]:
    """Change of P(C | CC) over 20 iterations of ``lola_dice_ipd``, with and without lookahead.

    The same start (seed) twice: ``lr_inner`` 0.1 (the preset) and 0 (the naive learner). The
    change is the mean over the two agents of their tabular P(C | CC).
    """
    from agents.algorithms import preset_config
    from agents.algorithms.lola_dice import LOLADiCELearner

    def cooperation_after_cc(learner) -> np.ndarray:
        weights = [agent.network.policy_logits.weight[0, 0] for agent in learner.agents]
        return np.array([torch.sigmoid(weight).item() for weight in weights])

    changes = {}
    for label, lr_inner in (("lola_change", 0.1), ("naive_change", 0.0)):
        config = preset_config("lola_dice_ipd", iterations=20, lr_inner=lr_inner, seed=seed)
        learner = LOLADiCELearner(config)
        start = cooperation_after_cc(learner)
        for _ in range(20):
            learner.train_iteration()
        changes[label] = float(np.mean(cooperation_after_cc(learner) - start))
    return {**changes, "gap": changes["lola_change"] - changes["naive_change"]}


# ---- POLA-DiCE in the IPD -------------------------------------------------------------------
def pola_lookahead_ipd(seed: int) -> dict[str, float]:
    """Change of P(C | CC) over 5 updates of tabular POLA-DiCE, with and without lookahead.

    The README's KL weights (beta_inner 10, beta_outer 100) and gamma, on a budget one core
    runs in about 20 s per run: tabular memory-one policies, 128 games of 50 rounds
    (contribution factor 1.33), 5 updates of 10 outer Adam steps at lr 0.02 through 2 imagined
    steps at lr_inner 1.0; the contrast is the same run with lr_inner 0 (each agent solves its
    own proximal problem against the opponent as it is). The change is the mean over the two
    agents of their tabular P(C | CC).
    """
    from agents.algorithms.pola import POLAConfig, POLALearner

    def cooperation_after_cc(learner) -> np.ndarray:
        weights = [agent.network.policy_logits.weight[0, 0] for agent in learner.agents]
        return np.array([torch.sigmoid(weight).item() for weight in weights])

    changes = {}
    for label, lr_inner in (("pola_change", 1.0), ("naive_change", 0.0)):
        config = POLAConfig(
            env_kwargs={"max_cycles": 50, "payoffs": "ipd_pola"},
            num_envs=128,
            iterations=5,
            outer_steps=10,
            inner_steps=2,
            policy_model="tabular",
            lr=0.02,
            lr_inner=lr_inner,
            seed=seed,
            checkpoint_every=0,
        )
        learner = POLALearner(config)
        start = cooperation_after_cc(learner)
        for _ in range(config.iterations):
            learner.train_iteration()
        changes[label] = float(np.mean(cooperation_after_cc(learner) - start))
    return {**changes, "gap": changes["pola_change"] - changes["naive_change"]}


CASES: tuple[Case, ...] = (
    *(
        Case(f"naive_ipd_defects[{algo}-{encoder}]", naive_ipd(algo, encoder), NAIVE_IPD_CHECKS)
        for algo, encoder in (("actor_critic", "mlp"), ("ppo", "mlp"), ("ppo", "gru"))
    ),
    Case(
        "default_ppo_ipd_defects",
        default_configs_ipd("ppo"),
        (Check("cooperation_rate", "<", 0.05), Check("reward_0", "<", -1.9)),
        slow=True,
    ),
    Case(
        "default_ppo_summed_ipd_cooperates",
        default_configs_ipd("ppo_summed"),
        (Check("cooperation_rate", ">", 0.95), Check("reward_0", ">", -1.1)),
        slow=True,
    ),
    Case(
        "naive_coin_exploits_ac",
        naive_coin_exploits_ac,
        (
            Check("untrained_vs_ac", "<", 0.2),
            Check("trained_vs_ac", ">", 0.3),
            Check("trained_minus_ac", ">", 0.25),
        ),
    ),
    Case(
        "summed_negotiation_separate_encoders",
        summed_negotiation(False),
        (Check("claim_gap", ">", 0.8),),
    ),
    Case(
        "summed_negotiation_shared_encoder",
        summed_negotiation(True),
        (Check("abs_claim_gap", "<", 0.2),),
    ),
    Case(
        "fixed_opponent_ipd",
        fixed_opponent_ipd,
        (Check("reward_0", ">", -0.1), Check("reward_1", "<", -2.9)),
    ),
    Case(
        "aa_reciprocity",
        aa_reciprocity,
        (
            Check("cc", ">", 0.8),
            Check("dc", ">", 0.5),
            Check("dd", "<", 0.2),
            Check("naive_cc", "<", 0.2),
            Check("naive_dc", "<", 0.2),
        ),
    ),
    Case(
        "loqa_short_run",
        loqa_short_run,
        (
            Check("naive_max_cc_cd_dc_dd", "<", 0.5),
            Check("loqa_cc", ">", 0.55),
            Check("loqa_dc", ">", 0.55),
            Check("loqa_cd", "<", 0.5),
            Check("loqa_dd", "<", 0.5),
        ),
    ),
    Case(
        "shaping_step_ipd",
        shaping_step_ipd,
        (
            Check("naive_cc_change", "<", -0.01),
            Check("aa_cc_change", ">", 0.01),
            Check("loqa_cc_change", ">", 0.005),
            Check("aa_cd_minus_naive", "<", 0.0),
            Check("loqa_cd_minus_naive", "<", 0.0),
            Check("aa_dc_change", ">", 0.0),
            Check("loqa_dc_change", ">", 0.0),
            Check("naive_dc_change", "<", 0.0),
        ),
    ),
    Case(
        "loqa_reciprocity_gradient",
        loqa_reciprocity_gradient,
        (
            Check("cc_minus_cd", ">", 0.005),
            Check("dc_minus_dd", ">", 0.005),
            Check("naive_max_push", "<", 0.0),
        ),
    ),
    Case(
        "lola_dice_lookahead_ipd",
        lola_dice_lookahead_ipd,
        (
            Check("lola_change", ">", 0.0),
            Check("naive_change", "<", -0.1),
            Check("gap", ">", 0.15),
        ),
    ),
    Case(
        "pola_lookahead_ipd",
        pola_lookahead_ipd,
        (
            Check("pola_change", ">", 0.0),
            Check("naive_change", "<", -0.05),
            Check("gap", ">", 0.1),
        ),
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}

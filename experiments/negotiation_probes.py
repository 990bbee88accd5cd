"""Short Advantage Alignment probes in the Negotiation Game, and where the alignment term points.

Not part of the test suite; the numbers are in docs/results.md ("Negotiation Game"). Two
commands, both taking a preset of :data:`agents.algorithms.PRESETS` and JSON config overrides:

``train`` trains from scratch and evaluates every ``--every`` iterations (128 episodes of
self-play, and against always-defect in both seat orders), printing one JSON line each::

    python experiments/negotiation_probes.py train aa_negotiation '{"aa_beta": 10.0}' --every 100

``shaping`` fits the critic with the policy frozen at its initial (uniform) values for the
config's ``critic_warmup`` iterations, collects one batch, and splits the policy gradient of
seat 0's claims on its *low-value* items (where claiming is the defection) by what the opponent
did on those items in the previous round: fair (claimed at most 1.5 on average on the items it
valued low) or greedy (3.5 or more). For each it prints the covariance of the claim with the
naive advantage ``A1`` (positive: the naive gradient raises the claim) and with the alignment
term ``A* - A*(beta=0)`` (negative: the term lowers the claim). Reciprocity needs the term's
covariance to be negative after a fair opponent and positive after a greedy one::

    python experiments/negotiation_probes.py shaping aa_negotiation '{"critic_warmup": 300}'

``respond`` measures how a trained checkpoint answers greed: it plays it (both seat orders)
against fixed opponents that claim 5 on the items they value more and ``g`` on the others,
for ``g`` from 0 (always-cooperate) to 5 (always-defect), and prints both players' rewards.
A reciprocal agent's reward falls with ``g`` while the opponent's does not rise::

    python experiments/negotiation_probes.py respond agents/baselines/paa_negotiation.pt
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.algorithms import (  # noqa: E402
    PRESETS,
    get_algorithm,  # noqa: E402
    preset_algorithm,
    preset_config,
)
from agents.checkpoint import checkpoint_config, load_policy, read_checkpoint  # noqa: E402
from agents.evaluation import match  # noqa: E402
from agents.nn import NetworkPolicy  # noqa: E402
from agents.scripted import scripted_policy  # noqa: E402
from socialdilemmas.negotiation.strategies import (  # noqa: E402
    MY_VALUES,
    THEIR_CLAIMS,
    THEIR_VALUES,
)

# the observation's column blocks (negotiation_v0's layout), as the scripted strategies read them
OWN_VALUES, OTHER_VALUES, OTHER_LAST_CLAIMS = MY_VALUES, THEIR_VALUES, THEIR_CLAIMS


def make_learner(preset: str, overrides: dict):
    """A fresh learner of ``preset`` with ``overrides``."""
    config = preset_config(preset, **overrides)
    _, learner_class = get_algorithm(preset_algorithm(preset))
    return learner_class(config)


def train(preset: str, overrides: dict, every: int) -> None:
    """Train, printing self-play and always-defect results every ``every`` iterations.

    Each line also has seat 0's mean claims on its high- and low-value items in a fresh
    self-play batch (:func:`claims_by_value`).
    """
    learner = make_learner(preset, overrides)
    env_id, kwargs = learner.config.env_id, learner.config.env_kwargs
    always_defect = scripted_policy("always_defect", env_id, **kwargs)
    start = time.perf_counter()
    for iteration in range(1, learner.config.iterations + 1):
        learner.train_iteration()
        if iteration % every:
            continue
        policy = NetworkPolicy(learner.agents[0].network, name="learner")
        self_play = match(policy, policy, env_id, episodes=128, seed=1, **kwargs)
        versus = match(
            policy, always_defect, env_id, episodes=128, seed=1, both_seats=True, **kwargs
        )
        row = {
            "iteration": iteration,
            "seconds": round(time.perf_counter() - start),
            "self_play": round(sum(self_play.rewards) / 2, 3),
            "vs_always_defect": round(versus.rewards[0], 3),
            "always_defect_gets": round(versus.rewards[1], 3),
            **claims_by_value(learner.collect()),
        }
        print(json.dumps(row), flush=True)


def claims_by_value(trajectory) -> dict[str, float]:
    """Seat 0's mean claim on the items it values more and on those it values less.

    The cooperative split claims 5 and 0, always-defect 5 and 5; equal means show a policy
    that does not look at the values.
    """
    observations = trajectory.observations[:, :, 0]
    mine_high = observations[..., OWN_VALUES] > observations[..., OTHER_VALUES]
    claims = trajectory.actions[:, :, 0].float()
    return {
        "claim_high": round(float(claims[mine_high].mean()), 2),
        "claim_low": round(float(claims[~mine_high].mean()), 2),
    }


def covariance(advantage: torch.Tensor, claims: torch.Tensor, mask: torch.Tensor) -> float:
    """Covariance of a per-step advantage ``(T, B)`` with claims ``(T, B, 3)`` where ``mask``."""
    a = advantage.unsqueeze(-1).expand_as(claims)[mask]
    b = claims[mask]
    return float(((a - a.mean()) * (b - b.mean())).mean())


def shaping(preset: str, overrides: dict) -> None:
    """Print the naive and alignment terms' covariances with low-value claims (see above)."""
    learner = make_learner(preset, overrides)
    if learner.config.critic_warmup < 1:
        raise SystemExit("set critic_warmup (e.g. 300) so that the critic is fitted first")
    for _ in range(learner.config.critic_warmup):
        learner.train_iteration()
    trajectory = learner.collect()
    estimates = learner.estimate(trajectory)
    beta = learner.config.aa_beta
    aligned = learner.shape_advantages(estimates, trajectory)[..., 0]
    learner.config.aa_beta = 0.0
    naive = learner.shape_advantages(estimates, trajectory)[..., 0]
    learner.config.aa_beta = beta
    term = aligned - naive
    observations = trajectory.observations[:, :, 0]
    values = observations[..., OWN_VALUES] * 10
    claims = trajectory.actions[:, :, 0].float()
    previous_values = torch.cat([torch.zeros_like(values[:1]), values[:-1]])
    my_high_before = previous_values > 3  # the opponent's low-value items last round
    other_claims = observations[..., OTHER_LAST_CLAIMS] * 10
    greed = (other_claims * my_high_before).sum(-1) / my_high_before.sum(-1).clamp(min=1)
    seen = my_high_before.any(-1)
    low_now = values < 3
    print(f"advantage std: naive {float(naive.std()):.3f}, alignment term {float(term.std()):.3f}")
    for name, last_round in (("fair", greed <= 1.5), ("greedy", greed >= 3.5)):
        mask = (last_round & seen).unsqueeze(-1).expand_as(claims) & low_now
        print(
            f"after a {name} opponent ({int(mask.sum())} claims): "
            f"cov(naive, claim) {covariance(naive, claims, mask):+.4f}, "
            f"cov(alignment term, claim) {covariance(term, claims, mask):+.4f}"
        )


def fixed_greed(greed: float, continuous: bool):
    """An opponent claiming 5 on the items it values more and ``greed`` on the others."""

    def act(observations):
        observations = np.asarray(observations)
        mine_high = observations[:, OWN_VALUES] > observations[:, OTHER_VALUES]
        claims = np.where(mine_high, 5.0, greed)
        return claims.astype(np.float32) if continuous else claims.astype(np.int64)

    return act


def respond(checkpoint: str, episodes: int) -> None:
    """Print the checkpoint's and a fixed-greed opponent's rewards for greed 0 to 5."""
    config = checkpoint_config(read_checkpoint(checkpoint), checkpoint)
    env_id, kwargs = config.env_id, config.env_kwargs
    if env_id != "negotiation_v0":
        raise SystemExit(f"{checkpoint} was trained on {env_id}, not negotiation_v0")
    policy = load_policy(checkpoint)
    continuous = bool(kwargs.get("continuous", False))
    for greed in range(6):
        result = match(
            policy,
            fixed_greed(greed, continuous),
            env_id,
            episodes=episodes,
            seed=1,
            both_seats=True,
            **kwargs,
        )
        print(
            json.dumps(
                {
                    "opponent_low_claim": greed,
                    "agent": round(result.rewards[0], 3),
                    "opponent": round(result.rewards[1], 3),
                }
            ),
            flush=True,
        )


def main() -> None:
    """Parse the command line and run the probe."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "shaping"):
        command = commands.add_parser(name)
        command.add_argument("preset", choices=sorted(PRESETS))
        command.add_argument("overrides", nargs="?", default="{}", help="JSON config overrides")
        if name == "train":
            command.add_argument(
                "--every", type=int, default=100, help="evaluate every N iterations"
            )
    command = commands.add_parser("respond")
    command.add_argument("checkpoint", help="a Negotiation Game checkpoint")
    command.add_argument("--episodes", type=int, default=128, help="episodes per seat order")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "respond":
        respond(args.checkpoint, args.episodes)
        return
    overrides = json.loads(args.overrides)
    overrides.setdefault("checkpoint_every", 0)
    if args.command == "train":
        train(args.preset, overrides, args.every)
    else:
        shaping(args.preset, overrides)


if __name__ == "__main__":
    main()

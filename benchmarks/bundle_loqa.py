"""Write a small playable copy of a LOQA checkpoint into ``agents/baselines/``.

Keeps what :func:`agents.checkpoint.load_policy` needs (format, algorithm, config, spaces and
the actor's weights, stored as float16 to halve the size; they are cast back to float32 on
loading) and drops the optimizers, the EMA target and the agent replay buffer, so the file
cannot resume training. Acting never reads the Q-critic, so it is replaced by a stub (a linear
layer on the observation and time index, zero weights) and the stored config says so
(``critic_encoder="mlp"``, ``critic_hidden_sizes=()``); the payload's ``note`` records it. This
keeps a Coin Game agent under 300 kB. Usage::

    python benchmarks/bundle_loqa.py CHECKPOINT agents/baselines/loqa_coin_game.pt
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.checkpoint import read_checkpoint  # noqa: E402


def bundle(source: Path, target: Path) -> Path:
    """Strip ``source`` down to a policy-only checkpoint at ``target``; returns ``target``."""
    payload = read_checkpoint(source)
    if payload["algorithm"] != "loqa":
        raise ValueError(f"{source} is a {payload['algorithm']} checkpoint, not loqa")
    config = dict(payload["config"])
    config.update(critic_encoder="mlp", critic_hidden_sizes=[], critic_activation="tanh")
    obs_size = math.prod(payload["spaces"]["observation"]["shape"])
    num_actions = payload["spaces"]["action"]["n"]
    stub = {
        "q_head.weight": torch.zeros(num_actions, obs_size + 1, dtype=torch.float16),
        "q_head.bias": torch.zeros(num_actions, dtype=torch.float16),
    }
    agents = []
    for agent in payload["learner"]["agents"]:
        actor = {
            k: v.to(torch.float16)
            for k, v in agent["network"].items()
            if k.startswith(("actor_encoder.", "actor_logits."))
        }
        agents.append({"seats": agent["seats"], "network": {**actor, **stub}})
    slim = {
        **{k: payload[k] for k in ("format", "format_version", "algorithm", "spaces")},
        "config": config,
        "note": f"policy only, from {source.name}: float16 actor, Q-critic replaced by a stub",
        "learner": {"iteration": payload["learner"]["iteration"], "agents": agents},
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(slim, target)
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: ``bundle_loqa.py SOURCE TARGET``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    path = bundle(args.source, args.target)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

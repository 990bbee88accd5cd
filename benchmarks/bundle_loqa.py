"""Write a small playable copy of a LOQA checkpoint into ``agents/baselines/``.

Keeps what :func:`agents.checkpoint.load_policy` needs (format, algorithm, config, spaces and
the agent's network weights, stored as float16 to halve the size; they are cast back to
float32 on loading) and drops the optimizers, the EMA target and the agent replay buffer, so the
file cannot resume training. Usage::

    python benchmarks/bundle_loqa.py CHECKPOINT agents/baselines/loqa_coin_game.pt
"""

from __future__ import annotations

import argparse
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
    agents = [
        {
            "seats": agent["seats"],
            "network": {k: v.to(torch.float16) for k, v in agent["network"].items()},
        }
        for agent in payload["learner"]["agents"]
    ]
    slim = {
        **{k: payload[k] for k in ("format", "format_version", "algorithm", "config", "spaces")},
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

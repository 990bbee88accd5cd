"""Time one training iteration of LOQA and PAA at the papers' batch sizes, per device.

The presets are the papers' own (``loqa_coin_iclr``: 512 games of the 3x3 Coin Game, GRU 128;
``paa_negotiation_paper``: 512 Negotiation games, GRU 512; ``aa_negotiation_paper``: 8192
games, GRU 512). Each row is the median of ``--repeats`` iterations after one warm-up
iteration (which also compiles the kernels), split into the rollout (CPU environments, the
networks acting on the device) and the update (on the device)::

    python benchmarks/device_iteration.py                    # cpu, and cuda when available
    python benchmarks/device_iteration.py --devices cpu --presets loqa_coin_iclr --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.algorithms import get_algorithm, preset_algorithm, preset_config  # noqa: E402

PRESETS = ("loqa_coin_iclr", "paa_negotiation_paper", "aa_negotiation_paper")


def time_iterations(preset: str, device: str, repeats: int) -> tuple[float, float, int]:
    """Median seconds of the rollout and of the update, and the games per batch."""
    config = preset_config(preset, device=device, checkpoint_every=0)
    _, learner_class = get_algorithm(preset_algorithm(preset))
    learner = learner_class(config)
    collect, update = [], []
    for index in range(repeats + 1):
        start = time.perf_counter()
        trajectory = learner.collect()
        middle = time.perf_counter()
        learner.update(trajectory)
        if learner.device.type == "cuda":
            torch.cuda.synchronize()
        end = time.perf_counter()
        learner.iteration += 1
        if index:  # the first one warms up (kernels, allocator, cuDNN)
            collect.append(middle - start)
            update.append(end - middle)
    return statistics.median(collect), statistics.median(update), config.num_envs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    parser.add_argument("--devices", nargs="+", default=devices)
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on the CPU")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    name = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s), CUDA device: {name}\n")
    print("| preset | games | device | rollout s | update s | iteration s | env steps/s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for preset in args.presets:
        for device in args.devices:
            rollout_s, update_s, games = time_iterations(preset, device, args.repeats)
            total = rollout_s + update_s
            steps = games * preset_config(preset).env_kwargs.get("max_cycles", 50)
            print(
                f"| {preset} | {games} | {device} | {rollout_s:.2f} | {update_s:.2f} | "
                f"{total:.2f} | {steps / total:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Margins of the learning tests over several seeds (``tests/agents/learning_cases.py``).

How far each measured value lies inside its threshold, per seed.
A learning test's seed stands in for the CPU it runs on (another CPU's float kernels give what
amounts to another seed after a few hundred updates), so every check should hold with a clear
margin on every seed here. Run after changing a learner, a preset or a learning test::

    python benchmarks/learning_margins.py                 # every default-run case, seeds 0-4
    python benchmarks/learning_margins.py --slow --seeds 3 --case aa_
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "agents"))

from learning_cases import CASES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--case", default="", help="only cases whose name contains this")
    parser.add_argument("--slow", action="store_true", help="include the -m slow cases")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = list(range(args.seeds))
    print(f"| case | check | {' | '.join(f'seed {s}' for s in seeds)} | min margin | s/seed |")
    print(f"|---|---|{'---:|' * len(seeds)}---:|---:|")
    for case in CASES:
        if args.case not in case.name or (case.slow and not args.slow):
            continue
        start = time.perf_counter()
        measured = [case.measure(seed) for seed in seeds]
        seconds = (time.perf_counter() - start) / len(seeds)
        for index, check in enumerate(case.checks):
            values = " | ".join(f"{m[check.key]:.3f}" for m in measured)
            margin = min(check.margin(m) for m in measured)
            timing = f"{seconds:.1f}" if index == 0 else ""
            print(f"| {case.name} | {check} | {values} | {margin:+.3f} | {timing} |", flush=True)


if __name__ == "__main__":
    main()

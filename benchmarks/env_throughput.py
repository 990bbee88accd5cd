"""Environment throughput: vector-env steps per second, PettingZoo step cost, compile time.

Prints one table per registered env (default variant, plus the variants named in
``EXTRA_VARIANTS``):

* vector ``step`` env-steps/s at batch 1, 64, 1024 and 8192 with ``copy=False`` (the env's own
  buffers, as rollouts use them) and at 8192 with ``copy=True``; actions pre-drawn, one kernel
  call per step, median of several repeats;
* PettingZoo parallel ``step`` and AEC cycle (both agents' ``step``) in microseconds;
* compile time in a fresh process: cold (empty Numba cache) and cached, each including
  ``import socialdilemmas``, creating the vector and PettingZoo envs, one reset and one step.

Usage: ``python benchmarks/env_throughput.py [--quick] [--env ipd_v0 ...]``
Targets on the 2-core reference machine are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import socialdilemmas  # noqa: E402
from socialdilemmas.registration import env_class, env_ids, env_module  # noqa: E402

BATCHES = (1, 64, 1024, 8192)
#: variants benchmarked besides each env's default arguments
EXTRA_VARIANTS: dict[str, list[str]] = {
    "coin_game_v0": ["pax"],
    "negotiation_v0": ["continuous"],
}


def steps_per_second(env_id: str, kwargs: dict, batch: int, copy: bool, repeats: int) -> float:
    """Median env-steps/s of ``vec.step`` over ``repeats`` timed runs."""
    vec = socialdilemmas.make_vec(env_id, batch, seed=0, copy=copy, **kwargs)
    vec.reset()
    vec.action_space.seed(0)
    pool = [vec.action_space.sample() for _ in range(16)]
    calls = max(50, min(20000, 2_000_000 // batch))
    for k in range(20):
        vec.step(pool[k % 16])
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for k in range(calls):
            vec.step(pool[k & 15])
        rates.append(calls * batch / (time.perf_counter() - start))
    return statistics.median(rates)


def pettingzoo_microseconds(env_id: str, kwargs: dict, repeats: int) -> tuple[float, float]:
    """Median microseconds per parallel step and per AEC cycle (two agent steps)."""
    module = env_module(env_id)
    parallel = module.parallel_env(max_cycles=10**9, **kwargs)
    parallel.reset(seed=0)
    space = parallel.action_space("player_0")
    space.seed(0)
    pool = [{"player_0": space.sample(), "player_1": space.sample()} for _ in range(16)]
    calls = 20000
    parallel_times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for k in range(calls):
            parallel.step(pool[k & 15])
        parallel_times.append((time.perf_counter() - start) / calls * 1e6)
    aec = module.env(max_cycles=10**9, **kwargs)
    aec.reset(seed=0)
    cycles = 5000
    aec_times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for k in range(cycles):
            joint = pool[k & 15]
            aec.step(joint["player_0"])
            aec.step(joint["player_1"])
        aec_times.append((time.perf_counter() - start) / cycles * 1e6)
    return statistics.median(parallel_times), statistics.median(aec_times)


def startup_seconds(env_id: str, kwargs: dict, cache_dir: str) -> float:
    """Seconds for import + create + reset + step in a fresh process using ``cache_dir``."""
    code = (
        "import time; start = time.perf_counter()\n"
        "import socialdilemmas\n"
        "from socialdilemmas.registration import env_module\n"
        f"vec = socialdilemmas.make_vec({env_id!r}, 8, seed=0, **{kwargs!r})\n"
        "vec.reset(); vec.action_space.seed(0); vec.step(vec.action_space.sample())\n"
        f"env = env_module({env_id!r}).parallel_env(**{kwargs!r}); env.reset(seed=0)\n"
        "space = env.action_space('player_0')\n"
        "env.step({a: space.sample() for a in env.agents})\n"
        "print(time.perf_counter() - start)\n"
    )
    environ = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def human(rate: float) -> str:
    """1234567 -> '1.23 M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if rate >= size:
            return f"{rate / size:.3g} {unit}"
    return f"{rate:.3g}"


def main() -> None:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", nargs="*", default=None, help="env ids (default: all)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, no compile timing")
    args = parser.parse_args()
    repeats = 1 if args.quick else 5
    names = args.env or env_ids()
    print(
        f"numba {__import__('numba').__version__}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, repeats={repeats}"
    )
    for env_id in names:
        variants = ["default", *EXTRA_VARIANTS.get(env_id, [])]
        for variant in variants:
            kwargs = env_class(env_id).variants.get(variant, {})
            title = env_id if variant == "default" else f"{env_id} ({variant}: {kwargs})"
            print(f"\n### {title}\n")
            print("| measure | value |")
            print("|---|---:|")
            for batch in BATCHES:
                rate = steps_per_second(env_id, kwargs, batch, False, repeats)
                print(f"| vector step, batch {batch}, copy=False | {human(rate)} env-steps/s |")
            rate = steps_per_second(env_id, kwargs, BATCHES[-1], True, repeats)
            print(f"| vector step, batch {BATCHES[-1]}, copy=True | {human(rate)} env-steps/s |")
            parallel_us, aec_us = pettingzoo_microseconds(env_id, kwargs, repeats)
            print(f"| PettingZoo parallel step | {parallel_us:.2f} us |")
            print(f"| PettingZoo AEC cycle (2 agent steps) | {aec_us:.2f} us |")
            if not args.quick and variant == "default":
                with tempfile.TemporaryDirectory() as cache_dir:
                    cold = startup_seconds(env_id, kwargs, cache_dir)
                    cached = min(startup_seconds(env_id, kwargs, cache_dir) for _ in range(3))
                print(f"| import + create + reset + step, cold Numba cache | {cold:.2f} s |")
                print(f"| import + create + reset + step, warm Numba cache | {cached:.2f} s |")


if __name__ == "__main__":
    main()

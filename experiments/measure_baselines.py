"""Measure how each bundled baseline plays and write it into agents/baselines/catalog.json.

For every ``agents/baselines/<name>.pt``: self-play, and a match against always-defect in both
seat orders, ``EPISODES`` episodes per match at seed ``SEED`` (what
``tests/agents/test_baselines.py`` replays). The hand-written ``trained`` line of each entry is
kept; a new checkpoint needs one added before it is measured.

Usage (from the repository root)::

    python experiments/measure_baselines.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from agents.baselines import CATALOG_FILE, baseline_names, baseline_path, catalog  # noqa: E402
from agents.checkpoint import checkpoint_config, read_checkpoint  # noqa: E402

EPISODES = 64
SEED = 0


def measure(name: str) -> dict:
    """Self-play and the always-defect match of the bundled baseline ``name``."""
    from agents.evaluation import match
    from agents.loading import load_agent
    from agents.scripted import scripted_policy

    path = baseline_path(name)
    payload = read_checkpoint(path)
    config = checkpoint_config(payload, path)
    policy = load_agent(f"baseline:{name}", config.env_id, **config.env_kwargs)
    selfplay = match(
        policy, policy, config.env_id, episodes=EPISODES, seed=SEED, **config.env_kwargs
    )
    defect = scripted_policy("always_defect", config.env_id, **config.env_kwargs)
    versus = match(
        policy,
        defect,
        config.env_id,
        episodes=EPISODES,
        seed=SEED,
        both_seats=True,
        **config.env_kwargs,
    )
    measured = {
        "episodes": EPISODES,
        "seed": SEED,
        "self_play": round(sum(selfplay.rewards) / 2, 3),
        "vs_always_defect": round(versus.rewards[0], 3),
        "always_defect_gets": round(versus.rewards[1], 3),
    }
    if "own_coin_share" in selfplay.metrics:
        measured["own_coin_share"] = round(min(selfplay.metrics["own_coin_share"]), 3)
    return {
        "env_id": config.env_id,
        "env_kwargs": config.env_kwargs,
        "algorithm": payload["algorithm"],
        "measured": measured,
    }


def main() -> None:
    """Measure every bundled baseline and rewrite the catalog."""
    entries = catalog() if CATALOG_FILE.exists() else {}
    missing = [name for name in baseline_names() if "trained" not in entries.get(name, {})]
    if missing:
        raise SystemExit(f"add a 'trained' line to {CATALOG_FILE} for {missing}")
    out = {}
    for name in baseline_names():
        out[name] = {**measure(name), "trained": entries[name]["trained"]}
        print(name, json.dumps(out[name]["measured"]), flush=True)
    CATALOG_FILE.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

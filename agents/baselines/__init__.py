"""Trained checkpoints shipped inside the package, loadable by name without any training.

Each ``<name>.pt`` here is a slimmed checkpoint of a reproduction run (networks and config only:
no optimizer state, target critics or replay buffer, so it plays but does not resume). Load one
as a policy with the agent spec ``baseline:<name>``, e.g. in a league::

    socialdilemmas league --env ipd_v0 baseline:aa_ipd always_defect tit_for_tat --out league/

or from Python: ``agents.loading.load_agent("baseline:aa_ipd", "ipd_v0")``. ``catalog.json``
says for each how it was trained and how it plays (``socialdilemmas baselines`` prints it;
``experiments/measure_baselines.py`` measures it); ``docs/results.md`` has the runs. Listing
them needs no torch; playing and exporting do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: the folder holding the bundled ``.pt`` files
BASELINES_DIR = Path(__file__).resolve().parent


#: what each bundled checkpoint is: game, algorithm, how it was trained, measured play
CATALOG_FILE = BASELINES_DIR / "catalog.json"


def catalog() -> dict[str, dict[str, Any]]:
    """``{name: entry}`` of the bundled checkpoints, read from :data:`CATALOG_FILE`.

    Each entry has ``env_id``, ``env_kwargs``, ``algorithm``, ``trained`` (the preset, seed and
    iteration it was exported from) and ``measured``: its self-play reward per step and its match
    against always-defect (both seats, ``vs_always_defect`` and ``always_defect_gets``), with the
    episodes and seed they were measured with.
    """
    return json.loads(CATALOG_FILE.read_text())


def baseline_names() -> list[str]:
    """Names of the bundled checkpoints (file stems), sorted."""
    return sorted(path.stem for path in BASELINES_DIR.glob("*.pt"))


def baseline_path(name: str) -> Path:
    """Path of the bundled checkpoint ``name``; KeyError listing the known names otherwise.

    ``name`` must be one of :func:`baseline_names` exactly: a name with a path in it
    (``../../x``) never reaches a file outside the bundled folder.
    """
    if not isinstance(name, str) or name not in baseline_names():
        raise KeyError(f"no bundled baseline {name!r}; bundled: {baseline_names()}")
    path = BASELINES_DIR / f"{name}.pt"
    if path.resolve().parent != BASELINES_DIR or not path.is_file():
        raise KeyError(f"no bundled baseline {name!r}; bundled: {baseline_names()}")
    return path


def export_baseline(
    checkpoint: str | os.PathLike, out: str | os.PathLike, *, float16: bool = False
) -> Path:
    """Write a slim, play-only copy of ``checkpoint`` (a run's ``final.pt``) for bundling.

    Keeps the format header, algorithm, config, spaces, iteration and each agent's seats and
    network weights; drops optimizer states, target networks and anything else the learner
    saved (e.g. an agent replay buffer), which only matter for resuming. The learner's
    :meth:`~agents.algorithms.core.learner.Learner.playing_state` drops the parts of the network
    that acting never reads (LOQA's Q-critic). ``float16`` stores the weights in half precision
    (they are cast back to float32 on loading), halving the file.
    """
    from agents import require_extra

    require_extra("torch")
    import torch

    from agents.algorithms import get_algorithm
    from agents.checkpoint import read_checkpoint

    payload = read_checkpoint(checkpoint)
    learner_class = get_algorithm(payload["algorithm"]).learner_class
    config = dict(payload["config"])
    agents = []
    for agent in payload["learner"]["agents"]:
        config, network = learner_class.playing_state(config, agent["network"], payload["spaces"])
        if float16:
            network = {
                k: v.to(torch.float16) if v.is_floating_point() else v for k, v in network.items()
            }
        agents.append(
            {"seats": agent["seats"], "network": network, "optimizer": None, "target": None}
        )
    slim = {
        **{k: payload[k] for k in ("format", "format_version", "algorithm", "spaces")},
        "config": config,
        "learner": {"iteration": payload["learner"]["iteration"], "agents": agents},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(slim, out)
    return out


__all__ = ["BASELINES_DIR", "baseline_names", "baseline_path", "export_baseline"]

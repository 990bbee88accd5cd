"""Checkpoints: save a learner, restore it to continue training, load a policy to play.

A checkpoint is one ``torch.save`` file holding plain data only (read back with
``weights_only=True``, so loading never runs pickled code)::

    {"format": "socialdilemmas-checkpoint", "format_version": 1,
     "algorithm": "ppo", "config": {...config fields...},
     "spaces": {"observation": {...}, "action": {...}},
     "learner": {"iteration": 50, "agents": [{"seats", "network", "optimizer", "target"}]}}

Every way a file can be wrong (missing, truncated, not a checkpoint, a newer format, an unknown
algorithm, spaces that do not match the game, weights that do not fit the network) raises
:class:`CheckpointError` with a message naming the file and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

import socialdilemmas
from agents.algorithms import ALGORITHMS, Learner, LearnerConfig
from agents.nn import NetworkPolicy
from agents.policy import Policy

FORMAT = "socialdilemmas-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message says which file and why."""


def space_signature(space: spaces.Space) -> dict[str, Any]:
    """Describe a space as plain data, equal for equal spaces."""
    signature: dict[str, Any] = {"type": type(space).__name__, "shape": list(space.shape or ())}
    if isinstance(space, spaces.Discrete):
        signature["n"] = int(space.n)
    elif isinstance(space, spaces.MultiDiscrete):
        signature["nvec"] = np.asarray(space.nvec).tolist()
    elif isinstance(space, spaces.Box):
        signature["low"] = np.asarray(space.low, dtype=np.float64).ravel().tolist()
        signature["high"] = np.asarray(space.high, dtype=np.float64).ravel().tolist()
    return signature


def algorithm_name(learner: Learner) -> str:
    """Return the registry name of ``learner``'s algorithm."""
    for name, (config_class, learner_class) in ALGORITHMS.items():
        if type(learner) is learner_class and type(learner.config) is config_class:
            return name
    raise KeyError(f"{type(learner).__name__} is not in agents.algorithms.ALGORITHMS")


def save_checkpoint(learner: Learner, path: str | os.PathLike) -> Path:
    """Write ``learner``'s full state to ``path`` (atomically: a crash leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "algorithm": algorithm_name(learner),
        "config": learner.config.to_dict(),
        "spaces": {
            "observation": space_signature(learner.observation_space),
            "action": space_signature(learner.action_space),
        },
        "learner": learner.state_dict(),
    }
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)
    return path


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load and validate the checkpoint at ``path`` (its format, version and algorithm)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - the unpickler fails in many ways on bad bytes
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated (cannot be read: {error})"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a socialdilemmas checkpoint")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version}; this version of socialdilemmas "
            f"reads version {FORMAT_VERSION}"
        )
    missing = [key for key in ("algorithm", "config", "spaces", "learner") if key not in payload]
    if missing:
        raise CheckpointError(f"checkpoint {path} is incomplete: missing {missing}")
    if payload["algorithm"] not in ALGORITHMS:
        raise CheckpointError(
            f"checkpoint {path} was written by algorithm {payload['algorithm']!r}, which is not "
            f"registered here (known: {sorted(ALGORITHMS)})"
        )
    return payload


def checkpoint_config(payload: dict[str, Any], path: str | os.PathLike = "") -> LearnerConfig:
    """Return the config stored in a checkpoint, as its algorithm's config class."""
    config_class = ALGORITHMS[payload["algorithm"]][0]
    try:
        return config_class.from_dict(payload["config"])
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"checkpoint {path} holds an invalid config: {error}") from error


def _check_spaces(
    payload: dict[str, Any],
    observation_space: spaces.Space,
    action_space: spaces.Space,
    path: str | os.PathLike,
) -> None:
    for kind, space in (("observation", observation_space), ("action", action_space)):
        saved = payload["spaces"][kind]
        if saved != space_signature(space):
            trained_on = payload.get("config", {})
            raise CheckpointError(
                f"checkpoint {path} was trained with {kind} space {saved}, but the game has "
                f"{space_signature(space)}; it was trained on {trained_on.get('env_id')} "
                f"with env arguments {trained_on.get('env_kwargs')}: play it in that game"
            )


def restore_learner(
    path: str | os.PathLike,
    algorithm: str | None = None,
    opponent: Policy | None = None,
    **overrides: Any,
) -> Learner:
    """Rebuild the learner saved at ``path`` so that training continues where it stopped.

    Args:
        path: a checkpoint written by :func:`save_checkpoint`.
        algorithm: if given, the algorithm the checkpoint must have been written by.
        opponent: the fixed seat-1 opponent, for a run that was trained against one.
        **overrides: config fields to change (e.g. ``iterations`` to extend a run).

    """
    payload = read_checkpoint(path)
    if algorithm is not None and payload["algorithm"] != algorithm:
        raise CheckpointError(
            f"checkpoint {path} was written by algorithm {payload['algorithm']!r}, not "
            f"{algorithm!r}"
        )
    config = checkpoint_config(payload, path)
    if overrides:
        config = type(config).from_dict({**config.to_dict(), **overrides})
    learner = ALGORITHMS[payload["algorithm"]][1](config, opponent)
    _check_spaces(payload, learner.observation_space, learner.action_space, path)
    try:
        learner.load_state_dict(payload["learner"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise CheckpointError(
            f"checkpoint {path} does not match the {payload['algorithm']} network its config "
            f"describes: {error}"
        ) from error
    return learner


def load_policy(
    path: str | os.PathLike,
    seat: int = 0,
    deterministic: bool = False,
    env: socialdilemmas.VectorEnv | None = None,
    name: str | None = None,
) -> NetworkPolicy:
    """Load the policy that played ``seat`` in the checkpointed run, to play any seat anywhere.

    Args:
        path: a checkpoint written by :func:`save_checkpoint`.
        seat: whose policy to take when two independent learners were trained.
        deterministic: play the most likely action instead of sampling.
        env: the game it will play; its spaces must match the checkpoint's (checked).
        name: label in tables (default: the file name and seat).

    """
    payload = read_checkpoint(path)
    config = checkpoint_config(payload, path)
    if env is None:
        env = socialdilemmas.make_vec(config.env_id, 1, **config.env_kwargs)
    _check_spaces(payload, env.single_observation_space, env.single_action_space, path)
    if seat not in (0, 1):
        raise ValueError(f"seat must be 0 or 1, got {seat!r}")
    agents = payload["learner"]["agents"]
    saved = next((agent for agent in agents if seat in agent["seats"]), None)
    if saved is None:
        raise CheckpointError(f"checkpoint {path} has no agent for seat {seat}")
    learner_class = ALGORITHMS[payload["algorithm"]][1]
    network = learner_class.build_policy_network(
        config, env.single_observation_space, env.single_action_space
    )
    try:
        network.load_state_dict(saved["network"])
    except RuntimeError as error:
        raise CheckpointError(
            f"checkpoint {path} does not match the network its config describes: {error}"
        ) from error
    network.eval()
    label = name or f"{Path(path).stem}[{seat}]"
    return NetworkPolicy(network, name=label, deterministic=deterministic)

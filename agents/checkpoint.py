"""Checkpoints: save a learner, restore it to continue training, load a policy to play.

A checkpoint is one ``torch.save`` file holding plain data only (read back with
``weights_only=True``, so loading never runs pickled code)::

    {"format": "socialdilemmas-checkpoint", "format_version": 1,
     "algorithm": "ppo", "config": {...config fields...},
     "spaces": {"observation": {...}, "action": {...}},
     "learner": {"iteration": 50, "agents": [{"seats", "network", "optimizer", "target"}]}}

Every way a file can be wrong (missing, truncated, not a checkpoint, a newer format, an unknown
algorithm, a malformed structure, spaces that do not match the game, weights that do not fit
the network, NaN or infinite weights) raises :class:`CheckpointError` with a message naming the
file and the problem. A file that holds pickled objects or code (anything but tensors and plain
data) is refused as "not a plain checkpoint"; it is never retried with ``weights_only=False``.

Writes are atomic (a temporary file renamed over the target, so a crash leaves the previous
file or none), and a full or read-only disk raises :class:`DiskWriteError` naming the file
("no space left on device writing runs/x/checkpoints/final.pt") after removing the temporary
file.
"""

from __future__ import annotations

import errno
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

import socialdilemmas
from agents.algorithms import ALGORITHMS, Learner, LearnerConfig
from agents.devices import resolve_device
from agents.nn import NetworkPolicy
from agents.policy import Policy

FORMAT = "socialdilemmas-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message says which file and why."""


class DiskWriteError(OSError):
    """Writing a file failed (full disk, read-only folder, file-size limit); names the file.

    ``errno`` is the operating system's error number (``errno.ENOSPC`` for a full disk).
    """

    def __str__(self) -> str:
        return str(self.strerror)


def disk_write_error(error: OSError, path: str | os.PathLike) -> DiskWriteError:
    """Turn an OSError raised while writing ``path`` into a one-line :class:`DiskWriteError`."""
    if isinstance(error, DiskWriteError):
        return error
    reason = os.strerror(error.errno).lower() if error.errno else str(error)
    return DiskWriteError(error.errno or errno.EIO, f"{reason} writing {path}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed over it (fsynced first).

    On any OSError the temporary file is removed and :class:`DiskWriteError` is raised; the
    previous content of ``path`` (if any) is left untouched.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise disk_write_error(error, path) from error
    return path


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


def save_checkpoint(
    learner: Learner, path: str | os.PathLike, state: dict[str, Any] | None = None
) -> Path:
    """Write ``learner``'s full state to ``path`` (atomically: a crash leaves no half file).

    Args:
        learner: the learner (its algorithm, config and spaces go into the file).
        path: where to write; the folder is created if needed.
        state: the learner state to store instead of ``learner.state_dict()`` (the training
            loop stores the last finite state of a run that diverged).

    Raises:
        DiskWriteError: the disk is full or read-only; no partial file is left.

    """
    path = Path(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "algorithm": algorithm_name(learner),
        "config": learner.config.to_dict(),
        "spaces": {
            "observation": space_signature(learner.observation_space),
            "action": space_signature(learner.action_space),
        },
        "learner": learner.state_dict() if state is None else state,
    }
    # serialised in memory first: torch.save on a full disk fails with an opaque
    # "[enforce fail at inline_container.cc]" RuntimeError instead of an OSError
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load and validate the checkpoint at ``path`` (its format, version and algorithm)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    payload = _load_plain(path)
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
    if not isinstance(payload["algorithm"], str) or payload["algorithm"] not in ALGORITHMS:
        raise CheckpointError(
            f"checkpoint {path} was written by algorithm {payload['algorithm']!r}, which is not "
            f"registered here (known: {sorted(ALGORITHMS)})"
        )
    _check_structure(payload, path)
    _check_finite_agents(payload["learner"]["agents"], path)
    return payload


def _load_plain(path: Path) -> Any:
    """``torch.load(weights_only=True)``, its failures told apart: refused pickles vs bad bytes."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        reason = _unpickler_reason(error)
        if "global" in reason.lower():
            # The safe unpickler met a reference to a class or function (os.system, a custom
            # class...): pickled code or objects. Its message advises weights_only=False,
            # which would run them; that advice is not passed on.
            raise CheckpointError(
                f"checkpoint {path} refused: not a plain checkpoint ({reason}); a "
                "socialdilemmas checkpoint holds only tensors and plain data, and a file that "
                "holds pickled objects or code is never loaded"
            ) from None
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated (cannot be read: {reason})"
        ) from None
    except Exception as error:  # noqa: BLE001 - the zip reader fails in many ways on bad bytes
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated (cannot be read: "
            f"{type(error).__name__}: {_first_line(error)})"
        ) from None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def _unpickler_reason(error: Exception) -> str:
    """The line of torch's weights-only error that says what it rejected, without its advice."""
    for line in str(error).splitlines():
        line = line.strip().removeprefix("WeightsUnpickler error:").strip()
        if "global" in line.lower() or "unsupported" in line.lower():
            return line.split(". ")[0].rstrip(".")  # its first sentence; the rest is advice
    return _first_line(error) or "rejected by torch's weights-only loader"


def _is_state_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()
    )


def _check_structure(payload: dict[str, Any], path: str | os.PathLike) -> None:
    """Raise CheckpointError unless every part the loaders read has the documented shape."""

    def fail(problem: str) -> None:
        raise CheckpointError(f"checkpoint {path} is malformed: {problem}")

    if not isinstance(payload["config"], dict):
        fail(f"'config' must be a dict of config fields, got {type(payload['config']).__name__}")
    saved_spaces = payload["spaces"]
    if not isinstance(saved_spaces, dict) or not all(
        isinstance(saved_spaces.get(kind), dict) for kind in ("observation", "action")
    ):
        fail("'spaces' must be a dict with 'observation' and 'action' space descriptions")
    learner = payload["learner"]
    if not isinstance(learner, dict):
        fail(f"'learner' must be a dict, got {type(learner).__name__}")
    iteration = learner.get("iteration")
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        fail(f"'learner.iteration' must be a non-negative integer, got {iteration!r}")
    agents = learner.get("agents")
    if not isinstance(agents, list) or not agents:
        fail(f"'learner.agents' must be a non-empty list, got {agents!r:.80}")
    for index, agent in enumerate(agents):
        where = f"learner.agents[{index}]"
        if not isinstance(agent, dict):
            fail(f"'{where}' must be a dict, got {type(agent).__name__}")
        seats = agent.get("seats")
        if (
            not isinstance(seats, (list, tuple))
            or not seats
            or not all(type(seat) is int and seat in (0, 1) for seat in seats)
            or len(set(seats)) != len(seats)
        ):
            fail(f"'{where}.seats' must list distinct seats 0 and/or 1, got {seats!r:.80}")
        if not _is_state_dict(agent.get("network")):
            fail(f"'{where}.network' must be a state dict (names -> tensors)")
        if agent.get("target") is not None and not _is_state_dict(agent["target"]):
            fail(f"'{where}.target' must be None or a state dict (names -> tensors)")
        if agent.get("optimizer") is not None and not isinstance(agent["optimizer"], dict):
            fail(f"'{where}.optimizer' must be None or an optimizer state dict")


def _tensors(value: Any, where: str):
    """Yield ``(location, tensor)`` for every tensor nested in dicts and lists of ``value``."""
    if isinstance(value, torch.Tensor):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _tensors(
                item, f"{where}.{key}" if isinstance(key, str) else f"{where}[{key!r}]"
            )
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _tensors(item, f"{where}[{index}]")


def _all_tensors(value: Any, out: list[torch.Tensor]) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _all_tensors(item, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _all_tensors(item, out)
    return out


def non_finite_entries(value: Any, where: str = "") -> list[str]:
    """Locations of the floating-point tensors nested in ``value`` holding a NaN or an inf."""
    floats = [t for t in _all_tensors(value, []) if t.is_floating_point()]
    if all(bool(torch.isfinite(t).all()) for t in floats):  # the usual case, without names
        return []
    return [
        location
        for location, tensor in _tensors(value, where)
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]


def _check_finite_agents(agents: list[dict[str, Any]], path: str | os.PathLike) -> None:
    bad = non_finite_entries(agents, "learner.agents")
    if bad:
        raise CheckpointError(
            f"checkpoint {path} holds NaN or infinite weights ({describe_locations(bad)}): the "
            "run that wrote it diverged; use an earlier checkpoint"
        )


def describe_locations(locations: list[str], shown: int = 3) -> str:
    """The first ``shown`` locations, and how many there are in all if more."""
    text = ", ".join(locations[:shown])
    return text + (f" ({len(locations)} in all)" if len(locations) > shown else "")


def checkpoint_config(payload: dict[str, Any], path: str | os.PathLike = "") -> LearnerConfig:
    """Return the config stored in a checkpoint, as its algorithm's config class."""
    config_class = ALGORITHMS[payload["algorithm"]][0]
    try:
        return config_class.from_dict(payload["config"])
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"checkpoint {path} holds an invalid config: {error}") from error


class GameMismatchError(CheckpointError):
    """A checkpoint asked to play a game whose spaces differ from those it was trained with.

    ``trained_env_id`` and ``trained_env_kwargs`` are the game it was trained on, so that a
    caller who knows the requested game can name the argument that differs; ``difference``
    says which space differs, in a few words.
    """

    def __init__(
        self, message: str, trained_env_id: Any, trained_env_kwargs: Any, difference: str
    ) -> None:
        super().__init__(message)
        self.trained_env_id = trained_env_id
        self.trained_env_kwargs = trained_env_kwargs
        self.difference = difference


def describe_space(signature: dict[str, Any]) -> str:
    """A space signature (:func:`space_signature`) in a few words: ``Box(4, 3, 3)``, ..."""
    kind, shape = signature.get("type"), tuple(signature.get("shape") or ())
    if kind == "Discrete":
        return f"Discrete({signature.get('n')})"
    if kind == "MultiDiscrete":
        return f"MultiDiscrete({signature.get('nvec')})"
    text = f"{kind}{shape}"
    low, high = signature.get("low"), signature.get("high")
    if low and high and len(set(low)) == 1 and len(set(high)) == 1:
        text += f" in [{low[0]:g}, {high[0]:g}]"
    return text


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
            env_id, env_kwargs = trained_on.get("env_id"), trained_on.get("env_kwargs")
            difference = (
                f"its {kind} space is {describe_space(saved)}, this game's "
                f"{describe_space(space_signature(space))}"
            )
            raise GameMismatchError(
                f"checkpoint {path} was trained on {env_id} with env arguments {env_kwargs}: "
                f"{difference}; play it in the game it was trained on",
                env_id,
                env_kwargs,
                difference,
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
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
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
    device: str = "cpu",
) -> NetworkPolicy:
    """Load the policy that played ``seat`` in the checkpointed run, to play any seat anywhere.

    Args:
        path: a checkpoint written by :func:`save_checkpoint`.
        seat: whose policy to take when two independent learners were trained.
        deterministic: play the most likely action instead of sampling.
        env: the game it will play; its spaces must match the checkpoint's (checked).
        name: label in tables (default: the file name, plus "(seat N)" when the checkpoint
            holds two independent learners and so needs the seat to tell them apart).
        device: where the network acts (``"auto"``: CUDA when available); the observations
            move there once per step.

    """
    payload = read_checkpoint(path)
    config = checkpoint_config(payload, path)
    target_device = resolve_device(device)
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
    except (RuntimeError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(
            f"checkpoint {path} does not match the network its config describes: {error}"
        ) from error
    network.eval()
    label = name or Path(path).stem
    if name is None and len(agents) > 1:
        label = f"{label} (seat {seat})"
    return NetworkPolicy(network.to(target_device), name=label, deterministic=deterministic)

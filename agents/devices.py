"""Where the learners' tensors live: a ``device`` setting, resolved once.

The environments always run on the CPU (their kernels are Numba over NumPy arrays). A learner
on another device keeps its networks and its update there; observations move to it once per
step and actions come back once, and every random draw is made on the CPU from the run's
seeded generators and then moved, so a run on a GPU draws the same numbers as on the CPU.
"""

from __future__ import annotations

import torch

#: the device names besides torch's own (``cpu``, ``cuda``, ``cuda:1``, ``mps``, ...)
AUTO = "auto"


def resolve_device(name: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when it is available, else the CPU; any torch device name as is.

    Raises ValueError for a name torch does not know, or a CUDA device on a machine without
    one, naming the problem.
    """
    if isinstance(name, torch.device):
        return name
    if not isinstance(name, str):
        raise TypeError(f"device must be a string such as 'cpu', 'cuda' or 'auto', got {name!r}")
    if name == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"device {name!r} is not a torch device ({error})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {name!r} asks for CUDA, which this machine does not have (torch "
            f"{torch.__version__}); use 'cpu' or 'auto'"
        )
    return device


def check_device_name(name: str) -> None:
    """Raise ValueError unless ``name`` is ``"auto"`` or a device name torch can parse.

    Whether the device exists is checked when a learner is built (:func:`resolve_device`),
    so a config saved on a GPU machine still loads on one without.
    """
    if name == AUTO:
        return
    if not isinstance(name, str):
        raise TypeError(f"device must be a string such as 'cpu', 'cuda' or 'auto', got {name!r}")
    try:
        torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"device {name!r} is not a torch device ({error})") from None


def draw_device(generator: torch.Generator | None, like: torch.Tensor) -> torch.device:
    """The device a draw from ``generator`` is made on: the generator's, else ``like``'s."""
    return generator.device if generator is not None else like.device


__all__ = ["AUTO", "check_device_name", "draw_device", "resolve_device"]

"""Argument checks shared by every env constructor, with messages that name the problem."""

from __future__ import annotations

import numbers

import numpy as np

#: the largest integer the kernels' int64 state (step counts, sizes) can hold
MAX_INT64 = int(np.iinfo(np.int64).max)


def check_positive_int(value: object, name: str, minimum: int = 1, maximum: int = MAX_INT64) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in [minimum, maximum].

    The default maximum is what the kernels' int64 arrays hold: a larger value would be accepted
    here and then overflow at the first step.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if int(value) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if int(value) > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return int(value)


def check_probability(value: object, name: str) -> float:
    """Return ``value`` as a float in [0, 1], or raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)
